"""CSV and XLSX exports, on the pages and on the command line: the same figures as the
dashboard, each file saying when they were computed; and ``flask adoption-rebuild``."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from fractions import Fraction

import pytest
from openpyxl import load_workbook

from market.adoption import queries
from market.adoption.criteria import Settings
from market.app import create_app
from market.auth.models import User
from market.config import ConfigError
from market.extensions import db
from tests.adoption.conftest import NOW
from tests.conftest import HASH, Auth

STAMP = "2026-03-04T10:00:00+07:00"  # NOW in Vietnam time


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr(queries, "now_utc", lambda: NOW)


@pytest.fixture
def admin(province, client):
    user = User(username="admin", full_name="Admin", role="admin")
    user.password_hash = HASH
    db.session.add(user)
    db.session.commit()
    assert Auth(client).login("admin").status_code == 302
    return client


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _sheets(body: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(body))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_province_csv(admin, now):
    response = admin.get("/adoption/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="cho40-2026-03-04.csv"'
    header, *rows = _csv(response.data)
    assert header[:5] == ["Mã chợ", "Tên chợ", "Xã / phường", "Huyện cũ", "Tỉnh cũ"]
    assert header[-1] == "Tính lúc"
    # By name in Vietnamese alphabetical order: Alpha, Beta, Delta, Gamma.
    assert [r[0] for r in rows] == ["TN-A", "SC-B", "DT-D", "TN-C", "TỔNG"]
    assert {r[-1] for r in rows} == {STAMP}  # every row says when
    a = dict(zip(header, rows[0], strict=True))
    assert (a["Sạp đang kinh doanh"], a["Sạp có QR"], a["% sạp có QR"]) == ("4", "3", "75.0")
    assert (a["Giao dịch 30 ngày"], a["Số tiền 30 ngày (đồng)"]) == ("27", "515000")
    assert (a["Tiêu chí QR"], a["Tiêu chí thu phí"], a["Đạt Chợ 4.0"]) == (
        "thiếu 1 sạp",
        "đạt",
        "không",
    )
    total = dict(zip(header, rows[-1], strict=True))
    assert total["Tên chợ"] == "2 / 4 chợ đạt Chợ 4.0"
    assert (total["Tiểu thương có QR"], total["Số tiền 30 ngày (đồng)"]) == ("3", "615000")


def test_province_xlsx(admin, now):
    response = admin.get("/adoption/export.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheets = _sheets(response.data)
    assert list(sheets) == [
        "Cho",
        "Thong tin",
        "Muc tieu",
        "Theo xa phuong",
        "Theo huyen cu",
        "Theo tuan",
    ]
    header, *rows = sheets["Cho"]
    a = dict(zip(header, rows[0], strict=True))
    assert (a["Mã chợ"], a["Sạp có QR"], a["Số tiền 30 ngày (đồng)"]) == ("TN-A", 3, 515_000)
    info = dict(sheets["Thong tin"])
    assert info["Tính lúc (giờ Việt Nam)"] == datetime(2026, 3, 4, 10, 0)
    assert info["30 ngày: từ"] == datetime(2026, 2, 3)  # Excel keeps dates as datetimes
    assert (info["Số chợ đạt"], info["Mục tiêu số chợ 4.0"]) == (2, 60)
    weeks = sheets["Theo tuan"]
    assert weeks[1][0] == "2025-W51"
    assert weeks[-1][:5] == ("2026-W10", datetime(2026, 3, 2), datetime(2026, 3, 8), 1, 100_000)


def test_market_csv_and_xlsx(admin, now):
    header, row = _csv(admin.get("/adoption/markets/SC-B/export.csv").data)
    assert dict(zip(header, row, strict=True))["Đạt Chợ 4.0"] == "có"
    assert row[-1] == STAMP
    sheets = _sheets(admin.get("/adoption/markets/SC-B/export.xlsx").data)
    assert list(sheets) == ["Cho", "Thong tin", "Theo ngay", "Theo tuan", "Theo thang"]
    assert sheets["Theo ngay"][-1] == (datetime(2026, 3, 4), datetime(2026, 3, 4), 1, 100_000)
    assert len(sheets["Theo thang"]) == 13


def test_an_unknown_format_is_404(admin):
    assert admin.get("/adoption/export.pdf").status_code == 404
    assert admin.get("/adoption/markets/TN-A/export.json").status_code == 404


# --- command line ------------------------------------------------------------------------------


def test_cli_report_as_json(province, runner, now):
    result = runner.invoke(args=["adoption-report"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["scope"], data["computed_at"]) == ("province", "2026-03-04T03:00:00+00:00")
    assert (data["totals"]["qualifying"], data["totals"]["payments"]) == (2, 28)


def test_cli_report_as_csv(province, runner, now):
    result = runner.invoke(args=["adoption-report", "--format", "csv"])
    assert result.exit_code == 0
    _header, *rows = _csv(result.stdout_bytes)
    assert rows[-1][0] == "TỔNG" and rows[-1][-1] == STAMP


def test_cli_report_as_xlsx_file(province, runner, now, tmp_path):
    out = tmp_path / "report.xlsx"
    result = runner.invoke(args=["adoption-report", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 of 4 markets qualify (targets: 2/60 by 2025-12-31)" in result.stderr
    info = dict(_sheets(out.read_bytes())["Thong tin"])
    assert info["Tính lúc (giờ Việt Nam)"] == datetime(2026, 3, 4, 10, 0)


def test_cli_rebuild(province, runner):
    result = runner.invoke(args=["adoption-rebuild"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "stall_days": 8,
        "market_days": 8,
        "payments": 30,
        "amount": 630_000,
    }


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MARKET_ADOPTION_TARGET_MARKETS", "75")
    monkeypatch.setenv("MARKET_ADOPTION_DEADLINE", "2030-06-30")
    monkeypatch.setenv("MARKET_ADOPTION_QR_SHARE", "0.95")
    monkeypatch.setenv("MARKET_ADOPTION_ACTIVE_MIN_PAYMENTS", "10")
    monkeypatch.setenv("MARKET_ADOPTION_BASELINE_MERCHANTS", "2500")
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert Settings.from_config(app.config) == Settings(
        target_markets=75,
        deadline=date(2030, 6, 30),
        qr_share=Fraction(19, 20),
        active_min_payments=10,
        baseline_merchants=2500,
    )
    for name, bad in [("QR_SHARE", "1.5"), ("TARGET_MARKETS", "sixty"), ("DEADLINE", "2030")]:
        monkeypatch.setenv(f"MARKET_ADOPTION_{name}", bad)
        with pytest.raises(ConfigError, match=f"MARKET_ADOPTION_{name}"):
            create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        monkeypatch.delenv(f"MARKET_ADOPTION_{name}")


def test_default_settings_follow_the_plan():
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert Settings.from_config(app.config) == Settings()
    assert (Settings().target_markets, Settings().qr_share, Settings().active_min_payments) == (
        60,
        1,
        20,
    )
