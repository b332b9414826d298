"""``flask adoption-report`` (the province's figures as JSON, CSV or XLSX) and
``flask adoption-rebuild`` (recompute the payment rollups from the notifications)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from market.adoption import exports, queries, services
from market.adoption.criteria import Settings
from market.adoption.schemas import ProvinceAdoptionSchema
from market.extensions import db
from market.markets.models import Market


def province_report() -> queries.ProvinceReport:
    markets = queries.in_province_order(db.session.scalars(select(Market)))
    settings = Settings.from_config(current_app.config)
    report = queries.province_report(markets, settings, scope="province", now=queries.now_utc())
    targets = queries.adoption_targets(settings)
    report.targets = queries.target_progress(targets, report.markets, report.today)
    services.note_reached_targets(targets, report.targets, report.today)
    return report


def register(app: Flask) -> None:
    @app.cli.command("adoption-report")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["json", "csv", "xlsx"]),
        default="json",
        show_default=True,
    )
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="File to write (default: standard output; required for xlsx on a terminal).",
    )
    def adoption_report(fmt: str, output: Path | None):
        """Chợ 4.0 adoption of every market: figures, criteria, districts, weekly trend."""
        report = province_report()
        if fmt == "json":
            body = json.dumps(
                ProvinceAdoptionSchema().dump(report), ensure_ascii=False, indent=2
            ).encode()
        elif fmt == "csv":
            body = exports.province_csv(report)
        else:
            body = exports.province_xlsx(report)
        if output is not None:
            output.write_bytes(body)
            click.echo(
                f"{output}: {report.totals.qualifying} of {report.totals.markets} markets qualify "
                f"(targets: {', '.join(f'{t.count}/{t.markets} by {t.deadline}' for t in report.targets)})",
                err=True,
            )
            return
        stream = sys.stdout.buffer
        if fmt == "xlsx" and stream.isatty():
            raise click.UsageError("an XLSX file is binary: give --output FILE")
        stream.write(body)
        if fmt == "json":
            stream.write(b"\n")

    @app.cli.command("adoption-rebuild")
    def adoption_rebuild():
        """Recompute stall_day_payments and market_day_payments from payment_notifications."""
        click.echo("rebuilding the payment rollups…", err=True)
        result = services.rebuild_rollups()
        click.echo(
            json.dumps(
                {
                    "stall_days": result.stall_days,
                    "market_days": result.market_days,
                    "payments": result.payments,
                    "amount": result.amount,
                }
            )
        )
