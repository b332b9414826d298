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

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

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
