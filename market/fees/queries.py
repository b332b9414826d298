"""Read-only views of the fees domain: accounts, rates in force, bills and what they owe."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import contains_eager, joinedload

from market.extensions import db
from market.fees.models import (
    FeeAccount,
    FeeBill,
    FeeBillLine,
    FeeCharge,
    FeeCreditNote,
    FeePayment,
    FeeRate,
    FeeStallArea,
    FeeType,
    MeterReading,
)
from market.fees.values import Period
from market.markets.models import Market, Stall
from market.merchants.queries import bill_payload
from market.pagination import Page, paginate
from market.qr.notices import BillNotice
from market.vietqr import VietQRError, bank_by_bin

# --- the board's account -----------------------------------------------------------------


def board_account(market: Market) -> FeeAccount | None:
    """The market board's current collection account (verified or not), or None."""
    return db.session.scalar(
        select(FeeAccount).where(FeeAccount.market_id == market.id, FeeAccount.is_current)
    )


def board_account_history(market: Market) -> list[FeeAccount]:
    return list(
        db.session.scalars(
            select(FeeAccount)
            .where(FeeAccount.market_id == market.id)
            .options(joinedload(FeeAccount.created_by), joinedload(FeeAccount.verified_by))
            .order_by(FeeAccount.id.desc())
        )
    )


def paying_account(market_id: int) -> FeeAccount | None:
    """The account bills of this market are paid into: the current one, once verified."""
    return db.session.scalar(
        select(FeeAccount).where(
            FeeAccount.market_id == market_id,
            FeeAccount.is_current,
            FeeAccount.verified_at.is_not(None),
        )
    )


# --- fee types and rates --------------------------------------------------------------------


def fee_types(market: Market, *, cycle: str | None = None, active: bool | None = None):
    query = select(FeeType).where(FeeType.market_id == market.id)
    if cycle is not None:
        query = query.where(FeeType.cycle == cycle)
    if active is not None:
        query = query.where(FeeType.active.is_(active))
    return list(db.session.scalars(query.order_by(FeeType.position, FeeType.id)))


def fee_type_of(market: Market, fee_type_id: int) -> FeeType | None:
    return db.session.scalar(
        select(FeeType).where(FeeType.market_id == market.id, FeeType.id == fee_type_id)
    )


def rates_of(fee_type: FeeType) -> list[FeeRate]:
    return list(
        db.session.scalars(
            select(FeeRate)
            .where(FeeRate.fee_type_id == fee_type.id)
            .order_by(FeeRate.valid_from.desc(), FeeRate.category)
        )
    )


def rates_in_force(fee_type_ids: Iterable[int], on: date) -> dict[int, dict[str, int]]:
    """Each fee type's rate on ``on``, by category ("" for every other): the latest rate
    whose ``valid_from`` is not after it. A later rate (a new price from a coming period)
    does not apply yet; history is kept, so an old period is billed at its own rates."""
    found: dict[int, dict[str, tuple[date, int]]] = {}
    ids = list(fee_type_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(FeeRate.fee_type_id, FeeRate.category, FeeRate.valid_from, FeeRate.amount).where(
            FeeRate.fee_type_id.in_(ids), FeeRate.valid_from <= on
        )
    )
    for type_id, category, valid_from, amount in rows:
        best = found.setdefault(type_id, {}).get(category)
        if best is None or valid_from > best[0]:
            found[type_id][category] = (valid_from, amount)
    return {
        type_id: {category: amount for category, (_from, amount) in by_category.items()}
        for type_id, by_category in found.items()
    }


def charges_of(fee_type: FeeType, *, limit: int = 50) -> list[tuple]:
    """A one-off fee's latest charges: (charge, stall code, billed bill number or None)."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(FeeCharge, Stall.code, FeeBill.number)
            .join(Stall, Stall.id == FeeCharge.stall_id)
            .outerjoin(FeeBill, FeeBill.id == FeeCharge.bill_id)
            .where(FeeCharge.fee_type_id == fee_type.id)
            .order_by(FeeCharge.id.desc())
            .limit(limit)
        )
    ]


def stall_areas(market: Market) -> list[tuple]:
    """Every active stall of the market with its area in dm² (or None), in stall order."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(Stall, FeeStallArea.area_dm2)
            .outerjoin(FeeStallArea, FeeStallArea.stall_id == Stall.id)
            .where(Stall.market_id == market.id, Stall.status == "active")
            .order_by(Stall.code)
        )
    ]


