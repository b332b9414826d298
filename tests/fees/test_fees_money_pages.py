"""The money pages as a manager, a helper and a merchant use them: a bill's payments and
cash, the statement import (preview, apply, twice), arrears with exports and reminders,
receipts."""

from __future__ import annotations

import io
from datetime import date

import pypdfium2
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from market.extensions import db
from market.fees.models import FeeBill, FeePayment, FeeReceipt
from tests.conftest import Auth
from tests.fees.moneyworld import bill, board_account
from tests.fees.test_fees_statement_import import _file


def _pdf_text(body: bytes) -> str:
    document = pypdfium2.PdfDocument(body)
    try:
        return "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


@pytest.fixture
def overdue(world):
    board_account(world)
    old = bill(world, reference="CPAB23CD45", total=500_000, period="2026-01")
    return old


def test_cash_on_a_bill_gives_a_receipt_the_board_and_merchant_open(app, world, overdue):
    client = app.test_client()
    Auth(client).login("manager")
    url = f"/markets/TN-A/fees/bills/{overdue.number}/payments"
    page = client.get(url)
    assert page.status_code == 200 and "500.000" in page.get_data(as_text=True)
    response = client.post(
        url, data={"amount": "200.000", "receipt_number": "Q1/22", "paid_at": "2026-02-03T09:30"}
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "PT2026-000001" in page and "Q1/22" in page
    receipt = db.session.scalar(select(FeeReceipt))
    pdf = client.get(f"/markets/TN-A/fees/payments/{receipt.payment_id}/receipt.pdf")
    assert pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    assert "PT2026-000001" in text and "200.000" in text and "300.000" in text  # balance after

    merchant = app.test_client()
    Auth(merchant).login("merchant")
    # From the bill's page, as the merchant finds it.
    page = merchant.get(f"/me/bills/{overdue.id}").get_data(as_text=True)
    link = f"/me/bills/{overdue.id}/payments/{receipt.payment_id}/receipt.pdf"
    assert link in page
    own = merchant.get(link)
    assert own.status_code == 200 and own.mimetype == "application/pdf"
    # Another merchant's bill, or a receipt of another bill: not found.
    other = bill(world, stall=world.stall_b, reference="CPZZ23CD45", period="2026-01")
    assert (
        merchant.get(f"/me/bills/{other.id}/payments/{receipt.payment_id}/receipt.pdf").status_code
        == 404
    )


def test_bad_cash_is_answered_field_by_field(app, world, overdue):
    client = app.test_client()
    Auth(client).login("manager")
    response = client.post(
        f"/markets/TN-A/fees/bills/{overdue.number}/payments", data={"amount": "abc"}
    )
    assert response.status_code == 422
    assert "Số tiền “abc” không hợp lệ" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FeePayment)) == 0


def test_statement_preview_then_apply_then_nothing_new(app, world):
    account = board_account(world)
    paid = bill(world, reference="CPHH23CD47", total=600_000, period="2026-02")
    client = app.test_client()
    Auth(client).login("manager")
    preview = client.post(
        "/markets/TN-A/fees/statement",
        data={"account": str(account.id), "file": (io.BytesIO(_file("vcb_saoke.xlsx")), "s.xlsx")},
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert (
        "Ghi mới vào hóa đơn" in html
        and db.session.scalar(select(func.count()).select_from(FeePayment)) == 0
    )
    content = html.split('name="content" type="hidden" value="')[1].split('"')[0]
    applied = client.post(
        "/markets/TN-A/fees/statement/apply",
        data={"account": str(account.id), "filename": "s.xlsx", "content": content},
    )
    assert applied.status_code == 302
    db.session.expire_all()
    assert db.session.get(FeeBill, paid.id).status == "paid"
    again = client.post(
        "/markets/TN-A/fees/statement",
        data={"account": str(account.id), "file": (io.BytesIO(_file("vcb_saoke.xlsx")), "s.xlsx")},
        content_type="multipart/form-data",
    )
    assert "không có gì mới" in again.get_data(as_text=True)


def test_a_bad_statement_lists_its_bad_rows(app, world):
    account = board_account(world)
    client = app.test_client()
    Auth(client).login("manager")
    bad = "Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Mô tả\n32/13/2026,1,,5,x\n"
    response = client.post(
        "/markets/TN-A/fees/statement",
        data={"account": str(account.id), "file": (io.BytesIO(bad.encode()), "s.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Dòng 2: không đọc được ngày" in response.get_data(as_text=True)


def test_arrears_by_stall_and_age_with_exports_and_reminders(app, world, overdue):
    bill(world, reference="CPAB23CD46", total=300_000, period="2026-02")
    client = app.test_client()
    Auth(client).login("helper")
    html = client.get("/markets/TN-A/fees/arrears").get_data(as_text=True)
    assert "A-01" in html and "800.000" in html
    assert f"/markets/TN-A/fees/bills/{overdue.number}/payments" in html
    xlsx = client.get("/markets/TN-A/fees/arrears.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[1][0] == "A-01" and rows[1][7] == 500_000 and len(rows) == 3
    csv = client.get("/markets/TN-A/fees/arrears.csv").get_data(as_text=True)
    assert "CPAB23CD46" in csv
    reminders = client.get("/markets/TN-A/fees/arrears/reminders").get_data(as_text=True)
    assert reminders.count('class="reminder"') == 1 and "GIẤY NHẮC NỘP PHÍ" in reminders


def test_arrears_age_buckets(app, world):
    from datetime import UTC, datetime

    from market.fees.money import queries

    board_account(world)
    bill(world, reference="CPAB23CD45", total=100, period="2026-01", due=date(2026, 1, 10))
    bill(world, reference="CPAB23CD46", total=200, period="2026-02", due=date(2026, 2, 10))
    bill(world, reference="CPAB23CD47", total=400, period="2026-03", due=date(2026, 3, 10))
    report = queries.arrears(world.market_a, now=datetime(2026, 3, 20, 5, tzinfo=UTC))
    assert report.by_bucket == {"1-30": 400, "31-60": 200, "61-90": 100, "90+": 0}
    assert report.stalls[0].oldest_days == 69
