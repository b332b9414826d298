from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app

from market.markets import queries
from market.stickers import services
from market.stickers.queries import printable_stalls
from market.stickers.views import LAYOUTS, SIZES


def register(app: Flask) -> None:
    @app.cli.command("print-stickers")
    @click.option("--market", "market_code", required=True, help="Market code.")
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="PDF file to write.",
    )
    @click.option(
        "--layout",
        type=click.Choice(LAYOUTS),
        default="a4x4",
        show_default=True,
        help="a4x4: four A6 stickers per A4 page with crop marks; single: one per page.",
    )
    @click.option("--size", type=click.Choice(SIZES), default="A6", show_default=True)
    @click.option(
        "--only-new",
        is_flag=True,
        help="Only stalls whose sticker was never printed or shows an older account.",
    )
    def print_stickers(market_code: str, output: Path, layout: str, size: str, only_new: bool):
        """Write the print kit of every active stall with a verified payee."""
        only = "new" if only_new else "all"
        market = queries.market_by_code(market_code)
        if market is None:
            raise click.UsageError(f"unknown market code: {market_code}")
        total = sum(1 for _ in printable_stalls(market, only=only))
        with (
            output.open("wb") as out,
            click.progressbar(length=total, label="Stickers", file=sys.stderr) as bar,
        ):
            count = services.print_market(
                None,
                market,
                out,
                layout=layout,
                size=size,
                only=only,
                progress=lambda done: bar.update(done - bar.pos),
                base_url=current_app.config["PUBLIC_BASE_URL"],
            )
        click.echo(f"wrote {count} stickers to {output}")
