"""Bulk import: a dry run reports every row's errors and writes nothing; an import is all or
nothing; the same file imported again changes nothing; export then import is a no-op."""

import io
import json
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.markets import importing
from market.markets.models import Stall
from market.merchants.models import Merchant, PayeeAccount

HEADER = (
    "ma_sap,khu,nganh_hang,trang_thai,ho_ten,so_dien_thoai,ma_so_thue,dong_y,ngan_hang,"
    "so_tai_khoan,loai_tai_khoan,ten_chu_tai_khoan"
)
GOOD = (
    "\n".join(
        [
            HEADER,
            "C-01,Khu C,rau-cu,active,Phạm Thị Lan,0912000001,,có,970405,1500205123456,tai_khoan,"
            "Phạm Thị Lan",
            "c-02,Khu C,Thịt,active,Phạm Thị Lan,0912000001,,có,VCB,0011000123456,,PHAM THI LAN",
            "C-03,Khu C,hoa-qua,vacant,,,,,,,,",
            "A-01,Khu A,rau-cu,active,Nguyễn Thị Hoa,0912345678,,có,970436,0011001234567,tai_khoan,"
            "NGUYEN THI HOA",
        ]
    )
    + "\n"
)
BAD = (
    "\n".join(
        [
            HEADER,
            "C-01,Khu C,rau-cu,active,Phạm Thị Lan,0912000001,,có,970405,1500205123456,,PHAM THI LAN",
            "C-02,Khu C,cá voi,active,Trần Văn Nam,12345,,có,970405,15002,,TRAN VAN NAM",
            ",Khu C,rau-cu,active,,,,,,,,",
            "C-01,Khu C,rau-cu,active,,,,,,,,",
            "C-04,Khu C,rau-cu,active,Lê Văn A,0912000004,,có,999999,1500205,,LE VAN A",
        ]
    )
    + "\n"
)


def _counts():
    return tuple(
        db.session.scalar(select(func.count(m.id)))
        for m in (Stall, Merchant, PayeeAccount, AuditLog)
    )


def _run(world, content, *, dry_run, actor="manager", name="stalls.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return importing.run_import(
        world.users[actor] if actor else None, world.market_a, name, data, dry_run=dry_run
    )


def test_dry_run_reports_what_will_happen_and_writes_nothing(world):
    before = _counts()
    report = _run(world, GOOD, dry_run=True)
    assert report.ok, report.errors
    assert (
        report.rows,
        report.stalls_created,
        report.merchants_created,
        report.payees_set,
        report.unchanged,
    ) == (4, 3, 1, 2, 1)
    assert not report.applied
    assert _counts() == before


def test_every_bad_cell_is_reported_by_line_and_column_and_nothing_is_written(world):
    before = _counts()
    report = _run(world, BAD, dry_run=False)
    assert not report.applied
    found = {(e.line, e.column) for e in report.errors}
    assert {
        (3, "nganh_hang"),
        (3, "so_dien_thoai"),
        (4, "ma_sap"),
        (5, "ma_sap"),
        (6, "ngan_hang"),
    } <= found
    messages = " ".join(e.message for e in report.errors)
    assert "“12345”" in messages and "“999999”" in messages and "dòng 2" in messages
    assert _counts() == before


def test_import_applies_everything_and_reimport_changes_nothing(world):
    report = _run(world, GOOD, dry_run=False)
    assert report.applied and report.ok
    lan = db.session.scalar(select(Merchant).where(Merchant.phone == "0912000001"))
    stalls = db.session.scalars(
        select(Stall).where(Stall.merchant_id == lan.id).order_by(Stall.code)
    ).all()
    assert [s.code for s in stalls] == ["C-01", "C-02"]  # one merchant, two stalls
    assert db.session.scalar(select(Stall.category).where(Stall.code == "C-02")) == "thit"
    counts = _counts()
    again = _run(world, GOOD, dry_run=False)
    assert again.applied and again.unchanged == 4
    assert (
        again.stalls_created,
        again.stalls_updated,
        again.payees_set,
        again.assignments,
        again.merchants_updated,
    ) == (0, 0, 0, 0, 0)
    assert _counts() == counts


def test_export_then_import_changes_nothing(world):
    _run(world, GOOD, dry_run=False)
    exported = importing.to_csv(importing.export_rows(world.market_a))
    counts = _counts()
    report = _run(world, exported, dry_run=False, name="export.csv")
    assert report.ok and report.unchanged == report.rows == 4
    assert _counts() == counts


