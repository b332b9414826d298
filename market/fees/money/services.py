"""Use cases of fee payments. Each public function commits once.

A payment is a row of ``fee_payments`` against one bill, with a numbered receipt
(``fee_receipts``, per market and year) made in the same transaction, and the bill's status
(open, partial, paid) set from what its payments and credit notes add up to. Whatever the
route (a bank notification, cash, a statement line) each transfer is recorded once:
``fee_payments.notification_id`` and ``statement_key`` are unique, and a statement line
the notifier already reported is paired with that payment instead (docs/fees.md).

A payment is never split: an overpayment stays on its bill, whose balance goes negative,
and the billing carries that credit into the stall's next bill (queries.credit_before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User, utcnow
from market.database import sqlite_write_turn
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.extensions import db
from market.fees import services as fee_services
from market.fees import statements
from market.fees.models import FeeAccount, FeeBill, FeePayment, FeeReceipt
from market.fees.money import queries
from market.formatting import VN_TZ, to_local
from market.markets.models import Market
from market.payments.models import PaymentNotification
from market.payments.values import NAPAS_LIMIT

#: What a bill's content says a fee payment is, on the notification it came by.
FEE_NOTE = "fee:"
MAX_CASH_AMOUNT = NAPAS_LIMIT
RECEIPT_NUMBER_MAX = 40


def receipt_number(year: int, seq: int) -> str:
    """
    >>> receipt_number(2026, 17)
    'PT2026-000017'
    """
    return f"PT{year}-{seq:06d}"


def _lock_market(market_id: int) -> None:
    """Payments of one market take turns: the receipt sequence and the bill's status are
    read and written in one go (PostgreSQL: the market's row locked; SQLite writes one at a
    time anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Market.id).where(Market.id == market_id).with_for_update())


def _stage_payment(
    bill: FeeBill,
    amount: int,
    method: str,
    paid_at: datetime,
    *,
    notification_id: int | None = None,
    statement_key: str | None = None,
    receipt: str | None = None,
    actor: User | None = None,
    now: datetime,
) -> FeePayment:
    """Add a payment to ``bill`` with its numbered receipt and set the bill's status (not
    committed)."""
    _lock_market(bill.market_id)
    payment = FeePayment(
        market_id=bill.market_id,
        bill_id=bill.id,
        amount=amount,
        method=method,
        paid_at=paid_at,
        notification_id=notification_id,
        statement_key=statement_key,
        receipt_number=receipt,
        recorded_by_id=actor.id if actor else None,
        created_at=now,
    )
    db.session.add(payment)
    db.session.flush()
    year = to_local(paid_at).year
    seq = (
        db.session.scalar(
            select(func.max(FeeReceipt.seq)).where(
                FeeReceipt.market_id == bill.market_id, FeeReceipt.year == year
            )
        )
        or 0
    ) + 1
    db.session.add(
        FeeReceipt(
            market_id=bill.market_id,
            payment_id=payment.id,
            year=year,
            seq=seq,
            number=receipt_number(year, seq),
            issued_at=now,
        )
    )
    db.session.flush()
    fee_services.stage_bill_status([bill])
    return payment


# --- bank notifications -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reconciled:
    payment_id: int | None
    bill_id: int | None
    duplicate: bool = False


def reconcile_notification(notification_id: int, *, now: datetime | None = None) -> Reconciled:
    """Record an incoming transfer to a market board's account as a payment of the bill its
    content names. Called after the notification was stored "unmatched" (no stall's account):
    nothing for a transfer to any other account, or one that names no bill of that board
    (it stays on the unmatched list for a person). The notification becomes "ignored" (not a
    stall's sale) in the same transaction as the payment. A second call for the same
    notification records nothing.

    Its own transaction, on a connection that is not in autocommit mode (the webhooks' lean
    app runs autocommit: market.app.register_webhook_app)."""
    table = PaymentNotification.__table__
    return _reconcile_where(table.c.id == notification_id, now or utcnow())


def reconcile_event(provider: str, event_id: str, *, now: datetime | None = None) -> Reconciled:
    """:func:`reconcile_notification` of the notification ``(provider, event_id)``."""
    table = PaymentNotification.__table__
    where = (table.c.provider == provider) & (table.c.event_id == event_id)
    return _reconcile_where(where, now or utcnow())


