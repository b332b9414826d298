"""Read-only figures of the payments domain: who a payment belongs to, a stall's day."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
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
_CREDENTIALS = select(
    _integration.secret, _integration.auth_mode, _integration.enabled, _integration.id
).where(_integration.provider == bindparam("provider"), _integration.name == bindparam("name"))


def credentials(
    provider: str, connection: Connection, name: str = ""
) -> tuple[str, str, bool, int] | None:
    """(secret, auth mode, enabled, id) of a provider's integration ``name``, or None."""
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


def local_month_bounds(month: date) -> tuple[datetime, datetime]:
    """The Vietnam month of ``month`` (any day of it) as UTC instants."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_day_bounds(first)[0], local_day_bounds(following)[0]


def today_in_vietnam(now: datetime) -> date:
    return to_local(now).date()


def _stall_ids(stalls: Stall | Iterable[Stall]) -> list[int]:
    return [stalls.id] if isinstance(stalls, Stall) else [s.id for s in stalls]


def _received(stall_ids: list[int], start: datetime, end: datetime) -> tuple:
    """The one definition of money received: incoming transfers matched to these stalls,
    at a bank time in [start, end). (One stall is written as ``=``, which every plan reads
    from ix_payment_notifications_stall_at.)"""
    by_stall = (
        PaymentNotification.stall_id == stall_ids[0]
        if len(stall_ids) == 1
        else PaymentNotification.stall_id.in_(stall_ids or [-1])
    )
    return (
        by_stall,
        PaymentNotification.match_status == "matched",
        PaymentNotification.direction == "in",
        PaymentNotification.transaction_at >= start,
        PaymentNotification.transaction_at < end,
    )


def received_payments(stalls: Stall | Iterable[Stall], day: date) -> DayPayments:
    """Money the stall (or each of ``stalls``) received on ``day`` (Vietnam time), any day:
    today's screen, a past day and the close-of-day summary all read it here."""
    where = _received(_stall_ids(stalls), *local_day_bounds(day))
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


@dataclass(frozen=True, slots=True)
class Tally:
    """A count of payments and their sum, under a label (a stall, an hour, a kind)."""

    label: str
    count: int
    total: int


@dataclass(frozen=True, slots=True)
class DayClose:
    """What a stallholder needs to close a day: totals by stall, by hour and by kind."""

    count: int
    total: int
    by_stall: list[Tally]
    by_hour: list[Tally]
    by_kind: list[Tally]


def close_of_day(day: DayPayments, stalls: Iterable[Stall]) -> DayClose:
    """The summary of one day's payments (already read, so no second query)."""
    codes = {s.id: s.code for s in stalls}
    by_stall: dict[str, list[int]] = {code: [0, 0] for code in sorted(codes.values())}
    by_hour: dict[int, list[int]] = {}
    by_kind = {"order": [0, 0], "sticker": [0, 0]}
    for payment in day.payments:
        for bucket in (
            by_stall.setdefault(codes.get(payment.stall_id, "?"), [0, 0]),
            by_hour.setdefault(to_local(payment.transaction_at).hour, [0, 0]),
            by_kind["order" if payment.order_id else "sticker"],
        ):
            bucket[0] += 1
            bucket[1] += payment.amount
    kinds = {
        "sticker": _("Quét tem QR (khách tự nhập số tiền)"),
        "order": _("Thu tiền có số tiền (đơn)"),
    }
    return DayClose(
        count=len(day.payments),
        total=day.total,
        by_stall=[Tally(code, n, t) for code, (n, t) in by_stall.items()],
        by_hour=[Tally(f"{h:02d}:00–{h + 1:02d}:00", *by_hour[h]) for h in sorted(by_hour)],
        by_kind=[Tally(kinds[k], n, t) for k, (n, t) in by_kind.items() if n],
    )


def month_received_totals(stalls: Iterable[Stall], month: date) -> tuple[int, int]:
    """(count, total) of the money ``stalls`` received in the Vietnam month of ``month``."""
    where = _received(_stall_ids(stalls), *local_month_bounds(month))
    count, total = db.session.execute(
        select(func.count(PaymentNotification.id), func.sum(PaymentNotification.amount)).where(
            *where
        )
    ).one()
    return int(count or 0), int(total or 0)


#: Rows read per round trip for a statement: a month of a busy merchant is ~9,000 payments,
#: read as plain tuples in batches, never as one list of ORM objects.
STATEMENT_BATCH = 1000


