"""Commands of fee payments: ``flask fees-reconcile``, ``flask fees-import-statement``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask

from market.auth.models import User
from market.errors import DomainError
from market.extensions import db
from market.fees.money import queries, services
from market.markets import queries as market_queries


def _market(code: str | None):
    if code is None:
        return None
    market = market_queries.market_by_code(code)
    if market is None:
        raise click.UsageError(f"unknown market code: {code}")
    return market


def _explain(exc: DomainError) -> str:
    errors = getattr(exc, "errors", None) or []
    if isinstance(errors, dict):
        errors = [m for messages in errors.values() for m in messages]
    return "\n".join([exc.message, *map(str, errors)])


def register(app: Flask) -> None:
    @app.cli.command("fees-reconcile")
    @click.option(
        "--market", "market_code", default=None, help="One market's board (default: all)."
    )
    def fees_reconcile(market_code: str | None) -> None:
        """Record as fee payments the unmatched transfers into board accounts that name a bill
        (after a bill was issued late, or a failure between storing and reconciling)."""
        count = services.reconcile_pending(_market(market_code))
        click.echo(json.dumps({"payments": count}))

    @app.cli.command("fees-import-statement")
    @click.option("--market", "market_code", required=True, help="Market code.")
    @click.option("--user", "username", required=True, help="The manager importing it.")
    @click.option("--apply", "apply", is_flag=True, help="Record (default: only show the plan).")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def fees_import_statement(market_code: str, username: str, apply: bool, path: Path) -> None:
        """Import a board account's bank statement (CSV/XLSX), as the statement page does."""
        market = _market(market_code)
        actor = db.session.scalar(db.select(User).where(User.username == username))
        if actor is None:
            raise click.UsageError(f"unknown user: {username}")
        accounts = queries.market_board_accounts(market)
        if not accounts:
            raise click.ClickException("the market has no verified board account")
        run = services.apply_statement if apply else services.plan_statement
        try:
            plan = run(actor, market, accounts[0].id, path.name, path.read_bytes())
        except DomainError as exc:
            raise click.ClickException(_explain(exc)) from exc
        counts = {o: plan.count(o) for o in services.LINE_OUTCOMES}
        click.echo(json.dumps({"applied": apply, **counts, "amount": plan.new_amount}))
