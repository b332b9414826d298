from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from market.auth.models import User, utcnow
from market.extensions import db
from market.textsearch import fold_text

if TYPE_CHECKING:
    from market.markets.models import Stall


def _folded_full_name(context) -> str:
    """The stored fold of a row inserted without the ORM (the bulk import, the demo data)."""
    return fold_text(context.get_current_parameters().get("full_name"))


class Merchant(db.Model):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    # full_name without diacritics, in lower case, for search ("nguyen thi" finds Nguyễn
    # Thị Hoa): kept by the validator below and, for Core inserts, by the column default.
    # A stored column, because folding in SQL on every search cost 25-45x a plain LIKE on
    # PostgreSQL (bench/bench_search.py).
    name_folded: Mapped[str] = mapped_column(
        String(120), default=_folded_full_name, server_default=""
    )
    # Normalised to 10 digits starting with 0, e.g. 0912345678.
    phone: Mapped[str] = mapped_column(String(10), unique=True)
    tax_code: Mapped[str | None] = mapped_column(String(14))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    stalls: Mapped[list[Stall]] = relationship(back_populates="merchant", lazy="raise")

    @validates("full_name")
    def _fold_name(self, _key: str, value: str) -> str:
        self.name_folded = fold_text(value)
        return value

    def __repr__(self) -> str:
        return f"<Merchant {self.phone}>"


class PayeeAccount(db.Model):
    """The bank account a stall's QR pays into. Never edited: a change adds a new row."""

    __tablename__ = "payee_accounts"
    __table_args__ = (
        CheckConstraint("service IN ('account', 'card')", name="service"),
        # One current payee per stall, enforced by the database even under concurrent edits.
        Index(
            "uq_payee_accounts_current_stall",
            "stall_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_payee_accounts_account_number", "account_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id", ondelete="CASCADE"), index=True)
    bank_bin: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(19))
    service: Mapped[str] = mapped_column(String(7), default="account")
    holder_name: Mapped[str] = mapped_column(String(80))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A payee an import created: which upload, and who uploaded it (kept here too, so the
    # four-eyes rule needs no join and outlives the stored file). Whoever applied the file is
    # ``created_by``; both are "involved" and neither may verify it.
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    stall: Mapped[Stall] = relationship(back_populates="payees")
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    def same_account(self, bank_bin: str, account_number: str, service: str, holder: str) -> bool:
        return (self.bank_bin, self.account_number, self.service, self.holder_name) == (
            bank_bin,
            account_number,
            service,
            holder,
        )
