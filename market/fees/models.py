"""Tables of the fees domain: the board's collection accounts, fee types and their dated
rates, stall areas, meter readings, one-off charges, bills and their lines, credit notes,
payments and receipts.

Money is an ``int`` of dong stored as ``BigInteger`` (a market's month of fees passes 2^31
dong). A bill is never edited once issued: a correction is a credit note, a payment is a row
of ``fee_payments``. Periods are text keys: ``YYYY-MM`` for monthly fees, ``YYYY-MM-DD`` for
daily ones, with ``period_start`` (their first day) kept beside them for ordering and for
finding the rate in force.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.auth.models import User, utcnow
from market.extensions import db

if TYPE_CHECKING:
    from market.markets.models import Market, Stall
    from market.merchants.models import Merchant

#: How a fee's amount is found for a stall and a period.
FEE_KINDS = {
    # rate per m² per period x the stall's area (fee_stall_areas)
    "rent_area": _l("Tiền thuê theo diện tích"),
    # rate per stall per period by the stall's goods category ("" = every other category)
    "rent_category": _l("Tiền thuê theo ngành hàng"),
    # the same amount for every billed stall
    "fixed": _l("Phí cố định"),
    # rate per unit x the stall's reading of the period (electricity, water)
    "metered": _l("Theo chỉ số công tơ"),
    # charges a manager adds to a stall (fee_charges)
    "one_off": _l("Khoản thu một lần"),
}
CYCLES = {"monthly": _l("Hằng tháng"), "daily": _l("Hằng ngày")}
BILL_STATUSES = ("open", "partial", "paid", "void")
LINE_KINDS = ("fee", "meter", "charge", "carry")
PAYMENT_METHODS = ("transfer", "cash", "statement")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class FeeAccount(db.Model):
    """The market board's collection account that bills' QR codes pay into.

    Like a stall's payee (``market.merchants.models.PayeeAccount``) it is never edited: a
    change adds a new row, and a row takes effect only when verified by someone who did not
    make it (four-eyes, ``market.merchants.services.four_eyes_refusal``). Replaced rows stay:
    transfers to an old account can still be recognised."""

    __tablename__ = "fee_accounts"
    __table_args__ = (
        Index(
            "uq_fee_accounts_current_market",
            "market_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_fee_accounts_account_number", "account_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    bank_bin: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(19))
    holder_name: Mapped[str] = mapped_column(String(80))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    market: Mapped[Market] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    def __repr__(self) -> str:
        return f"<FeeAccount {self.market_id}:{self.bank_bin}/{self.account_number}>"


class FeeType(db.Model):
    """A fee a market charges its stalls (rent, electricity, hygiene, ...)."""

    __tablename__ = "fee_types"
    __table_args__ = (
        UniqueConstraint("market_id", "code"),
        CheckConstraint(_in("kind", FEE_KINDS), name="kind"),
        CheckConstraint(_in("cycle", CYCLES), name="cycle"),
        # Only a flat or per-stall amount is billed per day; readings and charges are monthly.
        CheckConstraint(
            "cycle = 'monthly' OR kind IN ('fixed', 'rent_category', 'rent_area')",
            name="daily_kinds",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[str] = mapped_column(String(8), default="monthly")
    # What a metered quantity counts ("kWh", "m³"); "" otherwise.
    unit: Mapped[str] = mapped_column(String(10), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    market: Mapped[Market] = relationship()
    rates: Mapped[list[FeeRate]] = relationship(
        back_populates="fee_type",
        order_by="(FeeRate.valid_from.desc(), FeeRate.category)",
        lazy="raise",
    )

    @property
    def kind_label(self) -> str:
        return str(FEE_KINDS.get(self.kind, self.kind))

    @property
    def cycle_label(self) -> str:
        return str(CYCLES.get(self.cycle, self.cycle))

    def __repr__(self) -> str:
        return f"<FeeType {self.market_id}:{self.code}>"


class FeeRate(db.Model):
    """A fee's amount from a period on (history kept: a new rate is a new row).

    ``amount`` is per stall (fixed, rent_category), per m² (rent_area) or per unit (metered),
    for one period of the fee's cycle. ``category``: the goods category a rent_category rate
    is for; "" for every other stall (and for every other kind)."""

    __tablename__ = "fee_rates"
    __table_args__ = (
        UniqueConstraint("fee_type_id", "category", "valid_from"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fee_type_id: Mapped[int] = mapped_column(ForeignKey("fee_types.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20), default="", server_default="")
    valid_from: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    fee_type: Mapped[FeeType] = relationship(back_populates="rates")


class FeeStallArea(db.Model):
    """A stall's floor area, for rent by area: square decimetres (1 m² = 100), so areas like
    2.5 m² stay whole numbers and the rent is exact integer arithmetic."""

    __tablename__ = "fee_stall_areas"
    __table_args__ = (CheckConstraint("area_dm2 > 0", name="area_positive"),)

    stall_id: Mapped[int] = mapped_column(
        ForeignKey("stalls.id", ondelete="CASCADE"), primary_key=True
    )
    area_dm2: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MeterReading(db.Model):
    """A stall's meter of a metered fee over one month: the index at the start and at the
    end (a replaced meter starts again from its own index)."""

    __tablename__ = "fee_meter_readings"
    __table_args__ = (
        UniqueConstraint("stall_id", "fee_type_id", "period"),
        CheckConstraint("start_reading >= 0", name="start_not_negative"),
        CheckConstraint("end_reading >= start_reading", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id", ondelete="CASCADE"))
    fee_type_id: Mapped[int] = mapped_column(ForeignKey("fee_types.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    start_reading: Mapped[int] = mapped_column(BigInteger)
    end_reading: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def usage(self) -> int:
        return self.end_reading - self.start_reading


class FeeCharge(db.Model):
    """A one-off charge to a stall (a repair, a fine, a deposit). Billed on the first bill of
    its period or later (``bill_id`` is set then), so a charge added after billing is not
    lost."""

    __tablename__ = "fee_charges"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_fee_charges_stall_unbilled", "stall_id", "bill_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id", ondelete="CASCADE"))
    fee_type_id: Mapped[int] = mapped_column(ForeignKey("fee_types.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("fee_bills.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class FeeBill(db.Model):
    """What a stall owes for one period: its lines and their total, fixed when issued.

    ``reference`` is the bill's payment reference, carried in the VietQR purpose (tag 62.08)
    and in the transfer's content: short, A-Z and 0-9 only (banks strip anything else), unique
    across every market, so a transfer names one bill. ``status`` is kept by the payments
    side (open, partial, paid; void when fully credited)."""

    __tablename__ = "fee_bills"
    __table_args__ = (
        UniqueConstraint("stall_id", "period"),
        UniqueConstraint("market_id", "number"),
        CheckConstraint(_in("status", BILL_STATUSES), name="status"),
        CheckConstraint(_in("cycle", CYCLES), name="cycle"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        Index("ix_fee_bills_market_period", "market_id", "period"),
        Index("ix_fee_bills_market_status_due", "market_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id", ondelete="CASCADE"))
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="SET NULL"), index=True
    )
    # The holder's name as billed (the notice and the receipts print it; a later change of
    # the merchant's record does not rewrite an issued bill).
    merchant_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    period: Mapped[str] = mapped_column(String(10))
    cycle: Mapped[str] = mapped_column(String(8), default="monthly")
    period_start: Mapped[date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    total: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    market: Mapped[Market] = relationship()
    stall: Mapped[Stall] = relationship()
    merchant: Mapped[Merchant | None] = relationship()
    lines: Mapped[list[FeeBillLine]] = relationship(
        back_populates="bill", order_by="FeeBillLine.position", lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<FeeBill {self.number} {self.reference} {self.status}>"


class FeeBillLine(db.Model):
    """One line of a bill: a fee (with its quantity and unit price), a meter's usage, a
    one-off charge, or the credit carried from the stall's previous bill (negative)."""

    __tablename__ = "fee_bill_lines"
    __table_args__ = (
        CheckConstraint(_in("kind", LINE_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'carry' AND amount <= 0) OR (kind <> 'carry' AND amount >= 0)",
            name="amount_sign",
        ),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_fee_bill_lines_bill_position", "bill_id", "position"),
        # The few lines that carry a credit over, found without reading every line.
        Index(
            "ix_fee_bill_lines_carry",
            "bill_id",
            postgresql_where=text("kind = 'carry'"),
            sqlite_where=text("kind = 'carry'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("fee_bills.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    fee_type_id: Mapped[int | None] = mapped_column(ForeignKey("fee_types.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(String(200))
    # Units the unit price applies to: 1 (a stall), m² x 100 (rent by area), kWh or m³.
    quantity: Mapped[int] = mapped_column(BigInteger, default=1)
    unit_price: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger)
    meter_reading_id: Mapped[int | None] = mapped_column(
        ForeignKey("fee_meter_readings.id", ondelete="SET NULL")
    )
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("fee_charges.id", ondelete="SET NULL"))

    bill: Mapped[FeeBill] = relationship(back_populates="lines")


class FeeCreditNote(db.Model):
    """A correction to an issued bill: it lowers what the bill asks (a paid bill is never
    edited; an already paid amount above the new balance becomes a credit on the next bill).
    Numbered per market."""

    __tablename__ = "fee_credit_notes"
    __table_args__ = (
        UniqueConstraint("market_id", "number"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("fee_bills.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    bill: Mapped[FeeBill] = relationship()
    created_by: Mapped[User | None] = relationship()


class FeePayment(db.Model):
    """Money received against a bill: a transfer a notifier reported (``notification_id``),
    a line of an imported bank statement (``statement_key``), or cash a manager recorded
    (``receipt_number``: the paper receipt's number, if any). Each one at most once."""

    __tablename__ = "fee_payments"
    __table_args__ = (
        CheckConstraint(_in("method", PAYMENT_METHODS), name="method"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_fee_payments_market_paid_at", "market_id", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("fee_bills.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(10))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_notifications.id", ondelete="SET NULL"), unique=True
    )
    statement_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    bill: Mapped[FeeBill] = relationship()


class FeeReceipt(db.Model):
    """The numbered receipt of one payment: per market and year (``number`` as printed)."""

    __tablename__ = "fee_receipts"
    __table_args__ = (
        UniqueConstraint("market_id", "year", "seq"),
        CheckConstraint("seq > 0", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("fee_payments.id", ondelete="CASCADE"), unique=True
    )
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(24))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    payment: Mapped[FeePayment] = relationship()
