"""The import template carries an example row and the allowed values of every coded column;
importing it untouched creates nothing, and the example (with a real stall code) is valid."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from market.extensions import db
from market.markets import importing
from market.markets.forms import STALL_STATUS_LABELS
from market.markets.models import GOODS_CATEGORIES, Stall
from market.merchants.models import Merchant
from market.vietqr import all_banks

CODED = {"nganh_hang", "trang_thai", "dong_y", "loai_tai_khoan", "ngan_hang"}


def _template(client, auth, fmt):
    auth.login("manager")
    response = client.get(f"/markets/import-template.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.data


def _import(world, name, content, dry_run=False):
    return importing.run_import(
        world.users["manager"], world.market_a, name, content, dry_run=dry_run
    )


def _counts():
    return (
        db.session.scalar(select(func.count(Stall.id))),
        db.session.scalar(select(func.count(Merchant.id))),
    )


def _allowed(rows):
    found: dict[str, set[str]] = {}
    for column, value, *_meaning in rows:
        found.setdefault(column.removeprefix("#").strip(), set()).add(value)
    return found


def _check_allowed(found):
    assert set(found) >= CODED
    assert {"Rau củ", "Thịt"} <= found["nganh_hang"] and len(found["nganh_hang"]) == len(
        GOODS_CATEGORIES
    )
    assert len(found["trang_thai"]) == len(STALL_STATUS_LABELS)
    assert found["dong_y"] == {"có", "không"}
    assert found["loai_tai_khoan"] == {"tai_khoan", "the"}
    assert found["ngan_hang"] == {bank.short_name for bank in all_banks()}


def test_the_xlsx_template_has_an_example_and_a_sheet_of_allowed_values(world, client, auth):
    book = load_workbook(io.BytesIO(_template(client, auth, "xlsx")), read_only=True)
    first, values_sheet = book.worksheets[0], book.worksheets[1]
    rows = [[c or "" for c in row] for row in first.iter_rows(values_only=True)]
    assert rows[0] == importing.HEADER
    assert rows[1][0] == "VD-01" and rows[1][8] == "Vietcombank"
    allowed = [row for row in values_sheet.iter_rows(values_only=True)][1:]
    _check_allowed(_allowed(allowed))
    # Vietcombank first: the picker's and the template's order is the most used banks first.
    assert next(row[1] for row in allowed if row[0] == "ngan_hang") == "Vietcombank"


def test_the_csv_template_lists_allowed_values_as_notes(world, client, auth):
    text = _template(client, auth, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == importing.HEADER and rows[1][0] == "VD-01"
    notes = [row for row in rows[2:] if len(row) == 3]
    assert all(row[0].startswith("#") for row in rows[2:])
    _check_allowed(_allowed(notes))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_importing_the_untouched_template_creates_nothing(world, client, auth, fmt):
    content = _template(client, auth, fmt)
    before = _counts()
    report = _import(world, f"mau.{fmt}", content)
    assert report.ok, report.errors
    assert report.rows == 0 and report.stalls_created == 0
    assert _counts() == before


def test_a_filled_template_imports_only_the_rows_people_added(world, client, auth):
    text = _template(client, auth, "csv").decode("utf-8-sig")
    lines = text.splitlines()
    added = "C-77,Khu C,Thịt,Đang kinh doanh,Lò Văn Páo,0912000077,,có,Agribank,1500205000077,,LO VAN PAO"
    content = "\n".join([*lines[:2], added, *lines[2:]]).encode()
    report = _import(world, "mau.csv", content)
    assert report.ok, report.errors
    assert (report.rows, report.stalls_created) == (1, 1)
    codes = set(db.session.scalars(select(Stall.code).where(Stall.market_id == world.market_a.id)))
    assert "C-77" in codes and "VD-01" not in codes


def test_the_example_row_is_itself_a_valid_row(world):
    row = dict(importing.EXAMPLE_ROW, ma_sap="A-99", so_dien_thoai="0912000099")
    content = importing.to_csv([importing.HEADER, [row[key] for key in importing.HEADER]])
    report = _import(world, "vd.csv", content, dry_run=True)
    assert report.ok, report.errors
    assert report.stalls_created == 1 and report.payees_set == 1