def readings_of(market: Market, fee_type: FeeType, period: Period) -> list[tuple]:
    """Every active stall of the market with its reading of ``period`` (or None) and the
    previous reading's end (or None): the meter walk's page, in stall order."""
    previous = period.previous().key
    this = (
        select(MeterReading)
        .where(MeterReading.fee_type_id == fee_type.id, MeterReading.period == period.key)
        .subquery()
    )
    last = (
        select(MeterReading.stall_id, MeterReading.end_reading)
        .where(MeterReading.fee_type_id == fee_type.id, MeterReading.period == previous)
        .subquery()
    )
    rows = db.session.execute(
        select(Stall, this.c.start_reading, this.c.end_reading, last.c.end_reading)
        .outerjoin(this, this.c.stall_id == Stall.id)
        .outerjoin(last, last.c.stall_id == Stall.id)
        .where(Stall.market_id == market.id, Stall.status == "active")
        .order_by(Stall.code)
    )
    return [tuple(row) for row in rows]


# --- bills ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """What a bill asks now: its total, less credit notes and payments (never below 0)."""

    total: int
    credited: int
    paid: int

    @property
    def due(self) -> int:
        return max(0, self.total - self.credited - self.paid)

    @property
    def excess(self) -> int:
        """Paid (or credited) above the total: a credit for the stall's next bill."""
        return max(0, self.credited + self.paid - self.total)


def _sums(column, bill_ids: list[int]) -> dict[int, int]:
    table = column.class_
    rows = db.session.execute(
        select(table.bill_id, func.sum(column))
        .where(table.bill_id.in_(bill_ids))
        .group_by(table.bill_id)
    )
    return {bill_id: int(total or 0) for bill_id, total in rows}


def owed(bills: Iterable[FeeBill]) -> dict[int, Owed]:
    """:class:`Owed` of each bill, in two grouped queries."""
    bills = list(bills)
    ids = [bill.id for bill in bills]
    credited: dict[int, int] = {}
    paid: dict[int, int] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        credited.update(_sums(FeeCreditNote.amount, chunk))
        paid.update(_sums(FeePayment.amount, chunk))
    return {
        bill.id: Owed(bill.total, credited.get(bill.id, 0), paid.get(bill.id, 0)) for bill in bills
    }


def credit_balances(market_id: int, period: Period, stall_ids: Iterable[int]) -> dict[int, int]:
    """Each stall's credit to carry onto its bill of ``period``: what was paid or credited on
    its earlier bills (same cycle) above their totals, less the credit earlier bills already
    carried. Stalls without credit are left out.

    The one place a carried credit is computed (the billing calls it); the payments side
    (partial, over and late payments) only has to record ``fee_payments`` rows. A market
    without payments or credit notes has no credit: two indexed queries say so."""
    wanted = set(stall_ids)
    paid = dict(
        db.session.execute(
            select(FeePayment.bill_id, func.sum(FeePayment.amount))
            .where(FeePayment.market_id == market_id)
            .group_by(FeePayment.bill_id)
        ).all()
    )
    credited = dict(
        db.session.execute(
            select(FeeCreditNote.bill_id, func.sum(FeeCreditNote.amount))
            .where(FeeCreditNote.market_id == market_id)
            .group_by(FeeCreditNote.bill_id)
        ).all()
    )
    if not wanted or not (paid or credited):
        return {}
    earlier = (
        select(FeeBill.id)
        .where(
            FeeBill.market_id == market_id,
            FeeBill.cycle == period.cycle,
            FeeBill.period_start < period.start,
        )
        .scalar_subquery()
    )
    carried = dict(
        db.session.execute(
            select(FeeBillLine.bill_id, func.sum(FeeBillLine.amount))
            .where(FeeBillLine.kind == "carry", FeeBillLine.bill_id.in_(earlier))
            .group_by(FeeBillLine.bill_id)
        ).all()
    )
    involved = list(set(paid) | set(credited) | set(carried))
    balance: dict[int, int] = {}
    for start in range(0, len(involved), 1000):
        rows = db.session.execute(
            select(FeeBill.id, FeeBill.stall_id, FeeBill.total).where(
                FeeBill.id.in_(involved[start : start + 1000]),
                FeeBill.market_id == market_id,
                FeeBill.cycle == period.cycle,
                FeeBill.period_start < period.start,
            )
        )
        for bill_id, stall_id, total in rows:
            if stall_id not in wanted:
                continue
            excess = max(0, int(paid.get(bill_id, 0)) + int(credited.get(bill_id, 0)) - total)
            # a carry line is negative: credit that bill used up
            balance[stall_id] = balance.get(stall_id, 0) + excess + int(carried.get(bill_id, 0))
    return {stall_id: amount for stall_id, amount in balance.items() if amount > 0}


