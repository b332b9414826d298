"""Coverage: whose payments a notifier can tell us about.

**Watched**: a payee account is watched when an *enabled* integration lists its account number
among the accounts it watches (``integration_accounts``). An integration with no list still
receives whatever its provider sends (the webhook does not filter by account), but nothing
says which accounts that covers, so it watches nothing for coverage: counting it would hide
exactly the gap this is meant to show. A disabled integration watches nothing.

**A stall nobody can observe**: an active stall with a QR (its current payee verified) whose
account is not watched. Its payments may never reach us, so "no payment" there means "not
known", not "not paying": its managers see it flagged, and the adoption figures count these
stalls apart (``unwatched_stalls``) beside the paying stalls.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, func, select

from market.extensions import db
from market.markets.models import Stall
from market.merchants.models import PayeeAccount
from market.payments.models import IntegrationAccount, WebhookIntegration


def is_watched_sql(account_number) -> ColumnElement[bool]:
    """SQL: an enabled integration lists ``account_number`` (a column or value)."""
    return exists().where(
        IntegrationAccount.account_number == account_number,
        WebhookIntegration.id == IntegrationAccount.integration_id,
        WebhookIntegration.enabled.is_(True),
    )


def unwatched_stall_sql() -> ColumnElement[bool]:
    """SQL over Stall joined to its current PayeeAccount: an active stall with a QR whose
    account no enabled integration lists."""
    return and_(
        Stall.status == "active",
        PayeeAccount.verified_at.is_not(None),
        ~is_watched_sql(PayeeAccount.account_number),
    )


def watchers() -> dict[str, list[str]]:
    """Account number -> labels of the enabled integrations that list it (one query; the
    lists are a few thousand accounts at most)."""
    found: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(IntegrationAccount.account_number, WebhookIntegration)
        .join(WebhookIntegration, WebhookIntegration.id == IntegrationAccount.integration_id)
        .where(WebhookIntegration.enabled.is_(True))
        .order_by(WebhookIntegration.provider, WebhookIntegration.name)
    )
    for account, integration in rows:
        found.setdefault(account, []).append(integration.label)
    return found


def account_watchers(account_number: str) -> list[str]:
    """Labels of the enabled integrations that list this account (empty: nobody watches)."""
    return [
        integration.label
        for integration in db.session.scalars(
            select(WebhookIntegration)
            .join(IntegrationAccount, WebhookIntegration.id == IntegrationAccount.integration_id)
            .where(
                IntegrationAccount.account_number == account_number,
                WebhookIntegration.enabled.is_(True),
            )
            .order_by(WebhookIntegration.provider, WebhookIntegration.name)
        )
    ]


def unwatched_stall_count(market_id: int) -> int:
    """Active stalls with a QR of this market whose payments nobody can observe."""
    return db.session.scalar(
        select(func.count())
        .select_from(Stall)
        .join(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .where(Stall.market_id == market_id, unwatched_stall_sql())
    )