def month_received_rows(stalls: Iterable[Stall], month: date) -> Iterator[tuple]:
    """Each payment ``stalls`` received in the Vietnam month of ``month``, oldest first, as
    (transaction_at UTC, stall code, amount, payer name, bank reference, content, order
    reference or None), streamed (a server-side cursor on PostgreSQL)."""
    where = _received(_stall_ids(stalls), *local_month_bounds(month))
    statement = (
        select(
            PaymentNotification.transaction_at,
            Stall.code,
            PaymentNotification.amount,
            PaymentNotification.payer_name,
            PaymentNotification.reference_code,
            PaymentNotification.content,
            CollectOrder.reference,
        )
        .join(Stall, Stall.id == PaymentNotification.stall_id)
        .outerjoin(CollectOrder, CollectOrder.id == PaymentNotification.order_id)
        .where(*where)
        .order_by(PaymentNotification.transaction_at, PaymentNotification.id)
        .execution_options(yield_per=STATEMENT_BATCH)
    )
    result = db.session.execute(statement)
    try:
        for row in result:
            yield tuple(row)
    finally:
        result.close()


def merchant_stalls(merchant_id: int, market_id: int | None = None) -> list[Stall]:
    """A merchant's stalls (in one market when ``market_id`` is given), by market and code."""
    query = (
        select(Stall)
        .join(Market, Market.id == Stall.market_id)
        .where(Stall.merchant_id == merchant_id)
        .order_by(Market.name, Stall.code)
    )
    if market_id is not None:
        query = query.where(Stall.market_id == market_id)
    return list(db.session.scalars(query))


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


# --- the merchant's listening screen -----------------------------------------------------------

#: The most payments one answer of the listening screen carries (a phone back from a long
#: sleep asks again for the rest).
LISTEN_PAGE = 50
#: How far back (bank time) a payment is still news on the screen; also bounds the query to
#: the stalls' (stall, time) index.
LISTEN_DAYS = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class HeardPayment:
    """A matched payment as the listening screen shows and says it."""

    id: int
    stall_code: str
    market_code: str
    amount: int
    payer_name: str
    transaction_at: datetime
    received_at: datetime
    order_reference: str | None
    day_total: int

    @property
    def kind(self) -> str:
        return "order" if self.order_reference else "sticker"


@dataclass(frozen=True, slots=True)
class HeardPage:
    payments: list[HeardPayment]
    #: Every payment of the merchant with an id up to here was in this or an earlier answer:
    #: the screen asks from here next (its payments above it come again; it skips them).
    cursor: int
    #: The newest id this answer accounts for (the screen has seen the merchant's payments
    #: up to here, as far as they were committed).
    seen: int
    more: bool
    today_total: int
    today_count: int


def _merchant_received(merchant_id: int):
    """The conditions of "money a stall of this merchant received"."""
    return (
        Stall.merchant_id == merchant_id,
        PaymentNotification.stall_id == Stall.id,
        PaymentNotification.match_status == "matched",
        PaymentNotification.direction == "in",
    )


def latest_payment_id() -> int:
    return int(db.session.scalar(select(func.coalesce(func.max(PaymentNotification.id), 0))))


def _day_running_totals(merchant_id: int, day: date, upto: int) -> tuple[dict[int, int], int]:
    """({payment id: the day's total up to and including it}, count) for ``day``
    (Vietnam time), payments with ids up to ``upto``; a merchant's day is a few hundred
    payments at most."""
    start, end = local_day_bounds(day)
    rows = db.session.execute(
        select(PaymentNotification.id, PaymentNotification.amount)
        .join(Stall, Stall.id == PaymentNotification.stall_id)
        .where(
            *_merchant_received(merchant_id),
            PaymentNotification.transaction_at >= start,
            PaymentNotification.transaction_at < end,
            PaymentNotification.id <= upto,
        )
        .order_by(PaymentNotification.id)
    ).all()
    totals, running = {}, 0
    for payment_id, amount in rows:
        running += amount
        totals[payment_id] = running
    return totals, len(rows)


def _heard_select(merchant_id: int):
    """The listening screen's columns of a merchant's matched payments (filter and order are
    the caller's)."""
    return (
        select(
            PaymentNotification.id,
            Stall.code.label("stall_code"),
            Market.code.label("market_code"),
            PaymentNotification.amount,
            PaymentNotification.payer_name,
            PaymentNotification.transaction_at,
            PaymentNotification.received_at,
            CollectOrder.reference,
        )
        .join(Stall, Stall.id == PaymentNotification.stall_id)
        .join(Market, Market.id == Stall.market_id)
        .outerjoin(CollectOrder, CollectOrder.id == PaymentNotification.order_id)
        .where(*_merchant_received(merchant_id))
    )


