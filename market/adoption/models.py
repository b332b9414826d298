"""Rollups of received payments, so adoption figures never scan the payments themselves.

``stall_day_payments`` holds, per stall and Vietnam calendar day, how many payments the stall
received and how much (only ``payment_notifications`` rows with ``match_status = 'matched'``
count). ``market_day_payments`` holds the same per market and day. Both are kept up to date in
the transaction that stores each counted notification
(:func:`market.adoption.services.stage_received_payment`) and can be recomputed from the
notifications at any time (``flask adoption-rebuild``).

A 30-day figure then reads at most stalls × 30 rows, and a year of weekly or monthly figures
at most markets × 365 rows, however many payments there were.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from market.auth.models import utcnow
from market.extensions import db


class StallDayPayments(db.Model):
    """Payments one stall received on one day (Asia/Ho_Chi_Minh calendar date)."""

    __tablename__ = "stall_day_payments"
    __table_args__ = (
        # The 30-day window reads a range of days across all stalls; with the count in the
        # index it is answered from the index alone.
        Index("ix_stall_day_payments_day_stall", "day", "stall_id", "payments"),
    )

    stall_id: Mapped[int] = mapped_column(
        ForeignKey("stalls.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    payments: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<StallDayPayments {self.stall_id} {self.day} {self.payments}>"


class MarketDayPayments(db.Model):
    """Payments all stalls of one market received on one day (Asia/Ho_Chi_Minh)."""

    __tablename__ = "market_day_payments"
    __table_args__ = (Index("ix_market_day_payments_day", "day"),)

    market_id: Mapped[int] = mapped_column(
        ForeignKey("markets.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    payments: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<MarketDayPayments {self.market_id} {self.day} {self.payments}>"


class AdoptionTarget(db.Model):
    """A dated target the province sets: "60 markets by 31/12/2025 — plan 156/KH-UBND, 2022".

    Kept by the province on ``/adoption/targets`` (audit-logged). ``former_province`` limits
    the count to the markets of a former province (a plan made before the 2025 merger counts
    the old Thái Nguyên's markets only); empty, every market. ``reached_on`` is the first day
    the figures showed the target reached, kept so the dashboard can say "reached on …"
    after the deadline, whatever happens to the count later."""

    __tablename__ = "adoption_targets"
    __table_args__ = (CheckConstraint("markets > 0", name="markets_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    markets: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    former_province: Mapped[str] = mapped_column(String(60), default="")
    reached_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<AdoptionTarget {self.markets} by {self.deadline}>"
