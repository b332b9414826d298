"""Hostile input on every HTML page and form, as tests/api/test_api_fuzz.py does for the API
(issue 17, item 8): whatever the query string, the form fields or the path values, no answer
is a 5xx, and a refused request (4xx) changes nothing in the database.

Every route of the main app outside the API is exercised: GET with random query parameters
(the names the pages read, and others), POST with the route's own form (its current values,
read from its page) where some fields are replaced by hostile values. The examples are few
per route and derandomized, so both databases run in well under a minute; raise
PAGES_FUZZ_EXAMPLES for a longer hunt.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from market.extensions import db
from market.markets.models import Stall
from market.payments.models import CollectOrder
from tests.conftest import Auth

MAX_EXAMPLES = int(os.environ.get("PAGES_FUZZ_EXAMPLES", "5"))

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999999",
    str(2**63),
    str(-(2**63) - 1),
    "9" * 5000,
    "x" * 5000,
    "\x00",
    "a\x00b",
    "\x07\x1b[31m",
    '=HYPERLINK("http://x")',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%n%x",
    "../../etc/passwd",
    "Chợ 🍉",
    "市場",
    "\u202eABC",
    "٣٣٣",
    "²",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "true",
    "on",
    "A-01",
    "TN-B",
]
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers().map(str),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
)
QUERY_NAMES = [
    "page",
    "per_page",
    "q",
    "status",
    "district",
    "qr",
    "audit",
    "amount",
    "purpose",
    "layout",
    "size",
    "next",
    "text_size",
    "market",
    "period",
    "day",
    "zone",
    "x",
]
PATH_HOSTILE = ["ZZ-9", "9" * 30, "%00", "A-01%20", "..", "-1"]
SKIPPED = {"auth.logout", "static"}
MERCHANT_ROUTES = ("payments.collect", "payments.today", "payments.collect_order")
_FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def _state() -> tuple:
    """Row counts of every table (one statement), and the registry's rows: what a refused
    request must not change. Users' rows are left out (a login attempt may note its time)."""
    db.session.rollback()
    counts = db.session.execute(
        select(
            *(
                select(func.count()).select_from(table).scalar_subquery()
                for table in db.metadata.sorted_tables
            )
        )
    ).one()
    rows = tuple(
        tuple(map(tuple, db.session.execute(select(table).order_by(*table.primary_key)).all()))
        for table in db.metadata.sorted_tables
        if table.name in ("markets", "stalls", "merchants", "payee_accounts")
    )
    return tuple(counts), rows


def _form_values(html: str) -> dict[str, str]:
    """Field name -> current value of the forms on a page (the CSRF token left out)."""
    values: dict[str, str] = {}
    for _tag, attrs in _FIELD.findall(html):
        found = dict(_ATTR.findall(attrs))
        name = found.get("name")
        if not name or name == "csrf_token":
            continue
        if found.get("type") in ("checkbox", "radio") and "checked" not in attrs:
            continue
        values.setdefault(name, found.get("value", ""))
    return values


def _known(world) -> dict[str, list[str]]:
    db.session.add(Stall(market_id=world.market_a.id, code="A-02", status="vacant"))
    order = CollectOrder(stall_id=world.stall_a.id, reference="A01 FZ01", amount=25_000)
    db.session.add(order)
    db.session.commit()
    return {
        "code": ["TN-A", "TN-B", "vi", "en"],
        "market_code": ["TN-A", "TN-B"],
        "stall_code": ["A-01", "A-02", "B-01"],
        "fmt": ["csv", "xlsx", "png", "svg", "pdf"],
        "provider": ["sepay", "casso", "momo"],
        "payee_id": [str(world.payee_a.id), str(world.payee_b.id)],
        "order_id": [str(order.id)],
        "token_id": ["1"],
        "batch_id": ["1"],
    }


def _paths(rule, known: dict[str, list[str]]):
    names = sorted(rule.arguments)
    choices = {name: st.sampled_from(known.get(name, ["x"]) + PATH_HOSTILE) for name in names}

    def build(values: dict[str, str]) -> str:
        path = rule.rule
        for name, value in values.items():
            path = re.sub(r"<(?:[^:>]+:)?" + name + r">", quote(value, safe="%"), path)
        return path

    return st.fixed_dictionaries(choices).map(build)


def _check(client, method: str, url: str, data: dict | None) -> None:
    before = _state()
    response = client.open(url, method=method, data=data)
    try:
        assert response.status_code < 500, (method, url, data, response.status_code)
        if response.status_code >= 400:
            assert _state() == before, (method, url, data, response.status_code)
    finally:
        response.close()
        db.session.rollback()


def test_no_page_or_form_answers_5xx_and_refusals_change_nothing(app, world, client):
    known = _known(world)
    auth = Auth(client)
    # Logged in again before every route (a fuzzed login or logout may have changed who is).
    app.config["LOGIN_RATE_LIMIT"] = "100000 per minute"
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/") and rule.endpoint not in SKIPPED
    ]
    fuzz = settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    for rule in sorted(rules, key=lambda r: r.rule):
        user = "merchant" if rule.endpoint in MERCHANT_ROUTES else "admin"
        client.delete_cookie("session")
        assert auth.login(user).status_code == 302
        paths = _paths(rule, known)
        if "GET" in rule.methods:
            _fuzz_get(client, paths, fuzz)
        if "POST" in rule.methods:
            page = rule.rule if not rule.arguments else None
            base = _form_values(client.get(page).get_data(as_text=True)) if page else {}
            _fuzz_post(client, paths, base, "GET" in rule.methods and not base, fuzz)


def _fuzz_get(client, paths, fuzz) -> None:
    @fuzz
    @given(paths, st.dictionaries(st.sampled_from(QUERY_NAMES), VALUES, max_size=4))
    def get(path, query):
        _check(client, "GET", path + ("?" + _query(query) if query else ""), None)

    get()


def _fuzz_post(client, paths, base: dict, reads_form: bool, fuzz) -> None:
    """POST the route's form (its page's current values, ``base`` or read from the page at
    the drawn path) with up to three fields made hostile."""

    @fuzz
    @given(paths, st.data())
    def post(path, data):
        fields = _form_values(client.get(path).get_data(as_text=True)) if reads_form else base
        names = sorted(fields) or ["value", "name", "code"]
        hostile = data.draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=3))
        _check(client, "POST", path, dict(fields) | hostile)

    post()


def _query(query: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items())
