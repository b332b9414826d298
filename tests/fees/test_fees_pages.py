"""The fees pages at work: the board's account under four-eyes, a merchant's bill on a phone
with its QR read back, billing by button, credit notes, the meter walk, the notices PDF."""

from __future__ import annotations

import base64
import re
from datetime import date

import pypdfium2
import zxingcpp
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.fees import queries, services
from market.fees.models import (
    FeeAccount,
    FeeBill,
    FeeBillLine,
    FeeCreditNote,
    FeePayment,
    MeterReading,
)
from market.qr import decode_image
from market.vietqr import parse_payload


def test_the_board_account_takes_effect_only_when_another_person_verifies_it(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/fees/account",
        data={
            "bank_bin": "970415",
            "account_number": "1130 0000 6789",
            "holder_name": "Ban quản lý chợ Đồng Quang",
        },
    )
    assert response.status_code == 302
    account = db.session.scalar(select(FeeAccount))
    assert (account.account_number, account.holder_name) == (
        "113000006789",
        "BAN QUAN LY CHO DONG QUANG",
    )
    assert not account.verified and queries.paying_account(world.market_a.id) is None
    page = client.get("/markets/TN-A/fees").get_data(as_text=True)
    assert "Bạn đã tạo tài khoản này." in page
    refused = client.post(f"/markets/TN-A/fees/account/{account.id}/verify")
    assert refused.status_code == 403
    db.session.expire_all()
    assert not db.session.get(FeeAccount, account.id).verified
    auth.logout()
    auth.login("manager2")
    assert client.post(f"/markets/TN-A/fees/account/{account.id}/verify").status_code == 302
    db.session.expire_all()
    assert queries.paying_account(world.market_a.id).id == account.id
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.action.like("fee_account.%")).order_by(AuditLog.id)
    ).all()
    assert actions == ["fee_account.set", "fee_account.verify"]


def test_a_bad_board_account_is_refused_field_by_field(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/fees/account",
        data={"bank_bin": "999999", "account_number": "12 34-ab!", "holder_name": "Hoa 3"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="error"') >= 3
    assert db.session.scalar(select(func.count(FeeAccount.id))) == 0


def test_the_merchants_phone_view_of_a_bill_carries_a_qr_paying_what_is_due(fees, client, auth):
    world = fees.world
    services.bill_market(None, world.market_a, "2026-11")
    bill = db.session.scalar(
        select(FeeBill).where(FeeBill.stall_id == world.stall_a.id, FeeBill.period == "2026-11")
    )
    auth.login("merchant")
    listing = client.get("/me/bills").get_data(as_text=True)
    assert f"/me/bills/{bill.id}" in listing and "350.000" in listing
    response = client.get(f"/me/bills/{bill.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert bill.reference in page and "350.000" in page
    [png] = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    [text] = decode_image(base64.b64decode(png))
    parsed = parse_payload(text)
    assert (parsed.bank_bin, parsed.account) == ("970415", "113000006789")
    assert parsed.amount == 350_000 and parsed.purpose == bill.reference
    # The other market's merchant cannot open it.
    auth.logout()
    auth.login("merchant_b")
    assert client.get(f"/me/bills/{bill.id}").status_code == 404
    assert bill.reference not in client.get("/me/bills").get_data(as_text=True)


def test_a_partly_paid_bill_asks_only_the_rest(fees, client, auth):
    world = fees.world
    services.bill_market(None, world.market_a, "2026-11")
    bill = db.session.scalar(select(FeeBill).where(FeeBill.stall_id == world.stall_a.id))
    db.session.add(
        FeePayment(
            market_id=bill.market_id,
            bill_id=bill.id,
            amount=150_000,
            method="cash",
            paid_at=bill.issued_at,
        )
    )
    services.stage_bill_status([bill])
    db.session.commit()
    assert bill.status == "partial"
    auth.login("merchant")
    page = client.get(f"/me/bills/{bill.id}").get_data(as_text=True)
    [png] = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert parse_payload(decode_image(base64.b64decode(png))[0]).amount == 200_000


def test_billing_by_button_twice_gives_the_same_bills(fees, client, auth):
    auth.login("manager")
    response = client.post("/markets/TN-A/fees/bill", data={"period": "2026-11"})
    assert response.status_code == 302 and "period=2026-11" in response.headers["Location"]
    first = db.session.execute(select(FeeBill.id, FeeBill.reference, FeeBill.total)).all()
    assert len(first) == 2
    client.post("/markets/TN-A/fees/bill", data={"period": "2026-11"})
    db.session.expire_all()
    assert db.session.execute(select(FeeBill.id, FeeBill.reference, FeeBill.total)).all() == first
    listing = client.get("/markets/TN-A/fees/bills?period=2026-11").get_data(as_text=True)
    assert "A-01" in listing and "A-02" in listing
    bad = client.post("/markets/TN-A/fees/bill", data={"period": "tháng 11"})
    assert bad.status_code == 422 and "NNNN-TT" in bad.get_data(as_text=True)


def test_a_paid_bill_is_never_edited_a_credit_note_corrects_it(fees, client, auth):
    world = fees.world
    services.bill_market(None, world.market_a, "2026-11")
    bill = db.session.scalar(select(FeeBill).where(FeeBill.stall_id == fees.stall_a2.id))
    lines_before = db.session.execute(
        select(FeeBillLine.description, FeeBillLine.amount).where(FeeBillLine.bill_id == bill.id)
    ).all()
    db.session.add(
        FeePayment(
            market_id=bill.market_id,
            bill_id=bill.id,
            amount=bill.total,
            method="transfer",
            paid_at=bill.issued_at,
        )
    )
    services.stage_bill_status([bill])
    db.session.commit()
    auth.login("manager")
    url = f"/markets/TN-A/fees/bills/{bill.number}/credit"
    too_much = client.post(url, data={"amount": "900.000", "reason": "Tính nhầm"})
    assert too_much.status_code == 422 and "450.000" in too_much.get_data(as_text=True)
    no_reason = client.post(url, data={"amount": "50.000", "reason": ""})
    assert no_reason.status_code == 422
    assert db.session.scalar(select(func.count(FeeCreditNote.id))) == 0
    response = client.post(url, data={"amount": "50.000", "reason": "Phí vệ sinh tính nhầm"})
    assert response.status_code == 302
    db.session.expire_all()
    bill = db.session.get(FeeBill, bill.id)
    assert (bill.total, bill.status) == (450_000, "paid")
    assert (
        db.session.execute(
            select(FeeBillLine.description, FeeBillLine.amount).where(
                FeeBillLine.bill_id == bill.id
            )
        ).all()
        == lines_before
    )
    note = db.session.scalar(select(FeeCreditNote))
    assert (note.amount, note.number) == (50_000, f"GG{note.created_at.year}-00001")
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "fee_credit.issue")
        )
        == 1
    )
    # What was paid above the corrected amount is a credit on the next bill.
    services.bill_market(None, world.market_a, "2026-12")
    december = db.session.scalar(
        select(FeeBill).where(FeeBill.stall_id == fees.stall_a2.id, FeeBill.period == "2026-12")
    )
    assert december.total == 400_000
    page = client.get(f"/markets/TN-A/fees/bills/{december.number}").get_data(as_text=True)
    assert "Trừ tiền trả thừa kỳ trước" in page


