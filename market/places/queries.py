"""Reading the commune-level units."""

from __future__ import annotations

from sqlalchemy import select

from market.extensions import db
from market.formatting import vietnamese_key
from market.places.models import AdminUnit


def in_vietnamese_order(units) -> list[AdminUnit]:
    """By name in Vietnamese alphabetical order, then kind (xã before phường of one name)."""
    return sorted(units, key=lambda u: (vietnamese_key(u.name), u.kind, u.province))


def all_units() -> list[AdminUnit]:
    return in_vietnamese_order(db.session.scalars(select(AdminUnit)))


def unit_choices() -> list[tuple[int, str]]:
    """(id, "Phường Phan Đình Phùng") of every unit, for a select list."""
    return [(u.id, u.full_name) for u in all_units()]


def unit_by_id(unit_id: int | None) -> AdminUnit | None:
    return db.session.get(AdminUnit, unit_id) if unit_id is not None else None


def unit_by_name(name: str) -> AdminUnit | None:
    """A unit by its full name ("Phường Phan Đình Phùng"), its bare name when only one unit
    has it, or its code."""
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return None
    matches = [
        u
        for u in db.session.scalars(select(AdminUnit))
        if wanted in (u.full_name.casefold(), u.name.casefold(), (u.code or "").casefold())
    ]
    exact = [u for u in matches if u.full_name.casefold() == wanted or u.code == wanted]
    if len(exact) == 1:
        return exact[0]
    return matches[0] if len(matches) == 1 else None
