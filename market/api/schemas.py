"""Shapes every API domain shares: the error body, text and date fields, normalised strings."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields

# Market and stall codes, which also name things in API paths (see ``market.markets.forms``).
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,19}$"

# Characters PostgreSQL cannot store (NUL) or UTF-8 cannot encode (lone surrogates), and
# other control characters nobody types into a form: refused before they reach a query.
# (Tabs and line breaks are whitespace, which text fields fold into single spaces.)
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def _check_text(value: str) -> str:
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES and not ch.isspace() for ch in value):
        raise ValidationError(str(_l("Có ký tự điều khiển không hợp lệ.")))
    return unicodedata.normalize("NFC", value)


class Text(fields.String):
    """A line of text: NFC, runs of whitespace made one space, outer spaces removed."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return " ".join(_check_text(text).split())


class Normalized(fields.String):
    """A string checked and put in normal form by one of the domain's ``normalize_*``
    functions, whose ``ValueError`` message becomes the field's message."""

    def __init__(self, normalize: Callable[[str], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.normalize = normalize

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = _check_text(super()._deserialize(value, attr, data, **kwargs))
        try:
            return self.normalize(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class UtcDateTime(fields.DateTime):
    """ISO 8601 with its offset, always UTC (SQLite gives back naive datetimes, all UTC)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any):
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ErrorDetailSchema(Schema):
    status = fields.Integer(required=True, metadata={"description": "The HTTP status."})
    message = fields.String(required=True, metadata={"description": "For a person to read."})
    # "fields" is a Schema attribute, so the Python name differs from the JSON one.
    field_messages = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": "Messages by input field (422 only)."},
    )


class ErrorSchema(Schema):
    """The one shape of every error (``market.errors.error_body``)."""

    error = fields.Nested(ErrorDetailSchema, required=True)
