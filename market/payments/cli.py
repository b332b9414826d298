"""``flask payments-sync`` (store what the webhooks missed, from the providers' transactions
APIs) and ``flask integrations api-token`` (the token that sync uses)."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask

from market.auth.models import utcnow
from market.errors import DomainError
from market.payments import services, sync
from market.payments.models import PROVIDERS

#: Where ``flask integrations api-token`` reads the token when standard input is a terminal
#: (never from an argument: arguments are visible to every user of the host in ``ps``).
TOKEN_ENV = "MARKET_INTEGRATION_API_TOKEN"  # noqa: S105 - a variable's name


def register(app: Flask) -> None:
    @app.cli.command("payments-sync")
    @click.option(
        "--since",
        "hours",
        type=click.FloatRange(min=0.1, max=24 * 31),
        default=2.0,
        show_default=True,
        help="How many hours back to read the providers' transactions.",
    )
    def payments_sync(hours: float):
        """Store the incoming transfers of the last hours that no webhook delivered.

        Safe from cron on every host at once: one run at a time, the others print that they
        skipped. Exit status 1 when a provider could not be read."""
        summary = sync.sync_payments(hours=hours, now=utcnow())
        if summary is None:
            click.echo("payments-sync: another run is in progress; skipped")
            return
        for error in summary.errors:
            click.echo(f"payments-sync: {error}", err=True)
        click.echo(summary.line())
        if summary.failed:
            sys.exit(1)

    @app.cli.group("integrations")
    def integrations():
        """Webhook integrations with the payment notifiers."""

    @integrations.command("api-token")
    @click.argument("provider", type=click.Choice(PROVIDERS))
    @click.option("--remove", is_flag=True, help="Remove the token (the sync skips it).")
    def api_token(provider: str, remove: bool):
        """Set PROVIDER's transactions API token, read from standard input (or the
        MARKET_INTEGRATION_API_TOKEN environment variable), never from an argument."""
        token = None
        if not remove:
            token = os.environ.get(TOKEN_ENV)
            if not token:
                if sys.stdin.isatty():
                    token = click.prompt("API token", hide_input=True)
                else:
                    token = sys.stdin.readline()
            token = token.strip()
            if not token:
                raise click.UsageError("no token on standard input or in " + TOKEN_ENV)
        try:
            services.set_api_token(provider, token)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"{provider}: API token {'removed' if remove else 'set'}")
