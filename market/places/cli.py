"""``flask admin-units load FILE --province NAME``: load a province's commune-level units."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask

from market.errors import InvalidInput
from market.places import services

DEFAULT_LIST = Path(__file__).with_name("thai_nguyen_2025.csv")


def register(app: Flask) -> None:
    @app.cli.group("admin-units")
    def admin_units():
        """Commune-level administrative units (xã, phường) markets belong to."""

    @admin_units.command("load")
    @click.argument(
        "file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        required=False,
    )
    @click.option("--province", required=True, help='The province, e.g. "Thái Nguyên".')
    @click.option("--source", help="Where the list comes from (default: its '# Nguồn:' line).")
    def load(file: Path | None, province: str, source: str | None):
        """Load (create or update) a province's units from a CSV list; running it again
        changes nothing. Without FILE: the Thái Nguyên list shipped with the app."""
        path = file or DEFAULT_LIST
        try:
            units = services.parse_unit_list(path.read_text(encoding="utf-8-sig"))
            result = services.load_units(province, units, source=source)
        except UnicodeDecodeError as exc:
            raise click.ClickException(f"{path}: not UTF-8 text") from exc
        except InvalidInput as exc:
            for where, messages in exc.errors.items():
                click.echo(f"{where}: {'; '.join(messages)}", err=True)
            raise click.ClickException(exc.message) from exc
        click.echo(
            json.dumps(
                {
                    "province": province,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "not_in_list": result.not_in_list,
                },
                ensure_ascii=False,
            )
        )
