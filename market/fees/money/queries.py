"""Read-only figures of fee payments: which bill a transfer names, the board's accounts,
payments and receipts, a market's arrears by stall and by age, and the share collected
cashless. (What a bill still asks and the credit carried: market.fees.queries.)"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select

from market.auth.models import User
from market.extensions import db
from market.fees.models import FeeAccount, FeeBill, FeeCreditNote, FeePayment, FeeReceipt
from market.fees.queries import period_label
from market.fees.values import REFERENCE_ALPHABET, REFERENCE_PREFIX
from market.formatting import VN_TZ, datetime_vn
from market.markets.models import Market, Stall
from market.payments.models import UNMATCHED, PaymentNotification
from market.payments.values import squeeze
from market.qr.receipts import FeeReceiptSlip

# A bill's reference anywhere in a transfer's content once it is squeezed (banks drop
# spaces and punctuation and glue words: "PHICPAB23CD45FT26…"); overlapping, so a reference
# right after letters that look like one is still found.
_REFERENCE_IN_SQUEEZED = re.compile(rf"(?=({REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{8}}))")


def reference_candidates(content: str | None) -> list[str]:
    """Every string of a transfer's content that has the shape of a bill reference, in
    order (the database says which one is a bill).

    >>> reference_candidates("ck phi cho thang 3 - cp ab23-cd45 .FT2611")
    ['CPAB23CD45']
    """
    seen: list[str] = []
    for found in _REFERENCE_IN_SQUEEZED.finditer(squeeze(content)):
        if found.group(1) not in seen:
            seen.append(found.group(1))
    return seen


def board_accounts(account_number: str) -> list[FeeAccount]:
    """The board accounts (any version, verified or replaced) with this number."""
    if not account_number:
        return []
    return list(
        db.session.scalars(select(FeeAccount).where(FeeAccount.account_number == account_number))
    )


def market_board_accounts(market: Market) -> list[FeeAccount]:
    """A market's board accounts that were ever verified, the current one first."""
    return list(
        db.session.scalars(
            select(FeeAccount)
            .where(FeeAccount.market_id == market.id, FeeAccount.verified_at.is_not(None))
            .order_by(FeeAccount.is_current.desc(), FeeAccount.id.desc())
        )
    )


def bill_for_transfer(market_ids: Iterable[int], content: str | None) -> FeeBill | None:
    """The bill of one of ``market_ids`` whose reference the content names (the first one
    named, when several are)."""
    candidates = reference_candidates(content)
    ids = list(market_ids)
    if not candidates or not ids:
        return None
    bills = {
        bill.reference: bill
        for bill in db.session.scalars(
            select(FeeBill).where(FeeBill.reference.in_(candidates), FeeBill.market_id.in_(ids))
        )
    }
    return next((bills[c] for c in candidates if c in bills), None)


def bill_payments(bill: FeeBill) -> list[tuple[FeePayment, FeeReceipt | None]]:
    return list(
        db.session.execute(
            select(FeePayment, FeeReceipt)
            .outerjoin(FeeReceipt, FeeReceipt.payment_id == FeePayment.id)
            .where(FeePayment.bill_id == bill.id)
            .order_by(FeePayment.paid_at, FeePayment.id)
        ).all()
    )


def receipt_of(payment: FeePayment) -> FeeReceipt | None:
    return db.session.scalar(select(FeeReceipt).where(FeeReceipt.payment_id == payment.id))


#: How a receipt says the money came (receipts are Vietnamese documents).
METHOD_LABELS = {
    "transfer": "Chuyển khoản (QR)",
    "statement": "Chuyển khoản (đối chiếu sao kê)",
    "cash": "Tiền mặt",
}