def test_the_meter_walk_saves_all_or_nothing(fees, client, auth):
    world = fees.world
    auth.login("helper")
    url = f"/markets/TN-A/fees/readings/{fees.power.id}?period=2026-11"
    page = client.get(url).get_data(as_text=True)
    assert 'name="end-1"' in page and 'name="start-1"' in page
    bad = client.post(
        url,
        data={
            f"start-{world.stall_a.id}": "1200",
            f"end-{world.stall_a.id}": "1150",
            f"end-{fees.stall_a2.id}": "abc",
        },
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "nhỏ hơn chỉ số cũ" in text or "phải là số nguyên" in text
    assert db.session.scalar(select(func.count(MeterReading.id))) == 0
    ok = client.post(
        url,
        data={
            f"start-{world.stall_a.id}": "1.200",
            f"end-{world.stall_a.id}": "1.240",
            f"end-{fees.stall_a2.id}": "",
        },
    )
    assert ok.status_code == 302
    reading = db.session.scalar(select(MeterReading))
    assert (reading.stall_id, reading.start_reading, reading.end_reading) == (
        world.stall_a.id,
        1200,
        1240,
    )
    # Next month starts from this end: only the new index is asked.
    december = client.get(f"/markets/TN-A/fees/readings/{fees.power.id}?period=2026-12").get_data(
        as_text=True
    )
    assert f'name="start-{world.stall_a.id}"' not in december and "1240" in december


def test_a_markets_notices_are_one_pdf_with_a_page_and_a_qr_per_stall(fees, client, auth):
    services.bill_market(None, fees.world.market_a, "2026-11")
    auth.login("manager")
    response = client.get("/markets/TN-A/fees/notices.pdf?period=2026-11")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.get_data())
    try:
        assert len(pdf) == 2
        references = []
        for page in pdf:
            assert "THÔNG BÁO PHÍ CHỢ" in page.get_textpage().get_text_range()
            [code] = zxingcpp.read_barcodes(page.render(scale=200 / 72).to_pil())
            references.append(parse_payload(code.text).purpose)
    finally:
        pdf.close()
    assert set(references) == set(db.session.scalars(select(FeeBill.reference)))
    missing = client.get("/markets/TN-A/fees/notices.pdf?period=2027-05")
    assert missing.status_code == 404