def _reconcile_where(where, now: datetime) -> Reconciled:
    with sqlite_write_turn(db.engine):
        for _attempt in range(3):
            _begin()
            try:
                found = db.session.scalar(select(PaymentNotification.id).where(where))
                result = Reconciled(None, None) if found is None else _reconcile(found, now)
                db.session.commit()
                return result
            except IntegrityError:
                # The same notification by another worker, or a receipt number taken by a
                # payment of the same market at the same moment: look again.
                db.session.rollback()
            except Conflict:
                # A person worked it off the unmatched list meanwhile: theirs stands.
                db.session.rollback()
                break
        return Reconciled(None, None, duplicate=True)


def _begin() -> None:
    """A transaction of its own, even in the webhooks' lean app, whose engine runs in
    autocommit mode on PostgreSQL (market.app.register_webhook_app): the payment, its
    receipt, the bill's status and the notification change together or not at all."""
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "READ COMMITTED"})


def _reconcile(notification_id: int, now: datetime) -> Reconciled:
    notification = db.session.get(PaymentNotification, notification_id)
    if (
        notification is None
        or notification.match_status != "unmatched"
        or notification.direction != "in"
        or notification.amount <= 0
    ):
        return Reconciled(None, None, duplicate=True)
    existing = db.session.scalar(
        select(FeePayment.id).where(FeePayment.notification_id == notification_id)
    )
    if existing:
        return Reconciled(existing, None, duplicate=True)
    markets = set(
        db.session.scalars(
            select(FeeAccount.market_id).where(
                FeeAccount.account_number == notification.account_number,
                FeeAccount.verified_at.is_not(None),
            )
        )
    )
    if not markets:
        return Reconciled(None, None)
    bill = queries.bill_for_transfer(markets, notification.content)
    if bill is None:
        return Reconciled(None, None)
    payment = _stage_payment(
        bill,
        notification.amount,
        "transfer",
        notification.transaction_at,
        notification_id=notification.id,
        now=now,
    )
    _take_notification(notification, bill, now)
    return Reconciled(payment.id, bill.id)


def _take_notification(notification: PaymentNotification, bill: FeeBill, now: datetime) -> None:
    table = PaymentNotification.__table__
    changed = db.session.execute(
        update(table)
        .where(table.c.id == notification.id, table.c.match_status == "unmatched")
        .values(
            match_status="ignored",
            reviewed_at=now,
            review_note=f"{FEE_NOTE}{bill.number}"[:300],
        )
    ).rowcount
    if changed != 1:
        raise Conflict(_("Khoản này vừa được người khác xử lý. Vui lòng tải lại."))


def reconcile_pending(market: Market | None = None, *, now: datetime | None = None) -> int:
    """Reconcile every unmatched notification to a board account (of ``market``, or all):
    what a crash between storing and reconciling left behind, or a bill issued after its
    transfer arrived. Returns how many became payments."""
    accounts = select(FeeAccount.account_number).where(FeeAccount.verified_at.is_not(None))
    if market is not None:
        accounts = accounts.where(FeeAccount.market_id == market.id)
    ids = list(
        db.session.scalars(
            select(PaymentNotification.id).where(
                PaymentNotification.match_status == "unmatched",
                PaymentNotification.account_number.in_(accounts),
            )
        )
    )
    return sum(1 for i in ids if reconcile_notification(i, now=now).payment_id is not None)


def assign_notification(
    actor: User,
    market: Market,
    notification: PaymentNotification,
    bill: FeeBill,
    *,
    now: datetime | None = None,
) -> FeePayment:
    """A manager credits an unmatched transfer into the board's account (no usable
    reference) to a bill of the market; audit-logged."""
    now = now or utcnow()
    _check_manager(actor, market)
    if bill.market_id != market.id:
        raise NotFound()
    accounts = {a.account_number for a in queries.market_board_accounts(market)}
    if (
        notification.account_number not in accounts
        or notification.match_status != "unmatched"
        or notification.direction != "in"
    ):
        raise NotFound()
    payment = _stage_payment(
        bill,
        notification.amount,
        "transfer",
        notification.transaction_at,
        notification_id=notification.id,
        actor=actor,
        now=now,
    )
    _take_notification(notification, bill, now)
    audit.record(
        "fee.payment.assign",
        actor=actor,
        entity="fee_payment",
        entity_id=payment.id,
        market_id=market.id,
        old={"notification": notification.id, "match_status": "unmatched"},
        new={"bill": bill.number, "amount": payment.amount, "method": "transfer"},
    )
    _commit()
    return payment


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(_("Khoản này vừa được ghi nhận. Vui lòng tải lại.")) from exc