def receipt_slip(
    payment_id: int, market_id: int, bill_id: int | None = None
) -> FeeReceiptSlip | None:
    """What the receipt of payment ``payment_id`` of ``market_id`` (and of ``bill_id``, if
    given) prints, with the bill's balance right after that payment."""
    row = db.session.execute(
        select(FeeReceipt, FeePayment, FeeBill, Market.name, Stall.code, User.full_name)
        .join(FeePayment, FeePayment.id == FeeReceipt.payment_id)
        .join(FeeBill, FeeBill.id == FeePayment.bill_id)
        .join(Market, Market.id == FeeBill.market_id)
        .join(Stall, Stall.id == FeeBill.stall_id)
        .outerjoin(User, User.id == FeePayment.recorded_by_id)
        .where(FeeReceipt.payment_id == payment_id, FeeReceipt.market_id == market_id)
    ).first()
    if row is None:
        return None
    receipt, payment, bill, market_name, stall_code, recorder = row
    if bill_id is not None and bill.id != bill_id:
        return None
    paid_so_far = db.session.scalar(
        select(func.coalesce(func.sum(FeePayment.amount), 0)).where(
            FeePayment.bill_id == bill.id,
            or_(
                FeePayment.paid_at < payment.paid_at,
                and_(FeePayment.paid_at == payment.paid_at, FeePayment.id <= payment.id),
            ),
        )
    )
    credited = db.session.scalar(
        select(func.coalesce(func.sum(FeeCreditNote.amount), 0)).where(
            FeeCreditNote.bill_id == bill.id
        )
    )
    return FeeReceiptSlip(
        number=receipt.number,
        market_name=market_name,
        stall_code=stall_code,
        holder_name=bill.merchant_name or "",
        bill_number=bill.number,
        period_label=period_label(bill),
        amount=payment.amount,
        method_label=METHOD_LABELS.get(payment.method, payment.method),
        paid_at=datetime_vn(payment.paid_at),
        recorded_by=recorder or "",
        balance_after=bill.total - int(credited) - int(paid_so_far),
        reference=bill.reference,
    )


def board_unmatched(market: Market, limit: int = 200) -> list[PaymentNotification]:
    """Incoming transfers into the market board's accounts that named no bill, newest first
    (the payments' unmatched list, limited to this board's accounts)."""
    accounts = select(FeeAccount.account_number).where(
        FeeAccount.market_id == market.id, FeeAccount.verified_at.is_not(None)
    )
    return list(
        db.session.scalars(
            select(PaymentNotification)
            .where(UNMATCHED, PaymentNotification.account_number.in_(accounts))
            .order_by(PaymentNotification.id.desc())
            .limit(limit)
        )
    )


def receipt_by_number(market: Market, number: str) -> FeeReceipt | None:
    return db.session.scalar(
        select(FeeReceipt).where(FeeReceipt.market_id == market.id, FeeReceipt.number == number)
    )


def bill_by_number_or_reference(market: Market, text: str) -> FeeBill | None:
    """A bill of ``market`` by its number as printed or its payment reference."""
    text = (text or "").strip()
    if not text:
        return None
    return db.session.scalar(
        select(FeeBill).where(
            FeeBill.market_id == market.id,
            or_(FeeBill.number == text, FeeBill.reference == squeeze(text)),
        )
    )


# --- arrears -----------------------------------------------------------------------------------

