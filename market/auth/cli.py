from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from market.auth import services
from market.errors import DomainError
from market.extensions import db
from market.markets.models import Market
from market.merchants.models import Merchant


def _merchant_by_phone(phone: str) -> Merchant:
    merchant = db.session.scalar(select(Merchant).where(Merchant.phone == phone.strip()))
    if merchant is None:
        raise click.UsageError(f"no merchant has the phone number {phone!r}")
    return merchant


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option(
        "--role", type=click.Choice(["admin", "manager", "helper", "merchant"]), required=True
    )
    @click.option("--name", "full_name", required=True, help="Full name shown in the audit log.")
    @click.option("--market", "market_codes", multiple=True, help="Market code (repeatable).")
    @click.option(
        "--merchant-phone",
        help="For --role merchant: the merchant's phone (the login opens all their stalls).",
    )
    @click.password_option()
    def create_user(username, role, full_name, market_codes, merchant_phone, password):
        """Create a login (the server's operator acts as the admin here)."""
        markets = list(db.session.scalars(select(Market).where(Market.code.in_(market_codes))))
        missing = set(market_codes) - {m.code for m in markets}
        if missing:
            raise click.UsageError(f"unknown market code(s): {', '.join(sorted(missing))}")
        if role in ("manager", "helper") and not markets:
            raise click.UsageError(f"--role {role} needs at least one --market")
        if role == "merchant" and not merchant_phone:
            raise click.UsageError("--role merchant needs --merchant-phone")
        if merchant_phone and role != "merchant":
            raise click.UsageError("--merchant-phone is for --role merchant only")
        merchant = _merchant_by_phone(merchant_phone) if merchant_phone else None
        try:
            user = services.create_user(
                None,
                username=username,
                full_name=full_name,
                password=password,
                role=role,
                markets=markets,
                merchant_id=merchant.id if merchant else None,
            )
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} {getattr(exc, 'errors', '')}") from exc
        click.echo(f"created {user.username} ({user.role})")

    @app.cli.command("merchant-access")
    @click.argument("phone")
    def merchant_access(phone):
        """Issue a new activation code for the merchant with PHONE and print the activation
        URL (the old code and every session of the merchant end)."""
        merchant = _merchant_by_phone(phone)
        issued = services.reissue_merchant_access(None, merchant)
        click.echo(f"merchant: {merchant.full_name} ({merchant.phone})")
        click.echo(f"activation URL: {services.activation_url(issued.user)}")
        click.echo(f"code: {issued.code}")
        click.echo(f"expires: {issued.expires_at.isoformat()}")
