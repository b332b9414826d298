"""Read-only figures of the payments domain: who a payment belongs to, a stall's day."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import (
    Connection,
    DateTime,
    Select,
    String,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
)

from market.errors import Conflict, NotFound
from market.extensions import db
from market.fees.models import FeeAccount
from market.formatting import VN_TZ, to_local
from market.markets.models import Market, Stall
from market.merchants.models import PayeeAccount
from market.payments.models import (
    UNMATCHED,
    CollectOrder,
    PaymentNotification,
    WebhookIntegration,
)
from market.payments.values import squeeze
from market.vietqr import all_banks

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


_integration = WebhookIntegration.__table__.c
_CREDENTIALS = select(_integration.secret, _integration.auth_mode, _integration.enabled).where(
    _integration.provider == bindparam("provider"), _integration.name == bindparam("name")
)


def credentials(
    provider: str, connection: Connection, name: str = ""
) -> tuple[str, str, bool] | None:
    """(secret, auth mode, enabled) of a provider's integration ``name``, or None."""
    row = connection.execute(_CREDENTIALS, {"provider": provider, "name": name}).first()
    return tuple(row) if row else None


def integration(provider: str, name: str = "") -> WebhookIntegration | None:
    return db.session.scalar(
        select(WebhookIntegration).where(
            WebhookIntegration.provider == provider, WebhookIntegration.name == name
        )
    )


def integrations() -> dict[str, WebhookIntegration]:
    """Each provider's main integration (the one its plain webhook URL reaches)."""
    return {
        i.provider: i
        for i in db.session.scalars(select(WebhookIntegration).where(WebhookIntegration.name == ""))
    }


def all_integrations() -> list[WebhookIntegration]:
    return list(
        db.session.scalars(
            select(WebhookIntegration).order_by(
                WebhookIntegration.provider, WebhookIntegration.name
            )
        )
    )


# --- reconciliation ----------------------------------------------------------------------------
#
# Which stall (and collect order) a notification is for is decided by the database, inside
# the statement that stores it (market.payments.services): a notification costs one round
# trip instead of a read and then a write, and the rule lives in one place for both
# databases. The rule, in order:
#
# 0. a stall's paying account is its newest *verified* payee: the current one once verified;
#    while a payee change awaits its second manager, the verified account it replaces (still
#    printed on the sticker). An account not yet verified pays no stall: its money is held
#    as "unmatched" for a person to review, never credited silently (docs/hardening.md);
# 1. the newest collect order, created within ORDER_LOOKBACK, of a stall whose paying account
#    is the notified account (or sub-account), whose reference appears in the content once
#    both are squeezed (banks rewrite transfer descriptions: case, spaces and punctuation go);
# 2. else the stall, if exactly one stall's paying account is that account;
# 3. else (one account behind several stalls: a merchant with two stalls, or the same number
#    at two banks) the one stall among them whose payee bank is the bank the provider names;
# 4. else no stall: "unmatched", for a person to review. Outgoing transfers are "ignored".


# Constants written into the SQL rather than bound: the statement is sent on every webhook, and
# psycopg caches its parsing only for statements up to 4 kB (see the test that keeps it so).
_EMPTY = literal_column("''")
_SPACE = literal_column("' '")
_COMMA = literal_column("','")
_ONE = literal_column("1")


def _is_bank_named(bank_bin, bins_param):
    """SQL: the payee's BIN is one of ``bins_param`` (",970436,970415," or "")."""
    return bins_param.contains(_COMMA + bank_bin + _COMMA)


def _match() -> Select:
    """One row, (stall id or NULL, order id or NULL, match status), from the ``match_*``
    parameters of :func:`match_params`."""
    payee = PayeeAccount.__table__.c
    order = CollectOrder.__table__.c
    newer = PayeeAccount.__table__.alias("newer")
    # A stall's paying account is its newest verified one: the current payee once verified,
    # and while a change waits for its second manager, the verified one still printed on the
    # sticker. Money to the pending account matches nothing and waits in the review list.
    candidates = (
        select(payee.stall_id, payee.bank_bin)
        .where(
            payee.verified_at.is_not(None),
            or_(
                payee.account_number == bindparam("match_account", type_=String),
                payee.account_number == bindparam("match_sub", type_=String),
            ),
            ~exists().where(
                newer.c.stall_id == payee.stall_id,
                newer.c.verified_at.is_not(None),
                newer.c.id > payee.id,
            ),
        )
        .cte("payees")
    )
    content = bindparam("match_content", type_=String)
    # A reference is the stall part, one space and the random part (values.new_reference),
    # so dropping the space squeezes it.
    order_found = (
        select(order.id, order.stall_id)
        .join(candidates, candidates.c.stall_id == order.stall_id)
        .where(
            order.created_at >= bindparam("match_since", type_=DateTime(timezone=True)),
            content != _EMPTY,
            content.contains(func.replace(order.reference, _SPACE, _EMPTY)),
        )
        .order_by(order.id.desc())
        .limit(_ONE)
        .cte("named_order")
    )
    named = candidates.c.bank_bin
    bins = bindparam("match_bins", type_=String)
    only = func.count(func.distinct(candidates.c.stall_id)) == _ONE
    stall = func.coalesce(
        select(order_found.c.stall_id).scalar_subquery(),
        select(case((only, func.min(candidates.c.stall_id)))).scalar_subquery(),
        select(case((only, func.min(candidates.c.stall_id))))
        .where(_is_bank_named(named, bins))
        .scalar_subquery(),
    )
    picked = select(
        stall.label("stall_id"), select(order_found.c.id).scalar_subquery().label("order_id")
    ).cte("picked")
    status = case(
        (picked.c.stall_id.is_not(None), literal_column("'matched'")),
        else_=bindparam("match_none", type_=String),
    )
    return select(picked.c.stall_id, picked.c.order_id, status.label("match_status"))


