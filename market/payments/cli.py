"""``flask payments-sync`` (store what the webhooks missed, from the providers' transactions
APIs) and ``flask integrations …`` (several integrations per provider, their tokens and
watched accounts; secrets never from arguments)."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask

from market.auth.models import utcnow
from market.errors import DomainError
from market.payments import queries, services, sync
from market.payments.health import integration_health
from market.payments.models import PROVIDERS

#: Where ``flask integrations api-token`` reads the token when standard input is a terminal
#: (never from an argument: arguments are visible to every user of the host in ``ps``).
TOKEN_ENV = "MARKET_INTEGRATION_API_TOKEN"  # noqa: S105 - a variable's name
SECRET_ENV = "MARKET_INTEGRATION_SECRET"  # noqa: S105 - a variable's name  # noqa: S105 - a variable's name


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

    @integrations.command("list")
    def list_integrations():
        """Every integration: webhook URL path, mode, token set or not, watched accounts, and
        its health (last notification, refusals, "silent" through market hours)."""
        found = queries.all_integrations()
        config = app.config
        for h in integration_health(
            found,
            now=utcnow(),
            hours=config["MARKET_HOURS"],
            threshold_minutes=config["INTEGRATION_SILENCE_MINUTES"],
        ):
            i = h.integration
            path = f"/api/v1/webhooks/{i.provider}" + (f"/{i.name}" if i.name else "")
            accounts = ",".join(a.account_number for a in i.accounts) or "-"
            last = i.last_received_at.isoformat(timespec="seconds") if i.last_received_at else "-"
            click.echo(
                f"{i.label}\t{path}\t{i.auth_mode}\t"
                f"{'enabled' if i.enabled else 'disabled'}\t"
                f"token {'set' if i.api_token else 'unset'}\taccounts {accounts}\t"
                f"last {last}\trefused {h.refused}" + ("\tSILENT" if h.silent else "")
            )

    @integrations.command("add")
    @click.argument("provider", type=click.Choice(PROVIDERS))
    @click.argument("name")
    @click.option("--auth-mode", type=click.Choice(["hmac", "apikey"]), default="hmac")
    @click.option("--watch", "accounts", multiple=True, help="An account it watches.")
    def add(provider: str, name: str, auth_mode: str, accounts: tuple[str, ...]):
        """Add another PROVIDER integration NAME (its webhook secret read from standard input
        or MARKET_INTEGRATION_SECRET, never from an argument)."""
        secret = _read_secret(SECRET_ENV, "Webhook secret")
        try:
            found = services.add_integration(
                provider, name, secret=secret, auth_mode=auth_mode, accounts=accounts
            )
        except DomainError as exc:
            raise click.ClickException(_messages(exc)) from exc
        click.echo(f"{found.label}: added; webhook URL path /api/v1/webhooks/{provider}/{name}")

    @integrations.command("watch")
    @click.argument("provider", type=click.Choice(PROVIDERS))
    @click.argument("name")
    @click.argument("accounts", nargs=-1)
    def watch(provider: str, name: str, accounts: tuple[str, ...]):
        """Set the accounts integration NAME watches ("-" for the main one)."""
        try:
            found = services.watch_accounts(provider, "" if name == "-" else name, list(accounts))
        except DomainError as exc:
            raise click.ClickException(_messages(exc)) from exc
        click.echo(f"{found.label}: watches {len(found.accounts)} account(s)")

    @integrations.command("api-token")
    @click.argument("provider", type=click.Choice(PROVIDERS))
    @click.option("--name", default="", help="The integration (default: the main one).")
    @click.option("--remove", is_flag=True, help="Remove the token (the sync skips it).")
    def api_token(provider: str, name: str, remove: bool):
        """Set PROVIDER's transactions API token, read from standard input (or the
        MARKET_INTEGRATION_API_TOKEN environment variable), never from an argument."""
        token = None if remove else _read_secret(TOKEN_ENV, "API token")
        try:
            services.set_api_token(provider, token, name=name)
        except DomainError as exc:
            raise click.ClickException(_messages(exc)) from exc
        click.echo(f"{provider}: API token {'removed' if remove else 'set'}")


def _read_secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if not value:
        value = (
            click.prompt(prompt, hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()
        )
    value = value.strip()
    if not value:
        raise click.UsageError(f"nothing on standard input or in {env}")
    return value


def _messages(exc: DomainError) -> str:
    errors = getattr(exc, "errors", None) or {}
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
    return f"{exc.message} {details}".strip()