def bill_lines(bill: FeeBill) -> list[FeeBillLine]:
    return list(
        db.session.scalars(
            select(FeeBillLine).where(FeeBillLine.bill_id == bill.id).order_by(FeeBillLine.position)
        )
    )


def lines_of(bill_ids: list[int]) -> dict[int, list[FeeBillLine]]:
    found: dict[int, list[FeeBillLine]] = {bill_id: [] for bill_id in bill_ids}
    for start in range(0, len(bill_ids), 1000):
        chunk = bill_ids[start : start + 1000]
        for line in db.session.scalars(
            select(FeeBillLine)
            .where(FeeBillLine.bill_id.in_(chunk))
            .order_by(FeeBillLine.bill_id, FeeBillLine.position)
        ):
            found[line.bill_id].append(line)
    return found


def credit_notes_of(bill: FeeBill) -> list[FeeCreditNote]:
    return list(
        db.session.scalars(
            select(FeeCreditNote)
            .where(FeeCreditNote.bill_id == bill.id)
            .options(joinedload(FeeCreditNote.created_by))
            .order_by(FeeCreditNote.id)
        )
    )


def payments_of(bill: FeeBill) -> list[FeePayment]:
    return list(
        db.session.scalars(
            select(FeePayment).where(FeePayment.bill_id == bill.id).order_by(FeePayment.paid_at)
        )
    )


def _bills() -> Select:
    return (
        select(FeeBill)
        .join(FeeBill.stall)
        .join(FeeBill.market)
        .options(contains_eager(FeeBill.stall), contains_eager(FeeBill.market))
    )


def market_bills(
    market: Market, *, period: str = "", status: str = "", page: int = 1, per_page: int = 50
) -> Page:
    query = _bills().where(FeeBill.market_id == market.id)
    if period:
        query = query.where(FeeBill.period == period)
    if status:
        query = query.where(FeeBill.status == status)
    return paginate(query.order_by(FeeBill.period_start.desc(), Stall.code), page, per_page)


def bill_by_number(market: Market, number: str) -> FeeBill | None:
    return db.session.scalar(
        _bills().where(FeeBill.market_id == market.id, FeeBill.number == number)
    )


def merchant_bills(merchant_id: int, *, limit: int = 60) -> list[FeeBill]:
    """A merchant's bills, newest period first, of the stalls they hold now (a stall's past
    holder does not see its new holder's bills, nor the other way round)."""
    return list(
        db.session.scalars(
            _bills()
            .where(FeeBill.merchant_id == merchant_id, Stall.merchant_id == merchant_id)
            .order_by(FeeBill.period_start.desc(), Market.code, Stall.code)
            .limit(limit)
        )
    )


def merchant_bill(merchant_id: int, bill_id: int) -> FeeBill | None:
    return db.session.scalar(
        _bills().where(
            FeeBill.id == bill_id,
            FeeBill.merchant_id == merchant_id,
            Stall.merchant_id == merchant_id,
        )
    )


