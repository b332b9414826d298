"""Commands of the fees domain: ``flask fees-bill``."""

from __future__ import annotations

import json
from datetime import date

import click
from flask import Flask

from market.errors import DomainError
from market.fees import services
from market.markets import queries as market_queries


def register(app: Flask) -> None:
    @app.cli.command("fees-bill")
    @click.option("--market", "market_code", required=True, help="Market code, e.g. TN-DONGQUANG.")
    @click.option(
        "--period", required=True, help="YYYY-MM (monthly fees) or YYYY-MM-DD (daily fees)."
    )
    @click.option(
        "--due",
        "due_date",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Due date (default: the 10th of the month; the day itself for daily fees).",
    )
    def fees_bill(market_code: str, period: str, due_date) -> None:
        """Bill every active stall of a market for a period (running it again changes nothing)."""
        market = market_queries.market_by_code(market_code)
        if market is None:
            raise click.UsageError(f"unknown market code: {market_code}")
        due: date | None = due_date.date() if due_date else None
        try:
            result = services.bill_market(None, market, period, due_date=due)
        except DomainError as exc:
            errors = getattr(exc, "errors", None)
            detail = "; ".join(m for messages in (errors or {}).values() for m in messages)
            raise click.ClickException(detail or exc.message) from exc
        click.echo(
            json.dumps(
                {
                    "market": market.code,
                    "period": result.period,
                    "created": result.created,
                    "existing": result.existing,
                    "total": result.total,
                },
                ensure_ascii=False,
            )
        )
