from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.auth.models import utcnow
from market.extensions import db
from market.places.models import AdminUnit

if TYPE_CHECKING:
    from market.merchants.models import Merchant, PayeeAccount

MARKET_STATUSES = ("planned", "onboarding", "live")
STALL_STATUSES = ("active", "vacant", "closed")

# District-level units (cities, districts) of the provinces merged into today's Thái Nguyên,
# as the province reported by them before 1 July 2025. Districts no longer exist: a market keeps
# its former district and province as history (the 2022 plan's targets are for the old
# province); where it is today is its commune or ward (``Market.admin_unit``).
FORMER_DISTRICTS = {
    "Thái Nguyên": (
        "TP. Thái Nguyên",
        "TP. Sông Công",
        "TP. Phổ Yên",
        "Huyện Định Hóa",
        "Huyện Đại Từ",
        "Huyện Phú Lương",
        "Huyện Đồng Hỷ",
        "Huyện Võ Nhai",
        "Huyện Phú Bình",
    ),
    "Bắc Kạn": (
        "TP. Bắc Kạn",
        "Huyện Ba Bể",
        "Huyện Bạch Thông",
        "Huyện Chợ Đồn",
        "Huyện Chợ Mới",
        "Huyện Na Rì",
        "Huyện Ngân Sơn",
        "Huyện Pác Nặm",
    ),
}
FORMER_PROVINCES = tuple(FORMER_DISTRICTS)
DISTRICTS = tuple(d for districts in FORMER_DISTRICTS.values() for d in districts)
DISTRICT_PROVINCE = {d: p for p, districts in FORMER_DISTRICTS.items() for d in districts}

# Labels are translated where they are shown; the keys are what the database and files store.
GOODS_CATEGORIES = {
    "rau-cu": _l("Rau củ"),
    "hoa-qua": _l("Hoa quả"),
    "thit": _l("Thịt"),
    "thuy-san": _l("Cá, thủy sản"),
    "gao-ngu-coc": _l("Gạo, ngũ cốc"),
    "tra": _l("Chè, trà"),
    "an-uong": _l("Ăn uống"),
    "tap-hoa": _l("Tạp hóa"),
    "quan-ao": _l("Quần áo, vải"),
    "gia-dung": _l("Đồ gia dụng"),
    "dich-vu": _l("Dịch vụ"),
    "khac": _l("Khác"),
}


class Market(db.Model):
    __tablename__ = "markets"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'onboarding', 'live')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Where the market is today: a commune or ward of the province (market.places).
    admin_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    # History: the former district and commune (before 1 July 2025) and former province.
    district: Mapped[str] = mapped_column(String(60), index=True, default="")
    commune: Mapped[str] = mapped_column(String(80), default="")
    # A server default (every market before the merger was in the old Thái Nguyên), so a
    # statement run on the driver alone (market.database.DriverStatement) needs no value.
    former_province: Mapped[str] = mapped_column(String(60), server_default="Thái Nguyên")
    address: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="planned", index=True)
    launch_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Chợ 4.0 criteria a manager declares (see market.adoption): since when the market's own
    # fees are collected cashless, and since when a signature product is on an e-commerce site.
    fees_cashless_since: Mapped[date | None] = mapped_column(Date)
    ecommerce_listed_since: Mapped[date | None] = mapped_column(Date)
    ecommerce_note: Mapped[str | None] = mapped_column(String(300))

    stalls: Mapped[list[Stall]] = relationship(back_populates="market", lazy="raise")
    admin_unit: Mapped[AdminUnit | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Market {self.code}>"


class Stall(db.Model):
    __tablename__ = "stalls"
    __table_args__ = (
        UniqueConstraint("market_id", "code"),
        CheckConstraint("status IN ('active', 'vacant', 'closed')", name="status"),
        Index("ix_stalls_market_status", "market_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    zone: Mapped[str] = mapped_column(String(40), default="")
    category: Mapped[str] = mapped_column(String(20), default="khac")
    status: Mapped[str] = mapped_column(String(10), default="active")
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="SET NULL"), index=True
    )
    # When this stall's sticker was last printed; compared with the payee's start to find
    # stickers that still show an old account and must be reprinted.
    sticker_printed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The latest sticker audit, kept on the stall so the market page can filter on it.
    last_audit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_audit_result: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    market: Mapped[Market] = relationship(back_populates="stalls")
    merchant: Mapped[Merchant | None] = relationship(back_populates="stalls")
    payees: Mapped[list[PayeeAccount]] = relationship(
        back_populates="stall", order_by="PayeeAccount.id.desc()", lazy="raise"
    )

    @property
    def category_label(self) -> str:
        return str(GOODS_CATEGORIES.get(self.category, self.category))

    def __repr__(self) -> str:
        return f"<Stall {self.market_id}:{self.code}>"


class ImportBatch(db.Model):
    """An uploaded registry file: checked first (dry run), applied on confirmation."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict | None] = mapped_column(JSON)
