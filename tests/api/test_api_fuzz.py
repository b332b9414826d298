"""Schemathesis against the live OpenAPI document, with a seeded database and an admin token.

Every operation gets generated requests through the WSGI app, valid ones and invalid ones,
at random paths and at the seeded markets, stalls, payees and merchants: no answer may be a
5xx, and every answer must match the document (status code, content type, body schema).

(Schemathesis's own pytest runner needs pytest internals that pytest 9 dropped, so each
operation is a plain pytest case driving ``APIOperation.as_strategy`` with Hypothesis.)
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from market.api.openapi import build_spec
from market.app import create_app
from market.extensions import db
from market.markets.models import Stall
from market.merchants.models import PayeeAccount

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded so the whole run (every operation, both databases) stays under two minutes; raise
# it for a longer hunt: API_FUZZ_EXAMPLES=500 pytest tests/api/test_api_fuzz.py
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
METHODS = {"get", "post", "put", "patch", "delete"}


def _operations() -> list[tuple[str, str, bool]]:
    """(method, path, takes input besides the path) of every documented operation."""
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        spec = build_spec(app)
    return [
        (method.upper(), path, bool(op.get("parameters") or op.get("requestBody")))
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


OPERATIONS = _operations()


def _seed(world) -> dict[str, list]:
    """Stalls in every QR state next to the world's ready one; the path values to aim at."""
    market = world.market_a
    vacant = Stall(market=market, code="A-02", status="vacant")
    unverified = Stall(market=market, code="A-03", category="thit")
    missing = Stall(market=market, code="A-04", zone="Khu C")
    db.session.add_all([vacant, unverified, missing])
    db.session.flush()
    card = PayeeAccount(
        stall=unverified,
        bank_bin="970422",
        account_number="4111111111111111",
        service="card",
        holder_name="LE VAN AN",
    )
    db.session.add(card)
    db.session.commit()
    return {
        "code": ["TN-A", "TN-B"],
        "stall_code": ["A-01", "A-02", "A-03", "A-04"],
        "payee_id": [world.payee_a.id, card.id],
        "merchant_id": [world.merchant_a.id, world.merchant_b.id],
    }


def _cases(operation, path: str, takes_input: bool, known: dict[str, list]):
    names = [name for name in known if "{" + name + "}" in path]
    seeded_paths = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    if names:
        strategies.append(
            seeded_paths.flatmap(
                lambda values: operation.as_strategy(
                    GenerationMode.POSITIVE, path_parameters=values
                )
            )
        )
    if takes_input:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
        if names:
            strategies.append(
                seeded_paths.flatmap(
                    lambda values: operation.as_strategy(
                        GenerationMode.NEGATIVE, path_parameters=values
                    )
                )
            )
    return st.one_of(strategies)


@pytest.mark.parametrize(
    ("method", "path", "takes_input"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_api_answers_match_the_document_and_never_fail(
    app, world, token_for, method, path, takes_input
):
    known = _seed(world)
    headers = {"Authorization": f"Bearer {token_for('admin')}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(_cases(operation, path, takes_input, known))
    def check(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        finally:
            db.session.rollback()  # the app's session is the test's: each call starts clean

    check()