def test_a_fee_and_a_rate_are_added_from_the_pages_with_errors_per_field(fees, client, auth):
    auth.login("manager")
    bad = client.post(
        "/markets/TN-A/fees/types",
        data={
            "code": "bảo vệ",
            "name": "",
            "kind": "metered",
            "cycle": "daily",
            "amount": "-5",
            "valid_from": "2026-13",
        },
    )
    assert bad.status_code == 422
    assert bad.get_data(as_text=True).count('class="error"') >= 4
    good = client.post(
        "/markets/TN-A/fees/types",
        data={
            "code": "baove",
            "name": "Phí bảo vệ",
            "kind": "fixed",
            "cycle": "monthly",
            "amount": "30.000",
            "valid_from": "2026-12",
        },
    )
    assert good.status_code == 302
    fee = db.session.scalar(select(services.FeeType).where(services.FeeType.code == "BAOVE"))
    response = client.post(
        f"/markets/TN-A/fees/types/{fee.id}", data={"amount": "35.000", "valid_from": "2027-03"}
    )
    assert response.status_code == 302
    assert [r.amount for r in queries.rates_of(fee)] == [35_000, 30_000]
    assert queries.rates_in_force([fee.id], date(2027, 2, 1)) == {fee.id: {"": 30_000}}


def test_stall_areas_and_one_off_charges_are_entered_on_pages_and_billed(fees, client, auth):
    world = fees.world
    manager = world.users["manager"]
    services.create_fee_type(
        manager,
        world.market_a,
        code="KIOT",
        name="Thuê ki-ốt",
        kind="rent_area",
        amount=80_000,
        valid_from=date(2026, 9, 1),
    )
    repair = services.create_fee_type(
        manager,
        world.market_a,
        code="SUACHUA",
        name="Sửa chữa",
        kind="one_off",
        amount=0,
        valid_from=date(2026, 9, 1),
    )
    auth.login("manager")
    bad = client.post(
        "/markets/TN-A/fees/areas",
        data={f"area-{world.stall_a.id}": "2,5", f"area-{fees.stall_a2.id}": "hai mét"},
    )
    assert bad.status_code == 422 and "ví dụ 2,5" in bad.get_data(as_text=True)
    ok = client.post("/markets/TN-A/fees/areas", data={f"area-{world.stall_a.id}": "2,5"})
    assert ok.status_code == 302
    assert 'value="2,5"' in client.get("/markets/TN-A/fees/areas").get_data(as_text=True)
    url = f"/markets/TN-A/fees/types/{repair.id}/charges"
    unknown = client.post(url, data={"stall": "Z-9", "period": "2026-11", "amount": "120.000"})
    assert unknown.status_code == 422 and "Z-9" in unknown.get_data(as_text=True)
    added = client.post(
        url, data={"stall": "a-01", "period": "2026-11", "amount": "120.000", "note": "khóa"}
    )
    assert added.status_code == 302
    services.bill_market(None, world.market_a, "2026-11")
    bill = db.session.scalar(select(FeeBill).where(FeeBill.stall_id == world.stall_a.id))
    lines = db.session.execute(
        select(FeeBillLine.kind, FeeBillLine.amount)
        .where(FeeBillLine.bill_id == bill.id)
        .order_by(FeeBillLine.position)
    ).all()
    assert lines[-2:] == [("fee", 200_000), ("charge", 120_000)]
    page = client.get(f"/markets/TN-A/fees/types/{repair.id}").get_data(as_text=True)
    assert bill.number in page


def test_a_board_account_change_over_a_pending_one_needs_a_third_person(world):
    manager, helper_like = world.users["manager"], world.users["admin"]
    first = services.set_board_account(
        manager,
        world.market_a,
        bank_bin="970415",
        account_number="1130001",
        holder_name="BAN QUAN LY",
    )
    second = services.set_board_account(
        helper_like,
        world.market_a,
        bank_bin="970415",
        account_number="1130002",
        holder_name="BAN QUAN LY",
    )
    db.session.refresh(first)
    refusal = services.board_account_refusal(manager, second)
    assert refusal.kind == "pending" and "tài khoản thu phí" in refusal.message
    assert services.board_account_refusal(manager, first).kind == "replaced"
    assert services.board_account_refusal(helper_like, second).kind == "created"
    assert services.board_account_refusal(world.users["manager2"], second) is None
    assert services.board_account_refusal(world.users["helper"], second).kind == "role"
