"""The adoption exports neutralise text a spreadsheet would run as a formula (issue 17)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from market.adoption import queries
from market.auth.models import User
from market.extensions import db
from tests.adoption.conftest import NOW
from tests.conftest import HASH, Auth

HOSTILE = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def admin(province, client, monkeypatch):
    monkeypatch.setattr(queries, "now_utc", lambda: NOW)
    province.b.name = HOSTILE
    province.b.district = "@cmd"
    user = User(username="admin", full_name="Admin", role="admin")
    user.password_hash = HASH
    db.session.add(user)
    db.session.commit()
    assert Auth(client).login("admin").status_code == 302
    return client


@pytest.mark.parametrize("url", ["/adoption/export.csv", "/adoption/markets/SC-B/export.csv"])
def test_csv_export_cells_never_start_a_formula(admin, url):
    rows = list(csv.reader(io.StringIO(admin.get(url).data.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + HOSTILE in cells and "'@cmd" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]


@pytest.mark.parametrize("url", ["/adoption/export.xlsx", "/adoption/markets/SC-B/export.xlsx"])
def test_xlsx_export_has_no_formula(admin, url):
    body = admin.get(url).data
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if "worksheets/" in n)
    assert b"<f>" not in xml and b"<f " not in xml
    values = [v for s in load_workbook(io.BytesIO(body)).worksheets for r in s.values for v in r]
    assert "'" + HOSTILE in values