#: Age buckets of an overdue balance, in days past the due date: (label key, first day, last).
AGE_BUCKETS = (("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def age_bucket(days: int) -> str:
    """
    >>> [age_bucket(d) for d in (1, 30, 31, 90, 91, 400)]
    ['1-30', '1-30', '31-60', '61-90', '90+', '90+']
    """
    for key, first, last in AGE_BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return AGE_BUCKETS[0][0]


@dataclass(frozen=True, slots=True)
class OverdueBill:
    bill_id: int
    number: str
    reference: str
    period: str
    due_date: date
    outstanding: int
    days: int

    @property
    def bucket(self) -> str:
        return age_bucket(self.days)


@dataclass(slots=True)
class StallArrears:
    stall_id: int
    stall_code: str
    merchant_name: str
    bills: list[OverdueBill] = field(default_factory=list)
    by_bucket: dict[str, int] = field(default_factory=lambda: {k: 0 for k, *_ in AGE_BUCKETS})

    @property
    def total(self) -> int:
        return sum(b.outstanding for b in self.bills)

    @property
    def oldest_days(self) -> int:
        return max((b.days for b in self.bills), default=0)


@dataclass(slots=True)
class Arrears:
    market: Market
    today: date
    stalls: list[StallArrears]
    by_bucket: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_bucket.values())

    @property
    def bill_count(self) -> int:
        return sum(len(s.bills) for s in self.stalls)


def arrears(market: Market, *, now: datetime) -> Arrears:
    """The market's bills unpaid after their due date, by stall (largest debt first) and by
    age. One query: the bills past due that are not paid or void (the market, status, due
    date index), each with its payments and credit notes summed."""
    today = now.astimezone(VN_TZ).date()
    # Correlated sums: run only for the overdue bills, through the bill_id indexes (a
    # grouped subquery would sum every payment of the database first).
    paid = (
        select(func.coalesce(func.sum(FeePayment.amount), 0))
        .where(FeePayment.bill_id == FeeBill.id)
        .scalar_subquery()
    )
    credited = (
        select(func.coalesce(func.sum(FeeCreditNote.amount), 0))
        .where(FeeCreditNote.bill_id == FeeBill.id)
        .scalar_subquery()
    )
    outstanding = (FeeBill.total - credited - paid).label("outstanding")
    rows = db.session.execute(
        select(
            FeeBill.id,
            FeeBill.number,
            FeeBill.reference,
            FeeBill.period,
            FeeBill.due_date,
            FeeBill.stall_id,
            Stall.code,
            FeeBill.merchant_name,
            outstanding,
        )
        .join(Stall, Stall.id == FeeBill.stall_id)
        .where(
            FeeBill.market_id == market.id,
            FeeBill.status.in_(("open", "partial")),
            FeeBill.due_date < today,
        )
        .order_by(Stall.code, FeeBill.period_start)
    ).all()
    stalls: dict[int, StallArrears] = {}
    totals = {key: 0 for key, *_ in AGE_BUCKETS}
    for bill_id, number, reference, period, due, stall_id, code, name, owed in rows:
        if owed is None or owed <= 0:
            continue
        bill = OverdueBill(bill_id, number, reference, period, due, int(owed), (today - due).days)
        entry = stalls.get(stall_id)
        if entry is None:
            entry = stalls[stall_id] = StallArrears(stall_id, code, name or "")
        entry.bills.append(bill)
        entry.by_bucket[bill.bucket] += bill.outstanding
        totals[bill.bucket] += bill.outstanding
    ordered = sorted(stalls.values(), key=lambda s: (-s.total, s.stall_code))
    return Arrears(market, today, ordered, totals)


# --- the criterion, measured --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CollectedShare:
    """Fees collected on a market's bills of one billing period, and how much was cashless."""

    period: str
    collected: int
    cashless: int


def last_closed_periods(market_ids: Sequence[int], today: date) -> dict[int, str]:
    """Each market's last closed monthly billing period: the latest month with bills that
    ended before ``today``'s month began."""
    if not market_ids:
        return {}
    month_start = today.replace(day=1)
    rows = db.session.execute(
        select(FeeBill.market_id, func.max(FeeBill.period_start))
        .where(
            FeeBill.market_id.in_(list(market_ids)),
            FeeBill.cycle == "monthly",
            FeeBill.period_start < month_start,
        )
        .group_by(FeeBill.market_id)
    ).all()
    return {market_id: start.strftime("%Y-%m") for market_id, start in rows if start}


def collected_shares(market_ids: Sequence[int], today: date) -> dict[int, CollectedShare]:
    """market id -> the fees collected on its last closed period's bills (payments on those
    bills, whenever made), and the part paid cashless (transfers, statement lines). Markets
    without bills are absent: their criterion is declared, not measured."""
    periods = last_closed_periods(market_ids, today)
    if not periods:
        return {}
    cashless = FeePayment.method.in_(("transfer", "statement"))
    conditions = [
        and_(FeeBill.market_id == market_id, FeeBill.period == period)
        for market_id, period in periods.items()
    ]
    rows = db.session.execute(
        select(
            FeeBill.market_id,
            func.coalesce(func.sum(FeePayment.amount), 0),
            func.coalesce(func.sum(case((cashless, FeePayment.amount), else_=0)), 0),
        )
        .join(FeePayment, FeePayment.bill_id == FeeBill.id)
        .where(or_(*conditions))
        .group_by(FeeBill.market_id)
    ).all()
    found = {market_id: (int(total), int(part)) for market_id, total, part in rows}
    return {
        market_id: CollectedShare(period, *found.get(market_id, (0, 0)))
        for market_id, period in periods.items()
    }
