"""Commune-level administrative units (xã, phường) of a province, as loaded from a list.

Since 1 July 2025 Vietnam's local government has two tiers: province and commune/ward. A unit
keeps which former units, districts and provinces it was made of (as text: history to read,
not to join on), so figures can still be grouped the old way.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db

#: The kinds of commune-level unit: the key is stored, the label shown before the name.
UNIT_KINDS = {"xa": _l("Xã"), "phuong": _l("Phường"), "dac_khu": _l("Đặc khu")}


class AdminUnit(db.Model):
    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("province", "kind", "name"),
        UniqueConstraint("province", "code"),
        CheckConstraint("kind IN ('xa', 'phuong', 'dac_khu')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(60), index=True)
    #: The national statistics code (5 digits), when the list gives one.
    code: Mapped[str | None] = mapped_column(String(10))
    #: The name without its kind: "Phan Đình Phùng" (shown as "Phường Phan Đình Phùng").
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))
    former_units: Mapped[str] = mapped_column(Text, default="")
    former_districts: Mapped[str] = mapped_column(String(300), default="")
    former_provinces: Mapped[str] = mapped_column(String(120), default="")
    #: Where the list came from (a resolution's number and date).
    source: Mapped[str] = mapped_column(String(300), default="")

    @property
    def kind_label(self) -> str:
        return str(UNIT_KINDS.get(self.kind, self.kind))

    @property
    def full_name(self) -> str:
        return f"{self.kind_label} {self.name}"

    def __repr__(self) -> str:
        return f"<AdminUnit {self.province}:{self.kind}:{self.name}>"