def _heard(row, running_totals: dict[int, int]) -> HeardPayment:
    """One row of :func:`_heard_select`, with its day's running total."""
    return HeardPayment(
        id=row.id,
        stall_code=row.stall_code,
        market_code=row.market_code,
        amount=int(row.amount),
        payer_name=row.payer_name or "",
        transaction_at=row.transaction_at,
        received_at=row.received_at,
        order_reference=row.reference,
        day_total=running_totals.get(row.id, 0),
    )


def merchant_payments_after(
    merchant_id: int, after: int, *, now: datetime, settled: int, limit: int = LISTEN_PAGE
) -> HeardPage:
    """A merchant's matched payments (every stall of theirs, sticker and collect order
    alike) with an id above ``after``, oldest first, at most ``limit``; each with its day's
    running total, and today's total.

    ``settled`` is an id below which nothing can still be committed (market.payments.board:
    the newest id seen some time ago). The next cursor stays at or below it, so an insert
    that commits after one with a higher id (PostgreSQL hands ids out before commit) is in a
    later answer instead of stepped over."""
    limit = max(1, min(int(limit), LISTEN_PAGE))
    # Read first: what commits after this is for the next answer.
    top = latest_payment_id()
    after = max(0, min(int(after), top))
    rows = db.session.execute(
        _heard_select(merchant_id)
        .where(
            PaymentNotification.transaction_at >= now - LISTEN_DAYS,
            PaymentNotification.id > after,
            PaymentNotification.id <= top,
        )
        .order_by(PaymentNotification.id)
        .limit(limit)
    ).all()
    more = len(rows) == limit and rows[-1][0] < top
    # A full page moves on past its last row whatever ``settled`` says, or a burst of more
    # than a page would be asked for again and again.
    seen = rows[-1][0] if more else top
    cursor = seen if more else min(top, max(settled, after))
    today = today_in_vietnam(now)
    totals: dict[date, dict[int, int]] = {}
    today_totals, today_count = _day_running_totals(merchant_id, today, top)
    totals[today] = today_totals
    payments = []
    for row in rows:
        day = to_local(row.transaction_at).date()
        if day not in totals:
            totals[day] = _day_running_totals(merchant_id, day, top)[0]
        payments.append(_heard(row, totals[day]))
    return HeardPage(
        payments=payments,
        cursor=max(cursor, after),
        seen=seen,
        more=more,
        today_total=max(today_totals.values(), default=0),
        today_count=today_count,
    )


def merchant_payments_today(
    merchant_id: int, *, now: datetime, settled: int, limit: int = 20
) -> HeardPage:
    """Today's last ``limit`` payments of the merchant, newest first (what the screen shows on
    opening: already there, so never announced), and the cursor to listen from (at most
    ``settled``, as in :func:`merchant_payments_after`)."""
    top = latest_payment_id()
    today = today_in_vietnam(now)
    start, end = local_day_bounds(today)
    rows = db.session.execute(
        _heard_select(merchant_id)
        .where(
            PaymentNotification.transaction_at >= start,
            PaymentNotification.transaction_at < end,
            PaymentNotification.id <= top,
        )
        .order_by(PaymentNotification.id.desc())
        .limit(limit)
    ).all()
    totals, count = _day_running_totals(merchant_id, today, top)
    payments = [_heard(row, totals) for row in rows]
    return HeardPage(
        payments=payments,
        cursor=min(top, settled),
        seen=top,
        more=False,
        today_total=max(totals.values(), default=0),
        today_count=count,
    )


RECEIVED_BATCH = 5000


def received_since(after: int, limit: int = RECEIVED_BATCH) -> list[tuple[int, int]]:
    """(payment id, merchant id) of matched payments with an id above ``after``, by id: what
    the listening board (market.payments.board) reads twice a second."""
    return [
        (payment_id, merchant_id)
        for payment_id, merchant_id in db.session.execute(
            select(PaymentNotification.id, Stall.merchant_id)
            .join(Stall, Stall.id == PaymentNotification.stall_id)
            .where(
                PaymentNotification.id > after,
                PaymentNotification.match_status == "matched",
                Stall.merchant_id.is_not(None),
            )
            .order_by(PaymentNotification.id)
            .limit(limit)
        )
    ]
