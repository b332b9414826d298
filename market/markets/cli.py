from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask

from market.auth.services import activation_url, issued_codes
from market.errors import DomainError
from market.extensions import db
from market.markets import importing, queries


def register(app: Flask) -> None:
    @app.cli.command("import-stalls")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--market", "market_code", required=True, help="Market code, e.g. TN-DONGQUANG.")
    @click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
    def import_stalls(file: Path, market_code: str, dry_run: bool):
        """Import stalls, merchants and payee accounts from a CSV or XLSX file."""
        market = queries.market_by_code(market_code)
        if market is None:
            raise click.UsageError(f"unknown market code: {market_code}")
        content = file.read_bytes()
        try:
            total = sum(1 for _row in importing.iter_table(file.name, content))
            with click.progressbar(length=total, label="Checking rows", file=sys.stderr) as bar:
                report = importing.run_import(
                    None, market, file.name, content, dry_run=dry_run, progress=bar.update
                )
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        for error in report.errors:
            click.echo(f"line {error.line}, column {error.column}: {error.message}", err=True)
        summary = {k: v for k, v in report.as_dict().items() if k not in ("errors", "errors_more")}
        summary["errors"] = report.error_count
        click.echo(json.dumps(summary, ensure_ascii=False))
        # The new merchants' one-time codes exist only here (never stored): on stderr, so
        # the summary on stdout stays one JSON line.
        welcome = report.welcome
        for start in range(0, welcome.count if welcome else 0, 500):
            for issued in issued_codes(welcome, offset=start, limit=500):
                url = activation_url(issued.user)
                click.echo(f"activation code {issued.code} for {url}", err=True)
            db.session.expunge_all()  # a part at a time: thousands of logins are not held
        if report.errors:
            raise SystemExit(1)