def billing_periods(market: Market, *, limit: int = 24) -> list[tuple]:
    """The market's billed periods, newest first: (period, bills, total)."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(FeeBill.period, func.count(FeeBill.id), func.sum(FeeBill.total))
            .where(FeeBill.market_id == market.id)
            .group_by(FeeBill.period)
            .order_by(FeeBill.period.desc())
            .limit(limit)
        )
    ]


def bill_qr_payload(bill: FeeBill, due: int, account: FeeAccount | None) -> str | None:
    """The VietQR text that pays what ``bill`` still asks (``due``) into the board's
    verified ``account``; None when nothing is due or there is no verified account."""
    if account is None or due <= 0:
        return None
    try:
        return bill_payload(account, amount=due, reference=bill.reference)
    except VietQRError:
        return None


def notice_bills(market: Market, period: str) -> Iterator[tuple[FeeBill, list[FeeBillLine]]]:
    """A market's bills of a period with their lines, in stall order, a page at a time (the
    notices PDF of 2,100 stalls never holds them all)."""
    ids = list(
        db.session.scalars(
            select(FeeBill.id)
            .join(Stall, Stall.id == FeeBill.stall_id)
            .where(FeeBill.market_id == market.id, FeeBill.period == period)
            .order_by(Stall.code)
        )
    )
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        bills = {
            bill.id: bill for bill in db.session.scalars(_bills().where(FeeBill.id.in_(chunk)))
        }
        lines = lines_of(chunk)
        for bill_id in chunk:
            yield bills[bill_id], lines[bill_id]


def unbilled_stall_count(market: Market, period: Period) -> int:
    billed = select(FeeBill.stall_id).where(
        FeeBill.market_id == market.id, FeeBill.period == period.key
    )
    return db.session.scalar(
        select(func.count(Stall.id)).where(
            and_(
                Stall.market_id == market.id,
                Stall.status == "active",
                Stall.merchant_id.is_not(None),
                Stall.id.not_in(billed),
            )
        )
    )


# --- paper ----------------------------------------------------------------------------------


def period_label(bill: FeeBill) -> str:
    """How paper names a bill's period, in Vietnamese (notices and receipts are Vietnamese
    documents whatever the reader's screen language)."""
    start = bill.period_start
    if bill.cycle == "daily":
        return f"Ngày {start:%d/%m/%Y}"
    return f"Tháng {start:%m/%Y}"


def account_line(account: FeeAccount | None) -> str:
    if account is None:
        return ""
    bank = bank_by_bin(account.bank_bin)
    name = bank.short_name if bank else account.bank_bin
    return f"{name} · STK {account.account_number} · {account.holder_name}"


def notice_for(
    bill: FeeBill, lines: list[FeeBillLine], owes: Owed, account: FeeAccount | None
) -> BillNotice:
    return BillNotice(
        market_name=bill.market.name,
        period_label=period_label(bill),
        number=bill.number,
        stall_code=bill.stall.code,
        holder_name=bill.merchant_name,
        lines=tuple((line.description, line.amount) for line in lines),
        total=bill.total,
        amount_due=owes.due,
        due_label=f"{bill.due_date:%d/%m/%Y}",
        reference=bill.reference,
        payload=bill_qr_payload(bill, owes.due, account),
        account_line=account_line(account),
    )


def market_notices(market: Market, period: str) -> Iterator[BillNotice]:
    """The notices of a market's bills of ``period``, in stall order, built a page of bills
    at a time."""
    account = paying_account(market.id)
    batch: list[tuple[FeeBill, list[FeeBillLine]]] = []

    def flush():
        amounts = owed(bill for bill, _lines in batch)
        for bill, lines in batch:
            yield notice_for(bill, lines, amounts[bill.id], account)

    for item in notice_bills(market, period):
        batch.append(item)
        if len(batch) == 200:
            yield from flush()
            batch = []
    yield from flush()
