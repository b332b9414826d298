"""Everyone onboarded can get in, in a real browser: a manager imports a new merchant and
prints the welcome slips; a fresh phone-sized browser opens the slip's QR link, activates
with the printed code and sets a password, sees only that merchant's stall, and a collect
payment is confirmed by a signed notification."""

from __future__ import annotations

import re

import pypdfium2
import pytest
import zxingcpp
from playwright.sync_api import expect

from market.vietqr import parse_payload
from tests.browser.conftest import VIEWPORTS, log_in
from tests.browser.test_browser_payments import _decode_img, _notify, _sepay_secret

pytestmark = pytest.mark.browser

HEADER = (
    "ma_sap,khu,nganh_hang,trang_thai,ho_ten,so_dien_thoai,ma_so_thue,dong_y,ngan_hang,"
    "so_tai_khoan,loai_tai_khoan,ten_chu_tai_khoan"
)
PHONE = "0867000901"
ROW = f"W-01,Khu W,rau-cu,active,Vũ Thị Xuân,{PHONE},,có,970436,0011000900901,tai_khoan,VU THI XUAN"
PASSWORD = "xuan rau tuoi 2026"


def _slip_texts(data: bytes, save_to) -> tuple[str, list[str]]:
    pdf = pypdfium2.PdfDocument(data)
    try:
        assert len(pdf) == 1
        page = pdf[0]
        text = page.get_textpage().get_text_range()
        image = page.render(scale=200 / 72).to_pil()
        image.save(save_to("welcome-slip.png"))
        return text, [r.text for r in zxingcpp.read_barcodes(image)]
    finally:
        pdf.close()


def test_a_new_merchant_gets_in_on_their_phone_the_day_they_are_onboarded(
    browser, live_server, new_page, shots, tmp_path, artifacts
):
    # The manager imports a file with one new merchant.
    manager = new_page("desktop")
    log_in(manager, "quanly")
    manager.goto("/markets/TN-DONGQUANG/import")
    csv_file = tmp_path / "xuan.csv"
    csv_file.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    manager.get_by_label("Tệp CSV hoặc Excel (.xlsx)").set_input_files(csv_file)
    manager.get_by_role("button", name="Kiểm tra tệp").click()
    manager.get_by_role("button", name="Xác nhận nhập").click()
    card = manager.locator(".activation-code").filter(has_text="Vũ Thị Xuân")
    expect(card).to_have_count(1)
    code = card.locator(".code").inner_text().strip()
    assert re.fullmatch(r"\d{8}", code)
    shots(manager, "codes")

    # ... and prints the welcome slips.
    with manager.expect_download(timeout=60_000) as download_info:
        manager.get_by_role("button", name=re.compile("In phiếu chào mừng")).click()
    download = download_info.value
    assert download.suggested_filename == "phieu-chao-mung.pdf"
    slip_file = tmp_path / "slip.pdf"
    download.save_as(slip_file)
    text, codes = _slip_texts(slip_file.read_bytes(), shots.path)
    assert codes == [f"{live_server}/activate/{PHONE}"]
    assert "Vũ Thị Xuân" in text and f"{code[:4]} {code[4:]}" in text and "W-01" in text

    # The payee waits for a second official (four-eyes): the province confirms it.
    admin = new_page("desktop")
    log_in(admin, "admin")
    admin.goto("/markets/TN-DONGQUANG/stalls/W-01")
    admin.get_by_role("button", name="Xác minh tài khoản này").click()
    expect(admin.locator("main")).to_contain_text("Đã xác minh")

    # A fresh phone: scan the slip's QR, type the code, set a password.
    phone = new_page("phone")
    phone.goto(codes[0])
    expect(phone.get_by_role("heading", level=1)).to_have_text("Kích hoạt tài khoản")
    phone.get_by_label(re.compile("Mã kích hoạt")).fill(code)
    phone.get_by_label("Mật khẩu mới (ít nhất 8 ký tự)").fill(PASSWORD)
    phone.get_by_label("Nhập lại mật khẩu mới").fill(PASSWORD)
    shots(phone, "activate")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.get_by_role("button", name="Kích hoạt và vào ứng dụng").click()
    expect(phone).to_have_url(re.compile(r"/me/$"))
    stalls = phone.locator("main section.card h2")
    expect(stalls).to_have_count(1)
    expect(stalls).to_have_text(re.compile(r"W-01"))
    nav = phone.locator("header nav")
    expect(nav.get_by_role("link", name="Mã API")).to_have_count(0)
    expect(nav.get_by_role("link", name="Thu tiền")).to_have_count(1)
    shots(phone, "my-stall")
    # Another stall's collect page is not theirs.
    assert phone.request.get("/collect/TN-DONGQUANG/A-006").status in (403, 404)

    # Collect 50.000 đ; the bank's signed notification turns the screen green.
    secret = _sepay_secret(browser, live_server, artifacts)
    phone.get_by_role("link", name="Thu tiền (nhập số tiền)").click()
    phone.fill("#amount", "50000")
    phone.locator("#collect-form button[type=submit]").click()
    expect(phone.locator("#order")).to_be_visible()
    reference = phone.locator("#order-ref").inner_text().strip()
    payload = parse_payload(_decode_img(phone, "#order-qr"))
    assert payload.account == "0011000900901" and payload.amount == 50_000
    _notify(live_server, secret, 990901, account=payload.account, amount=50_000, content=reference)
    expect(phone.locator("#order")).to_have_class(re.compile("state-paid"), timeout=20_000)
    expect(phone.locator("#order-message")).to_contain_text("Đã nhận đủ 50.000 đồng")
    shots(phone, "paid")
    assert phone.problems == [] and manager.problems == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_cookie_copied_before_logout_is_refused_after_it(
    new_page, browser, live_server, viewport
):
    page = new_page(viewport)
    log_in(page, "hotro")
    copied = page.context.cookies()
    page.locator("header").get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(re.compile(r"/login"))
    other = browser.new_context(base_url=live_server)
    try:
        other.add_cookies(copied)
        replay = other.new_page()
        replay.goto("/markets/")
        expect(replay).to_have_url(re.compile(r"/login"))
    finally:
        other.close()
