from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from market.auth import services
from market.errors import DomainError
from market.extensions import db
from market.markets.models import Market


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option(
        "--role", type=click.Choice(["admin", "manager", "helper", "merchant"]), required=True
    )
    @click.option("--name", "full_name", required=True, help="Full name shown in the audit log.")
    @click.option("--market", "market_codes", multiple=True, help="Market code (repeatable).")
    @click.password_option()
    def create_user(username, role, full_name, market_codes, password):
        """Create a login (the server's operator acts as the admin here)."""
        markets = list(db.session.scalars(select(Market).where(Market.code.in_(market_codes))))
        missing = set(market_codes) - {m.code for m in markets}
        if missing:
            raise click.UsageError(f"unknown market code(s): {', '.join(sorted(missing))}")
        try:
            user = services.create_user(
                None,
                username=username,
                full_name=full_name,
                password=password,
                role=role,
                markets=markets,
            )
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} {getattr(exc, 'errors', '')}") from exc
        click.echo(f"created {user.username} ({user.role})")