MATCH = _match()


def match_params(
    *, counted: bool, accounts: Iterable[str], content: str, bank: str, since: datetime
) -> dict:
    """The parameters of :data:`MATCH` for one notification. A transfer that does not count
    (outgoing, or of no amount) is looked up under no account, so it matches nothing and is
    "ignored"; one that counts and matches nothing is "unmatched"."""
    numbers = sorted({a for a in accounts if a}) if counted else []
    return {
        # Two plain parameters, not an expanding IN: the SQL text never changes, so it stays
        # compiled in SQLAlchemy's cache and prepared on the server. "" is no account number.
        "match_account": numbers[0] if numbers else "",
        "match_sub": numbers[-1] if numbers else "",
        "match_content": squeeze(content),
        "match_bins": bins_named(bank),
        "match_since": since,
        "match_none": "unmatched" if counted else "ignored",
    }


@functools.lru_cache(maxsize=256)
def bins_named(bank_text: str) -> str:
    """The BINs of the bank(s) a provider's label ("Vietcombank", "VCB", "MBBank") names, as
    ",970436," for :func:`_is_bank_named`; "" when it names none."""
    label = (bank_text or "").casefold().replace(" ", "")
    if not label:
        return ""
    bins = [
        bank.bin
        for bank in all_banks()
        if label in (bank.code.casefold(), bank.short_name.casefold().replace(" ", ""))
    ]
    return f",{','.join(bins)}," if bins else ""


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
    """Incoming transfers no stall could be found for, newest first, for review. Transfers
    into a market board's fee account are the board's to review (market.fees.money), never
    a stall's sale: not listed here."""
    return list(
        db.session.scalars(
            select(PaymentNotification)
            .where(
                UNMATCHED,  # as written in its index
                PaymentNotification.account_number.not_in(select(FeeAccount.account_number)),
            )
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


# --- the unmatched list, worked off ------------------------------------------------------------


def _accounts_of_markets(market_ids: Iterable[int]) -> Select:
    """Every account number a payee of these markets' stalls ever had (any version): an
    unmatched payment into one of them is for these markets' managers to look at."""
    return (
        select(PayeeAccount.account_number)
        .join(Stall, Stall.id == PayeeAccount.stall_id)
        .where(Stall.market_id.in_(list(market_ids)))
    )


def unmatched_for(user, limit: int = 200) -> list[PaymentNotification]:
    """The unmatched incoming payments ``user`` reviews, newest first: all of them for the
    province, for a manager those paid into an account a payee of their markets had."""
    if user.role == "admin":
        return unmatched_notifications(limit)
    if user.role != "manager" or not user.market_ids:
        return []
    return list(
        db.session.scalars(
            select(PaymentNotification)
            .where(
                UNMATCHED,
                PaymentNotification.account_number.in_(_accounts_of_markets(user.market_ids)),
            )
            .order_by(PaymentNotification.id.desc())
            .limit(limit)
        )
    )


def notification_market_ids(notification: PaymentNotification) -> set[int]:
    """The markets whose stalls' payees ever had the account the payment went to."""
    return set(
        db.session.scalars(
            select(Stall.market_id)
            .join(PayeeAccount, PayeeAccount.stall_id == Stall.id)
            .where(PayeeAccount.account_number == notification.account_number)
            .distinct()
        )
    )


def review_markets(user) -> list[Market]:
    """The markets whose stalls ``user`` may assign a payment to."""
    query = select(Market).order_by(Market.name)
    if user.role != "admin":
        query = query.where(Market.id.in_(list(user.market_ids) or [-1]))
    return list(db.session.scalars(query))
