"""Property tests over every marshmallow schema of the API.

* Whatever a client sends, ``load`` either returns data or raises ``ValidationError``
  (which the app answers with a 422) — never anything else, which would be a 500.
* What a schema dumps, the same schema loads back to the same data: a response can be read
  with the schema that describes it, and a request can be echoed and sent again unchanged.
"""

from __future__ import annotations

import importlib
import inspect
import re
from datetime import UTC

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from market.api.schemas import Normalized, Text, UtcDateTime
from market.markets.schemas import Code
from market.merchants import values
from market.vietqr import all_banks

SCHEMA_MODULES = (
    "market.api.schemas",
    "market.api.pagination",
    "market.markets.schemas",
    "market.merchants.schemas",
)


def all_schemas() -> list[type[Schema]]:
    """Every schema the schema modules define, and every one an API view uses."""
    from market.app import create_app

    found: dict[str, type[Schema]] = {}
    for name in SCHEMA_MODULES:
        for _, obj in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(obj, Schema) and obj.__module__ == name:
                found[f"{obj.__module__}.{obj.__name__}"] = obj
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for view in app.view_functions.values():
        op = getattr(view, "operation", None)
        for schema in (op.query, op.body, op.response) if op else ():
            if schema is not None:
                found.setdefault(f"{schema.__module__}.{schema.__name__}", schema)
    return sorted(found.values(), key=lambda s: (s.__module__, s.__name__))


SCHEMAS = all_schemas()

# --- strategies ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
BANKS = all_banks()

# Values the domain's normalisers accept, as people type them.
NORMALIZED = {
    values.normalize_phone: st.from_regex(r"(\+84|0)9\d{8}", fullmatch=True),
    values.normalize_full_name: st.from_regex(
        r"[A-Za-zÀ-ỹ]{1,10}( [A-Za-zÀ-ỹ]{1,10}){0,3}", fullmatch=True
    ),
    values.normalize_tax_code: st.from_regex(r"\d{10}(-\d{3})?|\d{12}", fullmatch=True),
    values.normalize_holder_name: st.from_regex(
        r"[A-Za-z]{1,10}( [A-Za-z]{1,10}){0,3}", fullmatch=True
    ),
}


def _validators(field: fields.Field, kind: type) -> list:
    return [v for v in field.validators if isinstance(v, kind)]


def _text(field: fields.Field) -> st.SearchStrategy[str]:
    lengths = _validators(field, validate.Length)
    low = max([v.min or 0 for v in lengths], default=0)
    high = min([v.max for v in lengths if v.max is not None], default=40)
    return st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=low, max_size=high
    )


def valid_value(field: fields.Field) -> st.SearchStrategy:
    """A JSON value that this field should accept (its rules read from its validators)."""
    if isinstance(field, fields.Nested):
        return valid_dict(field.schema)
    if isinstance(field, fields.List):
        return st.lists(valid_value(field.inner), max_size=3)
    if isinstance(field, fields.Boolean):
        return st.booleans()
    if isinstance(field, fields.Integer):
        ranges = _validators(field, validate.Range)
        low = max([r.min for r in ranges if r.min is not None], default=-(2**31))
        high = min([r.max for r in ranges if r.max is not None], default=2**31)
        return st.integers(low, high)
    if isinstance(field, UtcDateTime):
        return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    if isinstance(field, fields.Date):
        return st.dates().map(lambda d: d.isoformat())
    if isinstance(field, fields.Dict):
        return st.dictionaries(st.text(max_size=10), JSON, max_size=3)
    if isinstance(field, fields.Raw) and not isinstance(field, fields.String):
        return JSON
    choices = _validators(field, validate.OneOf)
    if choices:
        return st.sampled_from(list(choices[0].choices))
    if isinstance(field, Normalized):
        if field.normalize in NORMALIZED:
            return NORMALIZED[field.normalize]
        return st.sampled_from([b.bin for b in BANKS] + [b.code for b in BANKS])  # bank
    if isinstance(field, Code):
        return st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,19}", fullmatch=True)
    patterns = _validators(field, validate.Regexp)
    if patterns:
        return st.from_regex(patterns[0].regex, fullmatch=True)
    if field.name == "account_number":
        return st.from_regex(r"\d{16,19}", fullmatch=True)  # an account and a card number
    return _text(field)


def valid_dict(schema: Schema) -> st.SearchStrategy[dict]:
    required, optional = {}, {}
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        key = field.data_key or name
        value = valid_value(field)
        if field.allow_none:
            value = st.none() | value
        (required if field.required else optional)[key] = value
    return st.fixed_dictionaries(required, optional=optional)


def any_dict(schema: Schema) -> st.SearchStrategy:
    """What a client might send: right keys with right or junk values, stray keys, non-dicts."""
    keys = [f.data_key or n for n, f in schema.fields.items()]
    value_for = {f.data_key or n: valid_value(f) | JSON for n, f in schema.fields.items()}
    mixed = st.fixed_dictionaries({}, optional={k: value_for[k] for k in keys})
    stray = st.dictionaries(st.text(max_size=8), JSON, max_size=3)
    return st.one_of(
        mixed,
        st.tuples(mixed, stray).map(lambda pair: {**pair[1], **pair[0]}),
        JSON,
    )


# --- properties ------------------------------------------------------------------------------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _name(schema: type[Schema]) -> str:
    return schema.__name__


def test_every_schema_module_is_covered():
    assert {s.__module__ for s in SCHEMAS} >= set(SCHEMA_MODULES)
    assert len(SCHEMAS) >= 20


@pytest.mark.parametrize("schema_class", SCHEMAS, ids=_name)
def test_load_raises_only_validation_error(schema_class):
    schema = schema_class()

    @FUZZ
    @given(any_dict(schema))
    def check(data):
        try:
            schema.load(data)
        except ValidationError as exc:
            assert exc.messages  # something for the client to read

    check()


@pytest.mark.parametrize("schema_class", SCHEMAS, ids=_name)
def test_dump_then_load_round_trips(schema_class):
    schema = schema_class()

    @FUZZ
    @given(valid_dict(schema))
    def check(data):
        try:
            loaded = schema.load(data)
        except ValidationError:
            reject()
        assert schema.load(schema.dump(loaded)) == loaded

    check()


def test_text_fields_refuse_what_a_database_cannot_store():
    for bad in ("a\x00b", "\ud800", "line\x07"):
        with pytest.raises(ValidationError):
            Text().deserialize(bad)
    assert Text().deserialize("  Chợ \t Thái\n ") == "Chợ Thái"


def test_a_naive_datetime_is_dumped_as_utc():
    from datetime import datetime

    field = UtcDateTime()
    assert (
        field.serialize("at", {"at": datetime(2026, 1, 2, 3, 4, 5)}) == "2026-01-02T03:04:05+00:00"
    )
    assert re.fullmatch(r".*\+00:00", field.serialize("at", {"at": datetime.now(UTC)}))
