"""Read-only figures of the payments domain: who a payment belongs to, a stall's day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import Connection, DateTime, and_, bindparam, func, or_, select

from market.errors import Conflict, NotFound
from market.extensions import db
from market.formatting import VN_TZ, to_local
from market.markets.models import Market, Stall
from market.merchants.models import PayeeAccount
from market.payments.models import CollectOrder, PaymentNotification, WebhookIntegration
from market.vietqr import bank_by_bin, build_payload

#: How far back a notification's content is searched for an open collect order's reference.
ORDER_LOOKBACK = timedelta(days=2)


def stall_by_codes(market_code: str, stall_code: str) -> Stall | None:
    return db.session.scalar(
        select(Stall)
        .join(Market, Market.id == Stall.market_id)
        .where(Market.code == market_code, Stall.code == stall_code)
    )


def payable_payee(stall: Stall) -> PayeeAccount:
    """The verified current payee of an active stall; anything else has no QR to pay."""
    if stall.status != "active":
        raise NotFound(_("Sạp %(code)s không còn kinh doanh nên không có mã QR.", code=stall.code))
    payee = db.session.scalar(
        select(PayeeAccount).where(PayeeAccount.stall_id == stall.id, PayeeAccount.is_current)
    )
    if payee is None or not payee.verified:
        raise Conflict(
            _(
                "Sạp %(code)s chưa có tài khoản nhận tiền đã xác minh nên chưa nhận chuyển khoản.",
                code=stall.code,
            )
        )
    return payee


def payment_payload(payee: PayeeAccount, *, amount: int | None, purpose: str | None) -> str:
    """The VietQR text the stall's QR carries (dynamic, tag 54, when there is an amount)."""
    return build_payload(
        payee.bank_bin, payee.account_number, amount=amount, purpose=purpose, service=payee.service
    )


_integration = WebhookIntegration.__table__.c
_CREDENTIALS = select(_integration.secret, _integration.auth_mode, _integration.enabled).where(
    _integration.provider == bindparam("provider")
)


def credentials(provider: str, connection: Connection) -> tuple[str, str, bool] | None:
    """(secret, auth mode, enabled) of a provider's integration, or None."""
    row = connection.execute(_CREDENTIALS, {"provider": provider}).first()
    return tuple(row) if row else None


def integration(provider: str) -> WebhookIntegration | None:
    return db.session.scalar(
        select(WebhookIntegration).where(WebhookIntegration.provider == provider)
    )


def integrations() -> dict[str, WebhookIntegration]:
    return {i.provider: i for i in db.session.scalars(select(WebhookIntegration))}


# --- reconciliation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayeeCandidate:
    """A stall whose current payee is the notified account, and its recent collect orders."""

    stall_id: int
    bank_bin: str
    orders: tuple[tuple[int, str], ...]  # (order id, reference), newest first


# Built once on the tables (not the mapped classes) and run on the ingest's connection: it
# runs for every bank notification, and the ORM's statement handling would double its cost.
_payee = PayeeAccount.__table__.c
_order = CollectOrder.__table__.c
_PAYEES_AND_ORDERS = (
    select(_payee.stall_id, _payee.bank_bin, _order.id, _order.reference)
    .select_from(PayeeAccount.__table__)
    .outerjoin(
        CollectOrder.__table__,
        and_(
            _order.stall_id == _payee.stall_id,
            _order.created_at >= bindparam("since", type_=DateTime(timezone=True)),
        ),
    )
    # Two plain parameters, not an expanding IN: the SQL text never changes, so it stays
    # compiled in SQLAlchemy's cache and prepared on the server.
    .where(
        _payee.is_current,
        or_(
            _payee.account_number == bindparam("account"), _payee.account_number == bindparam("sub")
        ),
    )
    .order_by(_payee.stall_id, _order.id.desc())
    .limit(500)
)


def payees_and_orders(
    connection: Connection, accounts: Iterable[str], since: datetime
) -> list[PayeeCandidate]:
    """Stalls whose current payee is one of these account numbers, each with its collect
    orders created since ``since``: one query, as it runs once per bank notification."""
    numbers = sorted({a for a in accounts if a})
    if not numbers:
        return []
    rows = connection.execute(
        _PAYEES_AND_ORDERS, {"account": numbers[0], "sub": numbers[-1], "since": since}
    )
    found: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for stall_id, bank_bin, order_id, reference in rows:
        _bin, orders = found.setdefault(stall_id, (bank_bin, []))
        if order_id is not None:
            orders.append((order_id, reference))
    return [
        PayeeCandidate(stall_id, bank_bin, tuple(orders))
        for stall_id, (bank_bin, orders) in found.items()
    ]


def bank_matches(bank_bin: str, bank_text: str) -> bool:
    """Does a provider's bank label ("Vietcombank", "VCB", "MBBank") name this BIN's bank?"""
    bank = bank_by_bin(bank_bin)
    if bank is None or not bank_text:
        return False
    label = bank_text.casefold().replace(" ", "")
    return label in {bank.code.casefold(), bank.short_name.casefold().replace(" ", "")}


# --- the stall's day ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayPayments:
    day: date
    payments: list[PaymentNotification]
    total: int


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Vietnam day as UTC instants (SQLite compares stored UTC text, so no other zone)."""
    start = datetime.combine(day, time.min, tzinfo=VN_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def today_in_vietnam(now: datetime) -> date:
    return to_local(now).date()


def received_payments(stall: Stall, day: date) -> DayPayments:
    """Money the stall received on ``day`` (Vietnam time): incoming transfers matched to it."""
    start, end = local_day_bounds(day)
    where = (
        PaymentNotification.stall_id == stall.id,
        PaymentNotification.match_status == "matched",
        PaymentNotification.direction == "in",
        PaymentNotification.transaction_at >= start,
        PaymentNotification.transaction_at < end,
    )
    payments = list(
        db.session.scalars(
            select(PaymentNotification)
            .where(*where)
            .order_by(PaymentNotification.transaction_at.desc(), PaymentNotification.id.desc())
        )
    )
    total = db.session.scalar(
        select(func.coalesce(func.sum(PaymentNotification.amount), 0)).where(*where)
    )
    return DayPayments(day=day, payments=payments, total=int(total or 0))


def unmatched_notifications(limit: int = 200) -> list[PaymentNotification]:
    """Incoming transfers no stall could be found for, newest first, for review."""
    return list(
        db.session.scalars(
            select(PaymentNotification)
            .where(PaymentNotification.match_status == "unmatched")
            .order_by(PaymentNotification.id.desc())
            .limit(limit)
        )
    )


def order_notifications(order: CollectOrder) -> list[PaymentNotification]:
    return list(
        db.session.scalars(
            select(PaymentNotification)
            .where(PaymentNotification.order_id == order.id)
            .order_by(PaymentNotification.id)
        )
    )
