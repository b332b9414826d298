"""Use cases of the fees domain. Each public function commits once; ``stage_*`` functions
only stage (the demo data and the bench call them inside their own transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Table, bindparam, func, insert, null, select, text, update
from sqlalchemy.exc import IntegrityError

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User, utcnow
from market.errors import Conflict, Forbidden, InvalidInput
from market.extensions import db
from market.fees import queries
from market.fees.models import (
    CYCLES,
    FEE_KINDS,
    FeeAccount,
    FeeBill,
    FeeBillLine,
    FeeCharge,
    FeeCreditNote,
    FeeRate,
    FeeStallArea,
    FeeType,
    MeterReading,
)
from market.fees.values import InvalidPeriod, Period, new_reference, parse_period
from market.markets.models import GOODS_CATEGORIES, Market, Stall
from market.merchants.models import Merchant
from market.merchants.services import four_eyes_refusal, involved_in_history


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict() from exc


def _require(allowed: bool) -> None:
    if not allowed:
        raise Forbidden()


def period_or_invalid(text: str, field: str = "period") -> Period:
    try:
        return parse_period(text)
    except InvalidPeriod as exc:
        raise InvalidInput(
            {
                field: [
                    _(
                        "Kỳ “%(v)s” phải có dạng NNNN-TT (một tháng) hoặc NNNN-TT-NN (một ngày).",
                        v=text,
                    )
                ]
            }
        ) from exc


# --- the board's collection account ---------------------------------------------------------


def _account_snapshot(account: FeeAccount | None) -> dict | None:
    if account is None:
        return None
    return {
        "account_id": account.id,
        "bank_bin": account.bank_bin,
        "account_number": account.account_number,
        "holder_name": account.holder_name,
        "verified": account.verified,
    }


def set_board_account(
    actor: User | None,
    market: Market,
    *,
    bank_bin: str,
    account_number: str,
    holder_name: str,
    now: datetime | None = None,
) -> FeeAccount | None:
    """Make this account the board's collection account (pending until a second person
    verifies it). None when it is the current account already. Audit-logged."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, market))
    current = queries.board_account(market)
    if current is not None and (
        current.bank_bin,
        current.account_number,
        current.holder_name,
    ) == (bank_bin, account_number, holder_name):
        return None
    now = now or utcnow()
    if current is not None:
        result = db.session.execute(
            update(FeeAccount)
            .where(FeeAccount.id == current.id, FeeAccount.is_current)
            .values(is_current=False, replaced_at=now)
            .execution_options(synchronize_session="fetch")
        )
        if result.rowcount != 1:
            raise Conflict(_("Tài khoản thu phí của chợ vừa được người khác thay đổi."))
    account = FeeAccount(
        market_id=market.id,
        bank_bin=bank_bin,
        account_number=account_number,
        holder_name=holder_name,
        is_current=True,
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(account)
    db.session.flush()
    audit.record(
        "fee_account.set",
        actor=actor,
        entity="market",
        entity_id=market.id,
        market_id=market.id,
        old=_account_snapshot(current),
        new=_account_snapshot(account),
    )
    _commit()
    return account


def board_account_refusal(actor: User, account: FeeAccount):
    """Why ``actor`` may not verify the board's ``account`` (the stalls' four-eyes rule,
    market.merchants.services.four_eyes_refusal), or None."""
    history = db.session.execute(
        select(
            FeeAccount.id,
            FeeAccount.created_by_id,
            null(),
            FeeAccount.verified_at.is_not(None),
        )
        .where(FeeAccount.market_id == account.market_id)
        .order_by(FeeAccount.id)
    ).all()
    return four_eyes_refusal(
        actor,
        account.market,
        is_current=account.is_current,
        verified=account.verified,
        involved=involved_in_history(history, account.id, account.created_by_id, None),
        replaced_message=_("Tài khoản này không còn là tài khoản thu phí hiện tại của chợ."),
        pending_message=_("Bạn đã tạo một thay đổi khác của tài khoản thu phí đang chờ xác minh."),
    )


def verify_board_account(actor: User, account: FeeAccount) -> FeeAccount:
    refusal = board_account_refusal(actor, account)
    if refusal is not None:
        raise refusal.error()
    if account.verified:
        return account
    result = db.session.execute(
        update(FeeAccount)
        .where(
            FeeAccount.id == account.id,
            FeeAccount.is_current,
            FeeAccount.verified_at.is_(None),
        )
        .values(verified_at=utcnow(), verified_by_id=actor.id)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(_("Tài khoản này vừa được người khác thay đổi. Vui lòng tải lại trang."))
    audit.record(
        "fee_account.verify",
        actor=actor,
        entity="market",
        entity_id=account.market_id,
        market_id=account.market_id,
        new=_account_snapshot(account),
    )
    _commit()
    return account


# --- fee types and rates --------------------------------------------------------------------


def _check_fee_type_fields(kind: str, cycle: str, category: str) -> None:
    errors: dict[str, list[str]] = {}
    if kind not in FEE_KINDS:
        errors["kind"] = [_("Loại phí không hợp lệ.")]
    if cycle not in CYCLES:
        errors["cycle"] = [_("Chu kỳ phải là hằng tháng hoặc hằng ngày.")]
    elif cycle == "daily" and kind not in ("fixed", "rent_category", "rent_area"):
        errors["cycle"] = [_("Chỉ phí cố định và tiền thuê mới thu theo ngày.")]
    if category and category not in GOODS_CATEGORIES:
        errors["category"] = [_("Ngành hàng không hợp lệ.")]
    if category and kind != "rent_category":
        errors["category"] = [_("Chỉ tiền thuê theo ngành hàng mới có mức riêng từng ngành.")]
    if errors:
        raise InvalidInput(errors)


def create_fee_type(
    actor: User | None,
    market: Market,
    *,
    code: str,
    name: str,
    kind: str,
    cycle: str = "monthly",
    unit: str = "",
    amount: int,
    valid_from: date,
    category: str = "",
) -> FeeType:
    """A new fee of the market with its first rate (from ``valid_from``). Audit-logged."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, market))
    _check_fee_type_fields(kind, cycle, category)
    taken = db.session.scalar(
        select(FeeType.id).where(FeeType.market_id == market.id, FeeType.code == code)
    )
    if taken is not None:
        raise InvalidInput({"code": [_("Chợ đã có khoản phí mã “%(code)s”.", code=code)]})
    position = db.session.scalar(
        select(func.coalesce(func.max(FeeType.position), 0)).where(FeeType.market_id == market.id)
    )
    fee_type = FeeType(
        market_id=market.id,
        code=code,
        name=name,
        kind=kind,
        cycle=cycle,
        unit=unit,
        active=True,
        position=position + 1,
    )
    db.session.add(fee_type)
    db.session.flush()
    _stage_rate(actor, fee_type, amount=amount, valid_from=valid_from, category=category)
    audit.record(
        "fee_type.create",
        actor=actor,
        entity="fee_type",
        entity_id=fee_type.id,
        market_id=market.id,
        new={"code": code, "name": name, "kind": kind, "cycle": cycle, "unit": unit},
    )
    _commit()
    return fee_type


def update_fee_type(actor: User | None, fee_type: FeeType, *, name: str, active: bool) -> FeeType:
    """Rename a fee or stop billing it (its rates and bills stay). Audit-logged."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, fee_type.market))
    old = {"name": fee_type.name, "active": fee_type.active}
    fee_type.name = name
    fee_type.active = active
    audit.record(
        "fee_type.update",
        actor=actor,
        entity="fee_type",
        entity_id=fee_type.id,
        market_id=fee_type.market_id,
        old=old,
        new={"name": name, "active": active},
    )
    _commit()
    return fee_type


def _stage_rate(
    actor: User | None, fee_type: FeeType, *, amount: int, valid_from: date, category: str
) -> FeeRate:
    errors: dict[str, list[str]] = {}
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= 10**12:
        errors["amount"] = [_("Mức phí phải là số đồng nguyên, không âm.")]
    if category and fee_type.kind != "rent_category":
        errors["category"] = [_("Chỉ tiền thuê theo ngành hàng mới có mức riêng từng ngành.")]
    elif category and category not in GOODS_CATEGORIES:
        errors["category"] = [_("Ngành hàng không hợp lệ.")]
    if fee_type.cycle == "monthly" and valid_from.day != 1:
        errors["valid_from"] = [_("Mức phí theo tháng áp dụng từ ngày đầu của một tháng.")]
    if errors:
        raise InvalidInput(errors)
    existing = db.session.scalar(
        select(FeeRate.id).where(
            FeeRate.fee_type_id == fee_type.id,
            FeeRate.category == category,
            FeeRate.valid_from == valid_from,
        )
    )
    if existing is not None:
        raise InvalidInput(
            {"valid_from": [_("Đã có mức phí từ kỳ này. Hãy nhập mức mới từ một kỳ khác.")]}
        )
    rate = FeeRate(
        fee_type_id=fee_type.id,
        category=category,
        valid_from=valid_from,
        amount=amount,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(rate)
    return rate


def add_rate(
    actor: User | None, fee_type: FeeType, *, amount: int, valid_from: date, category: str = ""
) -> FeeRate:
    """A new rate of a fee from a period on. Earlier rates stay (history; bills already
    issued are never changed by it). Audit-logged."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, fee_type.market))
    rate = _stage_rate(actor, fee_type, amount=amount, valid_from=valid_from, category=category)
    db.session.flush()
    audit.record(
        "fee_rate.add",
        actor=actor,
        entity="fee_type",
        entity_id=fee_type.id,
        market_id=fee_type.market_id,
        new={"amount": amount, "valid_from": valid_from.isoformat(), "category": category},
    )
    _commit()
    return rate


def set_stall_areas(actor: User | None, market: Market, areas: Mapping[int, int]) -> int:
    """Stalls' floor areas in dm² (for rent by area), {stall id: area}. Returns how many
    changed. Audit-logged."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, market))
    stalls = set(
        db.session.scalars(
            select(Stall.id).where(Stall.market_id == market.id, Stall.id.in_(list(areas)))
        )
    )
    if stalls != set(areas):
        raise InvalidInput({"stall": [_("Có sạp không thuộc chợ này.")]})
    if any(not 0 < area <= 10_000_00 for area in areas.values()):
        raise InvalidInput({"area": [_("Diện tích phải lớn hơn 0.")]})
    current = dict(
        db.session.execute(
            select(FeeStallArea.stall_id, FeeStallArea.area_dm2).where(
                FeeStallArea.stall_id.in_(list(areas))
            )
        ).all()
    )
    changed = 0
    now = utcnow()
    for stall_id, area in areas.items():
        if current.get(stall_id) == area:
            continue
        changed += 1
        row = db.session.get(FeeStallArea, stall_id)
        if row is None:
            db.session.add(
                FeeStallArea(
                    stall_id=stall_id,
                    area_dm2=area,
                    updated_at=now,
                    updated_by_id=actor.id if actor else None,
                )
            )
        else:
            row.area_dm2, row.updated_at = area, now
            row.updated_by_id = actor.id if actor else None
        audit.record(
            "fee_area.set",
            actor=actor,
            entity="stall",
            entity_id=stall_id,
            market_id=market.id,
            old={"area_dm2": current.get(stall_id)},
            new={"area_dm2": area},
        )
    _commit()
    return changed


# --- meter readings and charges -------------------------------------------------------------


@dataclass(frozen=True)
class ReadingEntry:
    end: int
    start: int | None = None  # the first reading of a meter: its index at the start


def record_readings(
    actor: User | None,
    market: Market,
    fee_type: FeeType,
    period_text: str,
    entries: Mapping[int, ReadingEntry],
) -> int:
    """Save meter readings of ``period`` (a month), {stall id: entry}. The start of a
    reading is the end of the stall's previous one (or the entry's ``start``, for a new
    meter; else the end itself: the first reading sets the meter). A reading already on a
    bill cannot change. All or nothing; errors per stall id. Returns how many changed."""
    if actor is not None:
        _require(permissions.can_view_fees(actor, market))
    if fee_type.market_id != market.id or fee_type.kind != "metered":
        raise InvalidInput({"fee_type": [_("Khoản phí này không tính theo công tơ.")]})
    period = period_or_invalid(period_text)
    if period.cycle != "monthly":
        raise InvalidInput({"period": [_("Chỉ số công tơ ghi theo tháng (NNNN-TT).")]})
    stall_ids = list(entries)
    known = set(
        db.session.scalars(
            select(Stall.id).where(Stall.market_id == market.id, Stall.id.in_(stall_ids))
        )
    )
    previous = dict(
        db.session.execute(
            select(MeterReading.stall_id, MeterReading.end_reading).where(
                MeterReading.fee_type_id == fee_type.id,
                MeterReading.period == period.previous().key,
                MeterReading.stall_id.in_(stall_ids),
            )
        ).all()
    )
    existing = {
        reading.stall_id: reading
        for reading in db.session.scalars(
            select(MeterReading).where(
                MeterReading.fee_type_id == fee_type.id,
                MeterReading.period == period.key,
                MeterReading.stall_id.in_(stall_ids),
            )
        )
    }
    billed = set(
        db.session.scalars(
            select(FeeBillLine.meter_reading_id).where(
                FeeBillLine.meter_reading_id.in_([r.id for r in existing.values()])
            )
        )
    )
    errors: dict[str, list[str]] = {}
    staged: list[tuple[int, int, int]] = []
    for stall_id, entry in entries.items():
        key = str(stall_id)
        if stall_id not in known:
            errors[key] = [_("Sạp không thuộc chợ này.")]
            continue
        start = entry.start if entry.start is not None else previous.get(stall_id, entry.end)
        if not (isinstance(entry.end, int) and 0 <= entry.end <= 10**12 and start >= 0):
            errors[key] = [_("Chỉ số phải là số nguyên không âm.")]
        elif entry.end < start:
            errors[key] = [
                _("Chỉ số mới %(new)s nhỏ hơn chỉ số cũ %(old)s.", new=entry.end, old=start)
            ]
        elif stall_id in existing and existing[stall_id].id in billed:
            if (existing[stall_id].start_reading, existing[stall_id].end_reading) != (
                start,
                entry.end,
            ):
                errors[key] = [_("Chỉ số kỳ này đã lên hóa đơn, không sửa được.")]
        else:
            staged.append((stall_id, start, entry.end))
    if errors:
        raise InvalidInput(errors)
    changed = 0
    now = utcnow()
    for stall_id, start, end in staged:
        reading = existing.get(stall_id)
        if reading is not None and (reading.start_reading, reading.end_reading) == (start, end):
            continue
        changed += 1
        if reading is None:
            db.session.add(
                MeterReading(
                    stall_id=stall_id,
                    fee_type_id=fee_type.id,
                    period=period.key,
                    start_reading=start,
                    end_reading=end,
                    recorded_at=now,
                    recorded_by_id=actor.id if actor else None,
                )
            )
        else:
            reading.start_reading, reading.end_reading = start, end
            reading.recorded_at = now
            reading.recorded_by_id = actor.id if actor else None
    if changed:
        audit.record(
            "fee_reading.record",
            actor=actor,
            entity="fee_type",
            entity_id=fee_type.id,
            market_id=market.id,
            new={"period": period.key, "readings": changed},
        )
    _commit()
    return changed


def add_charge(
    actor: User | None,
    stall: Stall,
    fee_type: FeeType,
    *,
    period_text: str,
    amount: int,
    note: str = "",
) -> FeeCharge:
    """A one-off charge to a stall, billed on its first bill of ``period`` or later."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, stall.market))
    if fee_type.market_id != stall.market_id or fee_type.kind != "one_off":
        raise InvalidInput({"fee_type": [_("Khoản phí này không phải khoản thu một lần.")]})
    period = period_or_invalid(period_text)
    if period.cycle != "monthly":
        raise InvalidInput({"period": [_("Khoản thu một lần ghi theo tháng (NNNN-TT).")]})
    if not isinstance(amount, int) or not 0 < amount <= 10**12:
        raise InvalidInput({"amount": [_("Số tiền phải là số đồng nguyên lớn hơn 0.")]})
    charge = FeeCharge(
        market_id=stall.market_id,
        stall_id=stall.id,
        fee_type_id=fee_type.id,
        period=period.key,
        amount=amount,
        note=note,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(charge)
    db.session.flush()
    audit.record(
        "fee_charge.add",
        actor=actor,
        entity="stall",
        entity_id=stall.id,
        market_id=stall.market_id,
        new={"fee_type": fee_type.code, "period": period.key, "amount": amount, "note": note},
    )
    _commit()
    return charge


# --- billing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillingResult:
    period: str
    created: int
    existing: int
    total: int  # of the bills created, in dong


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def _area(dm2: int) -> str:
    whole, rest = divmod(dm2, 100)
    return f"{whole},{rest:02d}".rstrip("0").rstrip(",") if rest else str(whole)


def bill_market(
    actor: User | None,
    market: Market,
    period_text: str,
    *,
    due_date: date | None = None,
    now: datetime | None = None,
) -> BillingResult:
    """Bill every active stall of ``market`` with a holder for a period: one bill per stall
    with a line per fee (monthly fees for ``YYYY-MM``, daily fees for ``YYYY-MM-DD``).

    Idempotent: a stall already billed for the period keeps its bill untouched (a bill is
    never edited; corrections are credit notes), so running it twice gives the same bills.
    Audit-logged once per run."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, market))
    period = period_or_invalid(period_text)
    result = stage_bills(actor, market, period, due_date=due_date, now=now)
    if result.created:
        audit.record(
            "fee_bill.issue",
            actor=actor,
            entity="market",
            entity_id=market.id,
            market_id=market.id,
            new={"period": period.key, "bills": result.created, "total": result.total},
        )
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            _("Kỳ này đang được lập hóa đơn ở nơi khác. Vui lòng thử lại sau ít phút.")
        ) from exc
    return result


def stage_bills(
    actor: User | None,
    market: Market,
    period: Period,
    *,
    due_date: date | None = None,
    now: datetime | None = None,
) -> BillingResult:
    """The bills of :func:`bill_market`, staged in bulk statements (no commit)."""
    now = now or utcnow()
    due_date = due_date or period.default_due_date()
    types = queries.fee_types(market, cycle=period.cycle, active=True)
    existing_stalls = set(
        db.session.scalars(
            select(FeeBill.stall_id).where(
                FeeBill.market_id == market.id, FeeBill.period == period.key
            )
        )
    )
    if not types:
        return BillingResult(period.key, 0, len(existing_stalls), 0)
    rates = queries.rates_in_force([t.id for t in types], period.start)
    stalls = [
        row
        for row in db.session.execute(
            select(Stall.id, Stall.category, Stall.merchant_id, Merchant.full_name)
            .join(Merchant, Merchant.id == Stall.merchant_id)
            .where(Stall.market_id == market.id, Stall.status == "active")
            .order_by(Stall.code)
        )
        if row.id not in existing_stalls
    ]
    if not stalls:
        return BillingResult(period.key, 0, len(existing_stalls), 0)
    stall_ids = [row.id for row in stalls]
    kinds = {t.kind for t in types}
    areas = _by_stall(FeeStallArea.stall_id, FeeStallArea.area_dm2, stall_ids, "rent_area" in kinds)
    readings: dict[tuple[int, int], tuple[int, int, int]] = {}
    if "metered" in kinds:
        for reading_id, stall_id, type_id, start, end in db.session.execute(
            select(
                MeterReading.id,
                MeterReading.stall_id,
                MeterReading.fee_type_id,
                MeterReading.start_reading,
                MeterReading.end_reading,
            )
            .join(Stall, Stall.id == MeterReading.stall_id)
            .where(Stall.market_id == market.id, MeterReading.period == period.key)
        ):
            readings[(stall_id, type_id)] = (reading_id, start, end)
    charges: dict[int, list[tuple[int, int, int, str, str]]] = {}
    if "one_off" in kinds:
        for charge_id, stall_id, type_id, amount, note, charge_period in db.session.execute(
            select(
                FeeCharge.id,
                FeeCharge.stall_id,
                FeeCharge.fee_type_id,
                FeeCharge.amount,
                FeeCharge.note,
                FeeCharge.period,
            )
            .where(
                FeeCharge.market_id == market.id,
                FeeCharge.bill_id.is_(None),
                FeeCharge.period <= period.key,
            )
            .order_by(FeeCharge.id)
        ):
            charges.setdefault(stall_id, []).append(
                (charge_id, type_id, amount, note, charge_period)
            )
    credits = queries.credit_balances(market.id, period, stall_ids)

    sequence = len(existing_stalls)
    compact = period.key.replace("-", "")
    bills: list[dict] = []
    lines_by_stall: dict[int, list[dict]] = {}
    charge_ids_by_stall: dict[int, list[int]] = {}
    for stall in stalls:
        lines = _lines_for(stall, types, rates, areas, readings, charges.get(stall.id, []))
        if not lines:
            continue
        subtotal = sum(line["amount"] for line in lines)
        credit = min(credits.get(stall.id, 0), subtotal)
        if credit:
            lines.append(
                {
                    "kind": "carry",
                    "fee_type_id": None,
                    "description": "Trừ tiền trả thừa kỳ trước",
                    "quantity": 1,
                    "unit_price": -credit,
                    "amount": -credit,
                    "meter_reading_id": None,
                    "charge_id": None,
                }
            )
        total = subtotal - credit
        sequence += 1
        bills.append(
            {
                "market_id": market.id,
                "stall_id": stall.id,
                "merchant_id": stall.merchant_id,
                "merchant_name": stall.full_name,
                "period": period.key,
                "cycle": period.cycle,
                "period_start": period.start,
                "number": f"{compact}-{sequence:04d}",
                "reference": "",
                "total": total,
                "due_date": due_date,
                "status": "open" if total > 0 else "paid",
                "issued_at": now,
                "issued_by_id": actor.id if actor else None,
            }
        )
        lines_by_stall[stall.id] = lines
        charge_ids_by_stall[stall.id] = [line["charge_id"] for line in lines if line["charge_id"]]
    if not bills:
        return BillingResult(period.key, 0, len(existing_stalls), 0)
    for bill, reference in zip(bills, _new_references(len(bills)), strict=True):
        bill["reference"] = reference
    insert_rows(FeeBill.__table__, bills)
    ids = dict(
        db.session.execute(
            select(FeeBill.stall_id, FeeBill.id).where(
                FeeBill.market_id == market.id, FeeBill.period == period.key
            )
        ).all()
    )
    line_rows = [
        {**line, "bill_id": ids[stall_id], "position": position}
        for stall_id, lines in lines_by_stall.items()
        for position, line in enumerate(lines, start=1)
    ]
    insert_rows(FeeBillLine.__table__, line_rows)
    charge_rows = [
        {"charge": charge_id, "bill": ids[stall_id]}
        for stall_id, charge_ids in charge_ids_by_stall.items()
        for charge_id in charge_ids
    ]
    if charge_rows:
        db.session.execute(
            update(FeeCharge.__table__)
            .where(FeeCharge.__table__.c.id == bindparam("charge"))
            .values(bill_id=bindparam("bill")),
            charge_rows,
        )
    return BillingResult(
        period.key, len(bills), len(existing_stalls), sum(bill["total"] for bill in bills)
    )


def insert_rows(table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement.

    The fast path of billing, measured in bench/bench_fees.py: on PostgreSQL one
    ``INSERT … SELECT FROM unnest(arrays)`` statement, a column an array, where an
    executemany is one executed statement per row (about twice the CPU, app and server
    together, for a market's bills and lines). It gives up what the ORM would add (defaults,
    events), so every column is given. SQLite keeps the plain executemany, which is one
    prepared statement there anyway."""
    if not rows:
        return
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    names = list(rows[0])
    quote = bind.dialect.identifier_preparer.quote
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(bind.dialect)}[])" for name in names
    )
    statement = text(
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays})"
    )
    db.session.execute(statement, {name: [row[name] for row in rows] for name in names})


def _by_stall(key, value, stall_ids: list[int], wanted: bool) -> dict[int, int]:
    if not wanted:
        return {}
    found: dict[int, int] = {}
    for start in range(0, len(stall_ids), 1000):
        chunk = stall_ids[start : start + 1000]
        found.update(db.session.execute(select(key, value).where(key.in_(chunk))).all())
    return found


def _lines_for(stall, types, rates, areas, readings, charges) -> list[dict]:
    """The lines of one stall's bill (amounts whole dong), in the fees' order."""
    lines = []

    def add(fee_type, description, quantity, unit_price, amount, **links):
        if amount <= 0:
            return
        lines.append(
            {
                "kind": links.pop("kind", "fee"),
                "fee_type_id": fee_type.id,
                "description": description[:200],
                "quantity": quantity,
                "unit_price": unit_price,
                "amount": amount,
                "meter_reading_id": links.get("meter_reading_id"),
                "charge_id": links.get("charge_id"),
            }
        )

    for fee_type in types:
        by_category = rates.get(fee_type.id, {})
        if fee_type.kind == "one_off":
            for charge_id, type_id, amount, note, _period in charges:
                if type_id == fee_type.id:
                    text = f"{fee_type.name}: {note}" if note else fee_type.name
                    add(fee_type, text, 1, amount, amount, kind="charge", charge_id=charge_id)
            continue
        if fee_type.kind == "rent_category":
            rate = by_category.get(stall.category, by_category.get(""))
        else:
            rate = by_category.get("")
        if rate is None:
            continue
        if fee_type.kind == "rent_area":
            area = areas.get(stall.id)
            if area is None:
                continue
            amount = (rate * area + 50) // 100
            add(
                fee_type, f"{fee_type.name} ({_area(area)} m² × {_money(rate)})", area, rate, amount
            )
        elif fee_type.kind == "metered":
            reading = readings.get((stall.id, fee_type.id))
            if reading is None:
                continue
            reading_id, start, end = reading
            usage = end - start
            unit = f" {fee_type.unit}" if fee_type.unit else ""
            text = f"{fee_type.name}: {start} → {end} = {usage}{unit} × {_money(rate)}"
            add(
                fee_type, text, usage, rate, usage * rate, kind="meter", meter_reading_id=reading_id
            )
        else:
            add(fee_type, fee_type.name, 1, rate, rate)
    return lines


def _new_references(count: int) -> list[str]:
    """``count`` references unused so far (checked against the database, then enforced by
    its unique constraint)."""
    chosen: set[str] = set()
    while len(chosen) < count:
        wanted = count - len(chosen)
        fresh = {new_reference() for _ in range(wanted)} - chosen
        for start in range(0, len(fresh), 1000):
            batch = list(fresh)[start : start + 1000]
            taken = set(
                db.session.scalars(select(FeeBill.reference).where(FeeBill.reference.in_(batch)))
            )
            chosen.update(set(batch) - taken)
    return list(chosen)[:count]


# --- bill status and credit notes -----------------------------------------------------------


def stage_bill_status(bills: Iterable[FeeBill]) -> None:
    """Set each bill's status from what it owes now: ``paid`` when nothing is due, ``void``
    when credit notes alone cleared it, ``partial`` when part is paid, else ``open``. The
    payments side calls this after recording payments."""
    bills = list(bills)
    for bill in bills:
        owes = queries.owed([bill])[bill.id]
        if owes.due > 0:
            status = "partial" if owes.paid > 0 else "open"
        elif owes.paid == 0 and owes.credited > 0:
            status = "void"
        else:
            status = "paid"
        bill.status = status


def issue_credit_note(
    actor: User | None, bill: FeeBill, *, amount: int, reason: str, now: datetime | None = None
) -> FeeCreditNote:
    """Lower what ``bill`` asks by ``amount`` (up to its total less earlier credit notes),
    with a numbered credit note: the bill itself is never edited. If part was paid already,
    the excess becomes a credit on the stall's next bill. Audit-logged."""
    if actor is not None:
        _require(permissions.can_manage_fees(actor, bill.market))
    owes = queries.owed([bill])[bill.id]
    room = bill.total - owes.credited
    errors: dict[str, list[str]] = {}
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        errors["amount"] = [_("Số tiền giảm phải là số đồng nguyên lớn hơn 0.")]
    elif amount > room:
        errors["amount"] = [_("Số tiền giảm tối đa là %(room)s.", room=_money(max(room, 0)))]
    if not reason or not reason.strip():
        errors["reason"] = [_("Vui lòng ghi lý do.")]
    if errors:
        raise InvalidInput(errors)
    now = now or utcnow()
    year = now.year
    seq = (
        db.session.scalar(
            select(func.count(FeeCreditNote.id)).where(
                FeeCreditNote.market_id == bill.market_id,
                FeeCreditNote.number.like(f"GG{year}-%"),
            )
        )
        + 1
    )
    note = FeeCreditNote(
        market_id=bill.market_id,
        bill_id=bill.id,
        number=f"GG{year}-{seq:05d}",
        amount=amount,
        reason=reason.strip()[:300],
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(note)
    db.session.flush()
    stage_bill_status([bill])
    audit.record(
        "fee_credit.issue",
        actor=actor,
        entity="fee_bill",
        entity_id=bill.id,
        market_id=bill.market_id,
        new={"number": note.number, "bill": bill.number, "amount": amount, "reason": note.reason},
    )
    _commit()
    return note