def test_xlsx_import_keeps_leading_zeros_and_matches_csv(world):
    workbook = Workbook()
    sheet = workbook.active
    for line in GOOD.strip().splitlines():
        sheet.append(line.split(","))
    sheet.append(
        [
            "D-01",
            "",
            "",
            "",
            "Vũ Thị Yến",
            912000009,
            "",
            "x",
            970418,
            "0123456789",
            "",
            "VU THI YEN",
        ]
    )  # phone typed as a number by Excel
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = _run(world, buffer.getvalue(), dry_run=False, name="stalls.xlsx")
    assert report.ok, report.errors
    yen = db.session.scalar(select(Merchant).where(Merchant.full_name == "Vũ Thị Yến"))
    assert yen.phone == "0912000009"
    payee = db.session.scalar(select(PayeeAccount).join(Stall).where(Stall.code == "D-01"))
    assert payee.account_number == "0123456789"


def test_a_helper_import_cannot_replace_a_verified_payee(world):
    content = HEADER + "\nA-01,,,,,,,,970415,999999999,,KE GIAN\n"
    before = _counts()
    report = _run(world, content, dry_run=False, actor="helper")
    assert not report.applied
    assert report.errors[0].line == 2 and "đã xác minh" in report.errors[0].message
    assert _counts() == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", b"ma_sap\nA-1\n", "Chỉ nhận tệp"),
        ("x.csv", b"", "Tệp trống"),
        ("x.csv", b"foo,bar\n1,2\n", "ma_sap"),
        ("x.csv", "ma_sap\nA-1\n".encode("utf-16"), "UTF-8"),
        ("x.xlsx", b"not a zip", "Không đọc được tệp Excel"),
    ],
)
def test_unreadable_files_get_a_clear_error(world, name, content, message):
    with pytest.raises(importing.ImportFileError, match=message):
        _run(world, content, dry_run=True, name=name)


def test_upload_page_dry_run_then_confirm(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/import",
        data={"file": (io.BytesIO(GOOD.encode()), "stalls.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Xác nhận nhập" in page
    assert db.session.scalar(select(func.count(Stall.id))) == 2  # nothing written yet
    batch_id = page.split("/import/")[1].split("/apply")[0]
    response = client.post(f"/markets/TN-A/import/{batch_id}/apply")
    # Applied: the answer shows the new merchants' one-time activation codes.
    assert response.status_code == 200 and "activation-code" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Stall.id))) == 5
    # Confirming the same upload twice does not import twice.
    client.post(f"/markets/TN-A/import/{batch_id}/apply")
    assert db.session.scalar(select(func.count(Stall.id))) == 5


def test_upload_with_errors_shows_the_table_and_no_confirm_button(world, client, auth):
    auth.login("helper")
    response = client.post(
        "/markets/TN-A/import",
        data={"file": (io.BytesIO(BAD.encode()), "bad.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "Xác nhận nhập" not in page and "Chưa có gì được lưu" in page
    assert "nganh_hang" in page


def test_cli_import_dry_run_and_apply(world, runner, tmp_path):
    path = tmp_path / "stalls.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["import-stalls", str(path), "--market", "TN-A", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert '"stalls_created": 3' in result.output
    assert db.session.scalar(select(func.count(Stall.id))) == 2
    result = runner.invoke(args=["import-stalls", str(path), "--market", "TN-A"])
    assert result.exit_code == 0 and '"applied": true' in result.output
    # Each new merchant's code, once, on stderr (the codes are held as one secret meanwhile).
    created = json.loads(result.stdout)["merchants_created"]
    codes = re.findall(r"activation code (\d{8}) for \S+/activate/(\d+)", result.stderr)
    assert created > 0 and len({phone for _code, phone in codes}) == len(codes) == created
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    result = runner.invoke(args=["import-stalls", str(bad), "--market", "TN-A"])
    assert result.exit_code == 1 and "line 3, column so_dien_thoai" in result.output


def test_export_xlsx_opens_and_has_the_import_header(world, client, auth):
    auth.login("manager")
    response = client.get("/markets/TN-A/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == importing.HEADER
    assert rows[1][0] == "A-01" and rows[1][9] == "0011001234567"