def _check_manager(actor: User, market: Market) -> None:
    if not permissions.is_market_manager(actor, market):
        raise Forbidden()


# --- cash --------------------------------------------------------------------------------------


def record_cash(
    actor: User,
    bill: FeeBill,
    *,
    amount: int,
    receipt: str | None,
    paid_at: datetime | None = None,
    now: datetime | None = None,
) -> FeePayment:
    """A manager records cash paid on a bill (who, when, the paper receipt's number if one
    was written): a numbered receipt as for any payment; audit-logged."""
    now = now or utcnow()
    _check_manager(actor, bill.market)
    errors: dict[str, list[str]] = {}
    if not isinstance(amount, int) or amount < 1:
        errors["amount"] = [_("Số tiền phải lớn hơn 0 đồng.")]
    elif amount > MAX_CASH_AMOUNT:
        errors["amount"] = [_("Số tiền lớn quá. Vui lòng kiểm tra lại.")]
    receipt = " ".join((receipt or "").split()) or None
    if receipt is not None and len(receipt) > RECEIPT_NUMBER_MAX:
        errors["receipt_number"] = [_("Tối đa %(n)s ký tự.", n=RECEIPT_NUMBER_MAX)]
    paid_at = paid_at or now
    if paid_at > now:
        errors["paid_at"] = [_("Thời điểm thu không thể ở tương lai.")]
    if bill.status == "void":
        errors["bill"] = [_("Hóa đơn đã hủy, không thu tiền được.")]
    if errors:
        raise InvalidInput(errors)
    payment = _stage_payment(bill, amount, "cash", paid_at, receipt=receipt, actor=actor, now=now)
    audit.record(
        "fee.payment.cash",
        actor=actor,
        entity="fee_payment",
        entity_id=payment.id,
        market_id=bill.market_id,
        new={
            "bill": bill.number,
            "amount": amount,
            "paid_at": paid_at.isoformat(),
            "receipt_number": receipt,
        },
    )
    _commit()
    return payment


# --- statements --------------------------------------------------------------------------------

#: What happens to a statement line on import.
LINE_OUTCOMES = ("new", "paired", "known", "unmatched", "outgoing")


@dataclass(slots=True)
class PlannedLine:
    line: statements.StatementLine
    outcome: str  # one of LINE_OUTCOMES
    bill: FeeBill | None = None
    payment_id: int | None = None  # "paired": the notifier's payment it is; "known": its own

    @property
    def key(self) -> str:
        return self.line.key


@dataclass(slots=True)
class StatementPlan:
    market: Market
    account: FeeAccount
    statement: statements.Statement
    lines: list[PlannedLine] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def new_amount(self) -> int:
        return sum(p.line.amount for p in self.lines if p.outcome == "new")

    @property
    def changes(self) -> int:
        return self.count("new") + self.count("paired")


def statement_key(account: FeeAccount, line: statements.StatementLine) -> str:
    """The key stored in ``fee_payments.statement_key``: the board account and the line's
    own key (statements.line_key), so one bank's numbering never meets another's."""
    return f"{account.bank_bin}:{account.account_number}:{line.key}"[:120]


def _notified_payment(
    account: FeeAccount, bill: FeeBill, line: statements.StatementLine, taken: set[int]
) -> int | None:
    """The payment a notifier reported that is this statement line: into the same account,
    for the same bill, the same amount, on the same day in Vietnam, not yet paired with
    another line."""
    day = line.booked_at.astimezone(VN_TZ).date()
    rows = db.session.execute(
        select(FeePayment.id, PaymentNotification.transaction_at)
        .join(PaymentNotification, PaymentNotification.id == FeePayment.notification_id)
        .where(
            FeePayment.bill_id == bill.id,
            FeePayment.amount == line.amount,
            FeePayment.statement_key.is_(None),
            PaymentNotification.account_number == account.account_number,
        )
        .order_by(FeePayment.id)
    ).all()
    for payment_id, at in rows:
        if payment_id in taken:
            continue
        if to_local(at).date() == day:
            return payment_id
    return None


