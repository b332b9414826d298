"""Loading a province's list of commune-level units. One use case, one commit."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from market.errors import InvalidInput
from market.extensions import db
from market.places.models import UNIT_KINDS, AdminUnit

COLUMNS = ("code", "name", "kind", "former_units", "former_districts", "former_provinces")
REQUIRED = ("name", "kind")
#: The words a list may use for a kind, lower case, with or without diacritics.
KIND_WORDS = {
    "xa": "xa",
    "xã": "xa",
    "phuong": "phuong",
    "phường": "phuong",
    "dac_khu": "dac_khu",
    "dac khu": "dac_khu",
    "đặc khu": "dac_khu",
}
LIMITS = {
    "code": 10,
    "name": 80,
    "former_districts": 300,
    "former_provinces": 120,
}
SOURCE_PREFIXES = ("nguồn:", "source:")


@dataclass(frozen=True, slots=True)
class UnitRow:
    line: int
    code: str | None
    name: str
    kind: str
    former_units: str
    former_districts: str
    former_provinces: str


@dataclass(slots=True)
class UnitList:
    """A parsed list: its rows and the source its header names (``# Nguồn: …``)."""

    rows: list[UnitRow]
    source: str = ""


@dataclass(slots=True)
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Units of the province already loaded that this list does not name (kept: markets may
    #: point at them).
    not_in_list: list[str] = field(default_factory=list)


def parse_unit_list(text: str) -> UnitList:
    """Read a CSV list (header ``code,name,kind,…``; lines starting with ``#`` are comments,
    one of them may name the source). Every bad line is reported, by line and column."""
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    source = ""
    data_lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if not source and comment.casefold().startswith(SOURCE_PREFIXES):
                source = comment.split(":", 1)[1].strip()
            continue
        if stripped:
            data_lines.append((number, line))
    if not data_lines:
        raise InvalidInput({"file": [_("Tệp không có dòng tiêu đề và dữ liệu.")]})
    try:
        # One record per line: a quoted cell spanning lines would shift every line number.
        records = [next(csv.reader([line])) for _n, line in data_lines]
    except (csv.Error, StopIteration) as exc:
        raise InvalidInput({"file": [_("Tệp CSV không đọc được: %(e)s", e=exc)]}) from exc
    reader = iter(records)
    header = [h.strip().casefold() for h in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(
            {"file": [_("Thiếu cột: %(cols)s.", cols=", ".join(missing))]},
        )
    errors: dict[str, list[str]] = {}
    rows: list[UnitRow] = []
    seen: dict[tuple[str, str], int] = {}
    seen_codes: dict[str, int] = {}
    for (number, _line), cells in zip(data_lines[1:], reader, strict=True):
        values = {name: "" for name in COLUMNS}
        for name, cell in zip(header, cells, strict=False):
            if name in values:
                values[name] = " ".join(cell.split())
        where = _("dòng %(n)s", n=number)
        problems = []
        kind = KIND_WORDS.get(values["kind"].casefold())
        if kind is None:
            allowed = ", ".join(sorted(UNIT_KINDS))
            problems.append(_("loại “%(v)s” không có (%(a)s)", v=values["kind"], a=allowed))
        if not values["name"]:
            problems.append(_("thiếu tên"))
        for name, limit in LIMITS.items():
            if len(values[name]) > limit:
                problems.append(_("%(col)s dài quá %(n)s ký tự", col=name, n=limit))
        key = (kind or "", values["name"].casefold())
        if key in seen:
            problems.append(_("trùng với dòng %(n)s", n=seen[key]))
        code = values["code"] or None
        if code is not None and code in seen_codes:
            problems.append(_("mã %(c)s trùng với dòng %(n)s", c=code, n=seen_codes[code]))
        if problems:
            errors[where] = problems
            continue
        seen[key] = number
        if code is not None:
            seen_codes[code] = number
        rows.append(
            UnitRow(
                line=number,
                code=code,
                name=values["name"],
                kind=kind,
                former_units=values["former_units"],
                former_districts=values["former_districts"],
                former_provinces=values["former_provinces"],
            )
        )
    if errors:
        raise InvalidInput(errors)
    return UnitList(rows=rows, source=source)


def load_units(province: str, units: UnitList, *, source: str | None = None) -> LoadResult:
    """Create or update the province's units from ``units``, all or nothing; loading the same
    list again changes nothing. A unit is found by its code when the list gives one, else by
    its kind and name."""
    result = stage_units(province, units, source=source)
    db.session.commit()
    return result


def stage_units(province: str, units: UnitList, *, source: str | None = None) -> LoadResult:
    """:func:`load_units` in the caller's transaction (the demo data set's)."""
    province = " ".join(unicodedata.normalize("NFC", province).split())
    if not province:
        raise InvalidInput({"province": [_("Vui lòng nhập tên tỉnh.")]})
    source = source if source is not None else units.source
    existing = list(db.session.scalars(select(AdminUnit).where(AdminUnit.province == province)))
    by_code = {u.code: u for u in existing if u.code}
    by_name = {(u.kind, u.name.casefold()): u for u in existing}
    result = LoadResult()
    named: set[int] = set()
    for row in units.rows:
        unit = (by_code.get(row.code) if row.code else None) or by_name.get(
            (row.kind, row.name.casefold())
        )
        values = {
            "code": row.code,
            "name": row.name,
            "kind": row.kind,
            "former_units": row.former_units,
            "former_districts": row.former_districts,
            "former_provinces": row.former_provinces,
            "source": source,
        }
        if unit is None:
            unit = AdminUnit(province=province, **values)
            db.session.add(unit)
            result.created += 1
            continue
        named.add(unit.id)
        if all(getattr(unit, k) == v for k, v in values.items()):
            result.unchanged += 1
            continue
        for key, value in values.items():
            setattr(unit, key, value)
        result.updated += 1
    result.not_in_list = [u.full_name for u in existing if u.id not in named]
    db.session.flush()
    return result


OLD_KINDS = ("Thị trấn ", "Phường ", "Xã ")


def _bare(name: str) -> str:
    name = name.replace("(một phần)", "").strip()
    for kind in OLD_KINDS:
        if name.startswith(kind):
            return name[len(kind) :]
    return name


def unit_of_former_commune(
    units: Iterable[AdminUnit], district: str, commune: str
) -> AdminUnit | None:
    """The unit a former commune (``"Thị trấn Hùng Sơn"`` or ``"Hùng Sơn"``, of ``district``)
    became; a commune split between units goes to the one that kept its name, if one did;
    otherwise ``None``. (The migration placing existing markets does the same.)"""
    old = _bare(commune)
    if not old:
        return None
    found = [
        unit
        for unit in units
        if old in {_bare(u) for u in split_list(unit.former_units)}
        and (not district or district in split_list(unit.former_districts))
    ]
    if len(found) > 1:
        found = [unit for unit in found if unit.name == old]
    return found[0] if len(found) == 1 else None


def split_list(value: str) -> list[str]:
    """``"a; b"`` -> ``["a", "b"]`` (how a unit's former units, districts, provinces are kept)."""
    return [part.strip() for part in value.split(";") if part.strip()]


def units_text(values: Iterable[str]) -> str:
    return "; ".join(values)
