"""The monthly statement per merchant as served: the PDF read back with pypdfium2, the XLSX
with openpyxl, on both databases."""

from __future__ import annotations

import io
from datetime import date, datetime

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook

from market.extensions import db
from market.payments import queries
from tests.payments.test_history import login, pay, second_stall, vn


def pdf_pages(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def pdf_text(data: bytes) -> str:
    return "\n".join(pdf_pages(data))


def xlsx_sheets(data: bytes) -> dict[str, list[tuple]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {s.title: [tuple(r) for r in s.iter_rows(values_only=True)] for s in workbook}
    finally:
        workbook.close()


@pytest.fixture
def november(world):
    """Merchant A's November: two stalls, a payment either side of both month ends and of a
    Vietnam midnight, and rows that must never count."""
    a02 = second_stall(world)
    pay(world.stall_a, vn(2026, 10, 31, 23, 59), 999_000, payer="LAST OF OCTOBER")
    pay(world.stall_a, vn(2026, 11, 1, 0, 1), 15_000, payer="Nguyễn Văn Đức", reference="FT0001")
    pay(world.stall_a, vn(2026, 11, 3, 23, 59), 120_000, payer="Trần Thị Ngọc Ánh")
    pay(a02, vn(2026, 11, 4, 0, 1), 35_500, payer="", reference="MBVCB.42")
    pay(a02, vn(2026, 11, 30, 23, 59), 1_250_000, payer="LÊ HỮU PHƯỚC")
    pay(world.stall_a, vn(2026, 12, 1, 0, 0), 777_000, payer="FIRST OF DECEMBER")
    pay(None, vn(2026, 11, 10, 9, 0), 555_000, payer="UNMATCHED", status="unmatched")
    pay(None, vn(2026, 11, 10, 9, 1), 444_000, payer="IGNORED", status="ignored", direction="out")
    pay(world.stall_b, vn(2026, 11, 10, 9, 2), 333_000, payer="OTHER MERCHANT")
    db.session.commit()
    return a02


NOVEMBER_TOTAL = 15_000 + 120_000 + 35_500 + 1_250_000


def test_the_pdf_lists_every_payment_with_daily_and_month_totals(app, world, november):
    response = login(app, "merchant").get("/me/statement.pdf?month=2026-11")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "bang-ke-Nguyen-Thi-Hoa-2026-11.pdf" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    pages = pdf_pages(response.data)
    first, text = pages[0], "\n".join(pages)
    # Who, where and which month, at the top, with the month's count and total.
    for expected in (
        "Bảng kê tiền nhận qua chuyển khoản",
        "Tháng 11/2026",
        "Nguyễn Thị Hoa",
        "Chợ Đồng Quang",
        "A-01, A-02",
        "4 khoản, tổng 1.420.500 đồng",
    ):
        assert expected in first, expected
    # Every payment: time, stall, amount, payer (diacritics intact), reference.
    for expected in (
        "01/11/2026 00:01 A-01 15.000 Nguyễn Văn Đức FT0001",
        "03/11/2026 23:59 A-01 120.000 Trần Thị Ngọc Ánh",
        "04/11/2026 00:01 A-02 35.500",
        "MBVCB.42",
        "30/11/2026 23:59 A-02 1.250.000 LÊ HỮU PHƯỚC",
    ):
        assert expected in text, expected
    # Daily totals, each day on its own line, and the month's.
    for expected in (
        "Cộng ngày 01/11/2026: 1 khoản 15.000",
        "Cộng ngày 03/11/2026: 1 khoản 120.000",
        "Cộng ngày 04/11/2026: 1 khoản 35.500",
        "Tổng theo ngày",
        "Tổng cả tháng 4 1.420.500",
    ):
        assert expected in text, expected
    for hidden in ("OCTOBER", "DECEMBER", "UNMATCHED", "IGNORED", "OTHER MERCHANT", "999.000"):
        assert hidden not in text, hidden


def test_the_month_boundary_is_vietnam_midnight(app, world, november):
    client = login(app, "merchant")
    october = pdf_text(client.get("/me/statement.pdf?month=2026-10").data)
    assert "LAST OF OCTOBER" in october and "Nguyễn Văn Đức" not in october
    assert "Tổng cả tháng 1 999.000" in october
    december = pdf_text(client.get("/me/statement.pdf?month=2026-12").data)
    assert "FIRST OF DECEMBER" in december and "LÊ HỮU PHƯỚC" not in december
    assert "01/12/2026 00:00" in december
    assert queries.month_received_totals([world.stall_a, november], date(2026, 11, 20)) == (
        4,
        NOVEMBER_TOTAL,
    )


def test_the_xlsx_has_every_payment_as_numbers_and_dates_and_the_daily_totals(app, world, november):
    response = login(app, "merchant").get("/me/statement.xlsx?month=2026-11")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "bang-ke-Nguyen-Thi-Hoa-2026-11.xlsx" in response.headers["Content-Disposition"]
    sheets = xlsx_sheets(response.data)
    payments, daily = sheets["Bảng kê"], sheets["Tổng theo ngày"]
    assert payments[0][:2] == ("Bảng kê tiền nhận qua chuyển khoản", "Tháng 11/2026")
    assert payments[1][:2] == ("Tiểu thương:", "Nguyễn Thị Hoa")
    assert payments[2][:2] == ("Chợ:", "Chợ Đồng Quang")
    heads = payments.index(
        ("Ngày giờ", "Sạp", "Số tiền (đồng)", "Người chuyển", "Mã tham chiếu", "Nội dung", "Đơn")
    )
    rows = payments[heads + 1 :]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (datetime(2026, 11, 1, 0, 1), "A-01", 15_000, "Nguyễn Văn Đức"),
        (datetime(2026, 11, 3, 23, 59), "A-01", 120_000, "Trần Thị Ngọc Ánh"),
        (datetime(2026, 11, 4, 0, 1), "A-02", 35_500, None),
        (datetime(2026, 11, 30, 23, 59), "A-02", 1_250_000, "LÊ HỮU PHƯỚC"),
    ]
    assert rows[0][4] == "FT0001" and rows[2][4] == "MBVCB.42"
    assert daily[0] == ("Ngày", "Số khoản", "Số tiền (đồng)")
    assert [(r[0].date(), r[1], r[2]) for r in daily[1:-1]] == [
        (date(2026, 11, 1), 1, 15_000),
        (date(2026, 11, 3), 1, 120_000),
        (date(2026, 11, 4), 1, 35_500),
        (date(2026, 11, 30), 1, 1_250_000),
    ]
    assert daily[-1] == ("Tổng cả tháng", 4, NOVEMBER_TOTAL)


def test_the_statement_is_english_when_the_ui_is(app, world, november):
    client = login(app, "merchant")
    client.get("/lang/en")
    text = pdf_text(client.get("/me/statement.pdf?month=2026-11").data)
    for expected in (
        "Statement of transfers received",
        "Month 11/2026",
        "Merchant:",
        "4 payments, total 1,420,500 dong",
        "Total of 03/11/2026: 1 payments 120,000",
        "Month total 4 1,420,500",
        "Trần Thị Ngọc Ánh",  # names stay as they are
    ):
        assert expected in text, expected
    sheets = xlsx_sheets(client.get("/me/statement.xlsx?month=2026-11").data)
    assert set(sheets) == {"Statement", "Daily totals"}
    assert sheets["Daily totals"][-1] == ("Month total", 4, NOVEMBER_TOTAL)


def test_a_managers_statement_has_the_merchants_stalls_of_that_market_only(app, world, november):
    in_b = second_stall(world, market=world.market_b, code="B-07")
    pay(in_b, vn(2026, 11, 12, 10, 0), 88_000, payer="AT MARKET B")
    db.session.commit()
    merchant = world.merchant_a.id
    text = pdf_text(
        login(app, "manager")
        .get(f"/markets/TN-A/merchants/{merchant}/statement.pdf?month=2026-11")
        .data
    )
    assert "AT MARKET B" not in text and "Tổng cả tháng 4 1.420.500" in text
    text = pdf_text(
        login(app, "manager_b")
        .get(f"/markets/TN-B/merchants/{merchant}/statement.pdf?month=2026-11")
        .data
    )
    assert "AT MARKET B" in text and "Chợ Túc Duyên" in text and "Tổng cả tháng 1 88.000" in text
    # The merchant's own statement names both markets and has all five.
    own = pdf_text(login(app, "merchant").get("/me/statement.pdf?month=2026-11").data)
    assert "Chợ Túc Duyên, Chợ Đồng Quang" in own or "Chợ Đồng Quang, Chợ Túc Duyên" in own
    assert "Tổng cả tháng 5 1.508.500" in own


def test_an_empty_month_still_makes_a_statement(app, world):
    text = pdf_text(login(app, "merchant").get("/me/statement.pdf?month=2026-02").data)
    assert "Tháng này chưa nhận khoản tiền nào." in text
    assert "Tổng cả tháng 0 0" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month=2026-13", "Tháng “2026-13” không hợp lệ"),
        ("month=11/2026", "Tháng “11/2026” không hợp lệ"),
        ("month=2999-01", "Tháng 01/2999 chưa tới."),
        ("month=0001-01", "Chọn một tháng từ năm 2000 trở đi."),
    ],
    ids=["month13", "slashes", "future", "year1"],
)
def test_a_bad_month_is_refused_on_the_history_page(app, world, query, message):
    client = login(app, "merchant")
    response = client.get(f"/me/statement.pdf?{query}")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert message in html and 'id="month-error"' in html
    api = client.get(f"/me/statement.xlsx?{query}", headers={"Accept": "application/json"})
    assert api.status_code == 422
    assert "month" in api.get_json()["error"]["fields"]


def test_an_unknown_format_is_not_found(app, world):
    assert login(app, "merchant").get("/me/statement.csv").status_code == 404


def test_a_busy_month_streams_through_many_pages(app, world):
    # 40 payments a day for 30 days: every page has its column heads and the totals add up.
    rows = []
    for day in range(1, 31):
        for n in range(40):
            rows.append(pay(world.stall_a, vn(2026, 9, day, 6 + n // 4, (n % 4) * 15), 1_000 + n))
    db.session.commit()
    response = login(app, "merchant").get("/me/statement.pdf?month=2026-09")
    pages = pdf_pages(response.data)
    assert len(pages) > 20
    assert all("Ngày giờ" in page or "Số khoản" in page for page in pages)
    total = sum(r.amount for r in rows)
    text = "\n".join(pages)
    assert f"Tổng cả tháng 1.200 {total:,}".replace(",", ".") in text
    assert text.count("Cộng ngày") == 30
