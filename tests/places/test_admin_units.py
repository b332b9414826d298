"""The commune-level units: the shipped Thái Nguyên list, and loading any province's list."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from market.errors import InvalidInput
from market.extensions import db
from market.places import services
from market.places.cli import DEFAULT_LIST
from market.places.models import AdminUnit

SHIPPED = DEFAULT_LIST.read_text(encoding="utf-8")


def test_shipped_list_is_the_resolutions_92_units():
    units = services.parse_unit_list(SHIPPED)
    assert len(units.rows) == 92
    kinds = [row.kind for row in units.rows]
    assert (kinds.count("xa"), kinds.count("phuong")) == (77, 15)
    assert "1683/NQ-UBTVQH15" in units.source and "16/6/2025" in units.source
    by_name = {(row.kind, row.name): row for row in units.rows}
    # Article 1, clause 90: the wards of the former Bắc Kạn town become phường Bắc Kạn.
    bac_kan = by_name[("phuong", "Bắc Kạn")]
    assert bac_kan.former_provinces == "Bắc Kạn"
    assert "Phường Sông Cầu" in bac_kan.former_units
    # Clause 91: Sảng Mộc and Thượng Quan were not rearranged.
    assert by_name[("xa", "Sảng Mộc")].former_units == "Xã Sảng Mộc"
    assert by_name[("xa", "Thượng Quan")].former_districts == "Huyện Ngân Sơn"
    assert {row.former_provinces for row in units.rows} == {"Thái Nguyên", "Bắc Kạn"}
    assert all(len(row.code) == 5 for row in units.rows)


def _count(province: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AdminUnit).where(AdminUnit.province == province)
    )


def test_load_command_is_idempotent(app, runner):
    first = runner.invoke(args=["admin-units", "load", "--province", "Thái Nguyên"])
    assert first.exit_code == 0, first.output
    assert '"created": 92' in first.output
    again = runner.invoke(
        args=["admin-units", "load", str(DEFAULT_LIST), "--province", "Thái Nguyên"]
    )
    assert again.exit_code == 0, again.output
    assert '"created": 0' in again.output and '"unchanged": 92' in again.output
    assert _count("Thái Nguyên") == 92
    unit = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "05443"))
    assert unit.full_name == "Phường Phan Đình Phùng"
    assert "1683/NQ-UBTVQH15" in unit.source


def test_another_province_loads_its_own_list(app, runner, tmp_path: Path):
    listing = tmp_path / "cao-bang.csv"
    listing.write_text(
        "# Nguồn: Nghị quyết số 1670/NQ-UBTVQH15 ngày 16/6/2025\n"
        "code,name,kind\n"
        "04001,Thục Phán,phường\n"
        ",Hưng Đạo,Xã\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["admin-units", "load", str(listing), "--province", "Cao Bằng"])
    assert result.exit_code == 0, result.output
    units = db.session.scalars(select(AdminUnit).order_by(AdminUnit.name)).all()
    assert [(u.province, u.full_name, u.code) for u in units] == [
        ("Cao Bằng", "Xã Hưng Đạo", None),
        ("Cao Bằng", "Phường Thục Phán", "04001"),
    ]
    assert units[0].source == "Nghị quyết số 1670/NQ-UBTVQH15 ngày 16/6/2025"
    # A corrected name under the same code is an update, not a second unit.
    listing.write_text("code,name,kind\n04001,Thục Phán Mới,phuong\n", encoding="utf-8")
    result = runner.invoke(args=["admin-units", "load", str(listing), "--province", "Cao Bằng"])
    assert '"updated": 1' in result.output and "Xã Hưng Đạo" in result.output
    assert _count("Cao Bằng") == 2


def test_decomposed_unicode_list_loads_like_the_composed_one(app):
    import unicodedata

    text = unicodedata.normalize("NFD", "code,name,kind\n,Định Hóa,xã\n")
    result = services.load_units("Thái Nguyên", services.parse_unit_list(text))
    assert result.created == 1
    unit = db.session.scalar(select(AdminUnit))
    assert unit.name == unicodedata.normalize("NFC", "Định Hóa") and unit.kind == "xa"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("code,name,kind\n1,A,huyện\n", "dòng 2"),
        ("code,name,kind\n1,,xa\n", "dòng 2"),
        ("code,name,kind\n1,A,xa\n2,a,xa\n", "dòng 3"),
        ("code,name,kind\n1,A,xa\n1,B,xa\n", "dòng 3"),
        ("code,name\n1,A\n", "file"),
        ("# only a comment\n", "file"),
    ],
    ids=["kind", "name", "dup-name", "dup-code", "no-kind", "empty"],
)
def test_a_bad_list_is_refused_whole_with_the_line(app, text, where):
    with pytest.raises(InvalidInput) as refused:
        services.load_units("Thái Nguyên", services.parse_unit_list(text))
    assert where in refused.value.errors
    assert _count("Thái Nguyên") == 0


def test_bad_file_on_the_command_line_says_which_line(app, runner, tmp_path: Path):
    listing = tmp_path / "bad.csv"
    listing.write_text("code,name,kind\n1,Tân Cương,huyện\n", encoding="utf-8")
    result = runner.invoke(args=["admin-units", "load", str(listing), "--province", "X"])
    assert result.exit_code != 0
    assert "dòng 2" in result.output and "huyện" in result.output
    assert _count("X") == 0
