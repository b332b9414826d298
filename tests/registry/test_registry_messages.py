"""Flash messages say exactly what happened: which market, stall, account or file, and what
follows from it, in Vietnamese and (translated) in English."""

import html
import io
import re

from sqlalchemy import select

from market.extensions import db
from market.markets.models import ImportBatch
from market.merchants.models import PayeeAccount
from tests.registry.test_registry_import import GOOD

FLASH = re.compile(r'<p class="flash flash-(\w+)" role="\w+">(.*?)</p>', re.S)


def _flashes(response) -> list[tuple[str, str]]:
    return [(kind, html.unescape(text)) for kind, text in FLASH.findall(response.text)]


def test_new_market_message_names_it_and_says_what_to_do_next(world, client, auth):
    auth.login("admin")
    response = client.post(
        "/markets/new",
        data={
            "code": "TN-MOI",
            "name": "Chợ Mới",
            "district": "TP. Thái Nguyên",
            "status": "planned",
        },
        follow_redirects=True,
    )
    assert _flashes(response) == [
        (
            "success",
            "Đã thêm chợ Chợ Mới (TN-MOI). Tiếp theo: thêm sạp, hoặc nhập danh sách sạp từ tệp.",
        )
    ]


def test_market_edit_message_names_the_market(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/edit",
        data={"name": "Chợ Đồng Quang mới", "district": "TP. Thái Nguyên", "status": "live"},
        follow_redirects=True,
    )
    assert _flashes(response) == [("success", "Đã lưu thông tin chợ Chợ Đồng Quang mới (TN-A).")]


def test_stall_edit_message_says_what_the_stall_now_is_in_either_language(world, client, auth):
    auth.login("helper")
    data = {"code": "A-01", "category": "hoa-qua", "status": "vacant"}
    response = client.post("/markets/TN-A/stalls/A-01/edit", data=data, follow_redirects=True)
    assert _flashes(response) == [
        ("success", "Đã lưu sạp A-01 ở Chợ Đồng Quang: Hoa quả, Còn trống.")
    ]
    client.get("/lang/en")
    data["category"] = "thuy-san"
    response = client.post("/markets/TN-A/stalls/A-01/edit", data=data, follow_redirects=True)
    assert _flashes(response) == [
        ("success", "Saved stall A-01 at Chợ Đồng Quang: Fish, seafood, Vacant.")
    ]


def test_merchant_message_names_the_merchant_and_stall(world, client, auth):
    auth.login("helper")
    response = client.post(
        "/markets/TN-A/stalls/A-01/merchant",
        data={"full_name": "Lò Thị Mai", "phone": "0977000111", "consent": "y"},
        follow_redirects=True,
    )
    assert _flashes(response) == [
        ("success", "Đã lưu tiểu thương Lò Thị Mai cho sạp A-01 ở Chợ Đồng Quang.")
    ]


def _payee_form(world, **fields):
    return {
        "bank_bin": "970415",
        "service": "account",
        "account_number": "999888777",
        "holder_name": "NGUYEN THI HOA",
        "action": "save",
        "expected_current_id": str(world.payee_a.id),
        **fields,
    }


def test_payee_messages_name_the_account_and_say_the_qr_waits_for_a_second_manager(
    world, client, auth
):
    auth.login("manager")
    unchanged = _payee_form(
        world, bank_bin="970436", account_number="0011001234567", holder_name="NGUYEN THI HOA"
    )
    response = client.post("/markets/TN-A/stalls/A-01/payee", data=unchanged, follow_redirects=True)
    assert _flashes(response) == [
        (
            "info",
            "Tài khoản nhận tiền của sạp A-01 không thay đổi: vẫn là "
            "Vietcombank · 0011001234567 · NGUYEN THI HOA.",
        )
    ]
    response = client.post(
        "/markets/TN-A/stalls/A-01/payee", data=_payee_form(world), follow_redirects=True
    )
    [(kind, text)] = _flashes(response)
    assert kind == "success"
    assert text.startswith(
        "Đã lưu tài khoản nhận tiền mới cho sạp A-01: VietinBank · 999888777 · NGUYEN THI HOA."
    )
    assert "mã QR của sạp chưa nhận được tiền" in text

    new = db.session.scalar(select(PayeeAccount).where(PayeeAccount.account_number == "999888777"))
    auth.logout()
    auth.login("manager2")
    client.get("/lang/en")
    url = f"/markets/TN-A/stalls/A-01/payee/{new.id}/verify"
    response = client.post(url, follow_redirects=True)
    assert _flashes(response) == [
        (
            "success",
            "Verified account VietinBank · 999888777 · NGUYEN THI HOA of stall A-01. The stall's "
            "QR code now pays into this account; print a new QR sticker for the stall.",
        )
    ]
    response = client.post(url, follow_redirects=True)
    assert _flashes(response) == [
        (
            "info",
            "Account VietinBank · 999888777 · NGUYEN THI HOA of stall A-01 was already verified; "
            "nothing changed.",
        )
    ]


def test_import_messages_name_the_file_the_market_and_every_count(world, client, auth):
    auth.login("manager")
    page = client.post(
        "/markets/TN-A/import",
        data={"file": (io.BytesIO(GOOD.encode()), "stalls.csv")},
        content_type="multipart/form-data",
    ).text
    batch_id = page.split("/import/")[1].split("/apply")[0]
    response = client.post(f"/markets/TN-A/import/{batch_id}/apply", follow_redirects=True)
    assert _flashes(response) == [
        (
            "success",
            "Đã nhập 4 dòng: 3 sạp mới, 0 sạp cập nhật, 1 tiểu thương mới, "
            "2 tài khoản mới (chờ xác minh), 1 dòng không đổi — tệp stalls.csv, Chợ Đồng Quang.",
        )
    ]
    applied_at = db.session.get(ImportBatch, int(batch_id)).applied_at
    assert applied_at is not None
    response = client.post(f"/markets/TN-A/import/{batch_id}/apply", follow_redirects=True)
    [(kind, text)] = _flashes(response)
    assert kind == "info"
    assert re.fullmatch(
        r"Tệp stalls\.csv đã được nhập vào Chợ Đồng Quang lúc \d\d/\d\d/\d{4} \d\d:\d\d; "
        r"không nhập lại lần nữa\.",
        text,
    ), text