def plan_statement(
    actor: User, market: Market, account_id: int, filename: str, content: bytes
) -> StatementPlan:
    """What importing a statement of the board's account would do, line by line (nothing
    changes): ``new`` payments of bills its lines name, lines ``paired`` with the payment a
    notifier already reported (same account, bill, amount and day), lines ``known`` from an
    earlier import, incoming lines naming no bill (``unmatched``) and outgoing ones."""
    _check_manager(actor, market)
    account = db.session.get(FeeAccount, account_id)
    if account is None or account.market_id != market.id or account.verified_at is None:
        raise InvalidInput({"account": [_("Hãy chọn một tài khoản thu phí đã xác minh của chợ.")]})
    statement = statements.read_statement(filename, content)
    if statement.account_number and statement.account_number != account.account_number:
        raise InvalidInput(
            {
                "file": [
                    _(
                        "Sao kê này của tài khoản %(found)s, không phải tài khoản %(chosen)s.",
                        found=statement.account_number,
                        chosen=account.account_number,
                    )
                ]
            }
        )
    plan = StatementPlan(market, account, statement)
    keys = [statement_key(account, line) for line in statement.lines]
    known = (
        dict(
            db.session.execute(
                select(FeePayment.statement_key, FeePayment.id).where(
                    FeePayment.statement_key.in_(keys)
                )
            ).all()
        )
        if keys
        else {}
    )
    taken: set[int] = set()
    for line, key in zip(statement.lines, keys, strict=True):
        if line.direction != "in":
            plan.lines.append(PlannedLine(line, "outgoing"))
            continue
        if key in known:
            plan.lines.append(PlannedLine(line, "known", payment_id=known[key]))
            continue
        bill = queries.bill_for_transfer([market.id], line.description)
        if bill is None:
            plan.lines.append(PlannedLine(line, "unmatched"))
            continue
        paired = _notified_payment(account, bill, line, taken)
        if paired is not None:
            taken.add(paired)
            plan.lines.append(PlannedLine(line, "paired", bill, paired))
        else:
            plan.lines.append(PlannedLine(line, "new", bill))
    return plan


def apply_statement(
    actor: User,
    market: Market,
    account_id: int,
    filename: str,
    content: bytes,
    *,
    now: datetime | None = None,
) -> StatementPlan:
    """Import a statement: its ``new`` lines become payments (method "statement", each with
    a receipt), ``paired`` lines mark the notifier's payment with their key; nothing else
    changes. Importing the same statement again finds every line ``known``: no change.
    Audit-logged as one entry."""
    now = now or utcnow()
    plan = plan_statement(actor, market, account_id, filename, content)
    for planned in plan.lines:
        key = statement_key(plan.account, planned.line)
        if planned.outcome == "new":
            payment = _stage_payment(
                planned.bill,
                planned.line.amount,
                "statement",
                planned.line.booked_at,
                statement_key=key,
                actor=actor,
                now=now,
            )
            planned.payment_id = payment.id
        elif planned.outcome == "paired":
            db.session.execute(
                update(FeePayment)
                .where(FeePayment.id == planned.payment_id, FeePayment.statement_key.is_(None))
                .values(statement_key=key)
            )
    audit.record(
        "fee.statement.import",
        actor=actor,
        entity="fee_account",
        entity_id=plan.account.id,
        market_id=market.id,
        new={
            "file": filename[:100],
            "bank": plan.statement.bank,
            "lines": len(plan.lines),
            **{outcome: plan.count(outcome) for outcome in LINE_OUTCOMES},
            "amount": plan.new_amount,
        },
    )
    _commit()
    return plan


def payment_market(payment: FeePayment) -> Market:
    market = db.session.get(Market, payment.market_id)
    if market is None:
        raise NotFound()
    return market
