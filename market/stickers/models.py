from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.auth.models import User, utcnow
from market.extensions import db

AUDIT_RESULTS = ("match", "mismatch", "not_vietqr", "unreadable")


class StickerAudit(db.Model):
    """One photo of a stall's sticker checked against the stall's registered payee."""

    __tablename__ = "sticker_audits"
    __table_args__ = (
        CheckConstraint(
            "result IN ('match', 'mismatch', 'not_vietqr', 'unreadable')", name="result"
        ),
        Index("ix_sticker_audits_stall_at", "stall_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id", ondelete="CASCADE"))
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    result: Mapped[str] = mapped_column(String(12))
    # What the photographed code would pay, when it could be read.
    decoded_payload: Mapped[str | None] = mapped_column(Text)
    decoded_bank_bin: Mapped[str | None] = mapped_column(String(6))
    decoded_account: Mapped[str | None] = mapped_column(String(19))
    expected_payee_id: Mapped[int | None] = mapped_column(
        ForeignKey("payee_accounts.id", ondelete="SET NULL")
    )

    auditor: Mapped[User | None] = relationship()
