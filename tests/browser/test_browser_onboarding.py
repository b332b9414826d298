"""An onboarding day in a real browser, on a 360 px phone: the bank picker's search, an
import naming banks typed in decomposed Unicode, the template, search without diacritics,
the "only new" print kit, a merchant's QR files, the "today" page in large text, and the
audit log's sentences."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
import zxingcpp
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import expect

from market.vietqr import parse_payload
from tests.browser.test_browser_import_print import HEADER, IMPORT_FIELD
from tests.browser.test_browser_payments import _new_order, _notify, _sepay_secret
from tests.browser.test_browser_phone_layout import assert_fits_a_phone

pytestmark = pytest.mark.browser

MARKET = "/markets/TN-DONGQUANG"
# A market no other browser test prints, so its "only new" kit is there whatever ran before.
PRINT_MARKET = "/markets/TN-CHOTHAI"
# A market no other browser test changes: a vacant stall made here touches no figure.
QUIET_MARKET = "/markets/TN-TUCDUYEN"


def _bank_chosen(page) -> str:
    return page.locator("#bank_bin").evaluate("(el) => el.value")


def test_the_bank_picker_finds_banks_as_people_type_them(new_page, shots):
    page = new_page("phone", user="quanly")
    page.goto(QUIET_MARKET + "/stalls/new")
    page.get_by_label("Mã sạp").fill("ONB-01")
    page.get_by_label("Trạng thái").select_option("vacant")
    page.get_by_role("button", name="Lưu").click()
    expect(page).to_have_url(re.compile(r"/stalls/ONB-01$"))
    page.goto(QUIET_MARKET + "/stalls/ONB-01/payee")
    options = page.locator("#bank_bin option")
    expect(options.nth(1)).to_have_text(re.compile(r"^Vietcombank"))  # the big banks first
    expect(options.nth(2)).to_have_text(re.compile(r"^Agribank"))
    search = page.get_by_role("searchbox", name=re.compile("Tìm ngân hàng"))
    for typed, bin_ in [
        ("vietc", "970436"),
        ("VCB", "970436"),
        ("ngoai thuong", "970436"),
        ("Ngoại Thương", "970436"),
        ("agri", "970405"),
        ("quan doi", "970422"),
    ]:
        search.fill(typed)
        assert _bank_chosen(page) == bin_, typed
        expect(options.first).to_have_attribute("value", bin_)
    search.fill("zzzz")
    expect(page.locator(".bank-search-status")).to_contain_text("Không thấy")
    search.fill("agribank")
    shots(page, "bank-picker")
    assert_fits_a_phone(page, "payee form with the bank search")
    page.get_by_label("Số tài khoản / số thẻ").fill("1500205777001")
    page.get_by_label(re.compile("Tên chủ tài khoản")).fill("Lò Thị Onb")
    page.get_by_role("button", name="Lưu tài khoản").click()
    expect(page.get_by_role("status").first).to_be_visible()

    # The change reads as a sentence naming the stall in the market's audit log.
    page.goto(QUIET_MARKET + "/audit")
    sentence = page.locator(".audit .sentence").filter(has_text="ONB-01").first
    expect(sentence).to_contain_text(
        "quanly đặt tài khoản nhận tiền cho sạp ONB-01: Agribank · 1500205777001 · LO THI ONB"
    )
    detail = page.locator(".audit details").first
    expect(detail.locator("p").first).to_be_hidden()  # raw values folded away
    detail.locator("summary").click()
    expect(detail).to_contain_text("payee.set")
    shots(page, "audit-log")
    assert_fits_a_phone(page, "audit log")


def test_an_nfd_file_naming_banks_checks_clean_in_the_browser(new_page, shots, tmp_path):
    page = new_page("phone", user="quanly")
    page.goto(MARKET + "/import")
    rows = [
        "ONB-N1,Khu Đông,Rau củ,Đang kinh doanh,Nguyễn Thị Ánh,0867000901,,có,Vietcombank,"
        "0011000900901,tài khoản,Nguyễn Thị Ánh",
        "ONB-N2,Khu Đông,Thịt,Đang kinh doanh,Đỗ Văn Hùng,0867000902,,có,ngân hàng quân đội,"
        "0801234567,,ĐỖ VĂN HÙNG",
    ]
    text = unicodedata.normalize("NFD", "\n".join([HEADER, *rows]) + "\n")
    csv_file = tmp_path / "nfd-ten-ngan-hang.csv"
    csv_file.write_text(text, encoding="utf-8")
    page.get_by_label(IMPORT_FIELD).set_input_files(csv_file)
    page.get_by_role("button", name="Kiểm tra tệp").click()
    plan = page.locator("ul.plan")
    for line in ("Sạp mới: 2", "Tài khoản nhận tiền mới: 2"):
        expect(plan).to_contain_text(line)
    expect(page.locator("table.errors")).to_have_count(0)
    shots(page, "nfd-dry-run")
    assert_fits_a_phone(page, "import report")


def test_the_template_downloads_with_an_example_and_allowed_values(new_page, tmp_path):
    page = new_page("phone", user="quanly")
    page.goto(MARKET + "/import")
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải tệp mẫu Excel").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames[:2] == ["Danh sach sap", "Gia tri hop le"]
    first = list(book.worksheets[0].iter_rows(values_only=True))
    assert first[1][0] == "VD-01"
    banks = [
        row[1] for row in book.worksheets[1].iter_rows(values_only=True) if row[0] == "ngan_hang"
    ]
    assert banks[:2] == ["Vietcombank", "Agribank"]


def test_search_ignores_diacritics_and_case(new_page, shots):
    page = new_page("phone", user="quanly")
    page.goto(MARKET)
    names = page.locator("table.stalls tbody td").filter(has_text=re.compile("Nguyễn"))
    expect(names.first).to_be_visible()
    page.get_by_role("searchbox").fill("NGUYEN")
    page.get_by_role("button", name="Lọc").click()
    expect(page).to_have_url(re.compile(r"q=NGUYEN"))
    rows = page.locator("table.stalls tbody tr")
    expect(rows.first).to_be_visible()
    for text in rows.all_inner_texts()[:10]:
        assert (
            "nguyen"
            in unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode().lower()
        )
    shots(page, "search-folded")


def test_the_print_kit_offers_only_new_and_needing_reprint(new_page, tmp_path):
    page = new_page("phone", user="quanly")
    page.goto(PRINT_MARKET)
    only_new = page.get_by_role("link", name=re.compile("In chỉ tem mới và cần in lại"))
    expect(only_new).to_have_attribute("href", re.compile(r"stalls=new"))
    expect(page.get_by_role("link", name="In tem QR (4 tem / A4)")).to_be_visible()
    with page.expect_download(timeout=60_000) as info:
        only_new.click()
    assert info.value.suggested_filename == "tem-qr-TN-CHOTHAI-a4x4-moi.pdf"
    page.goto(PRINT_MARKET)
    # Everything new was printed: the button is gone until a stall needs printing again.
    expect(page.get_by_role("link", name=re.compile("In chỉ tem mới"))).to_have_count(0)


def test_a_merchant_downloads_their_qr_as_png_and_svg(new_page, tmp_path):
    page = new_page("phone", user="tieuthuong")
    page.goto("/me/")
    assert_fits_a_phone(page, "merchant page")
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải mã QR (ảnh PNG)").first.click()
    assert re.fullmatch(r"qr-TN-[A-Z]+-[A-Z0-9-]+\.png", info.value.suggested_filename)
    png = tmp_path / "qr.png"
    info.value.save_as(png)
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.read_bytes())))
    assert parse_payload(code.text).guid == "A000000727"
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Tải mã QR \\(SVG")).first.click()
    assert info.value.suggested_filename.endswith(".svg")
    svg = tmp_path / "qr.svg"
    info.value.save_as(svg)
    assert svg.read_text().lstrip().startswith("<?xml") and "<path" in svg.read_text()


def test_the_today_page_fits_a_phone_in_normal_and_large_text(
    browser, live_server, artifacts, new_page, shots
):
    secret = _sepay_secret(browser, live_server, artifacts)
    page = new_page("phone", user="tieuthuong")
    reference, payload = _new_order(page, "125000")
    today = page.get_by_role("link", name="Tiền đã nhận hôm nay").get_attribute("href")
    # Bank apps send long transfer contents without spaces: the worst case for a table.
    content = f"MBVCB.9876543210.{reference}.NGUYENTHIANHCHUYENTIENMUARAUCHODONGQUANG"
    _notify(live_server, secret, 920001, account=payload.account, amount=125_000, content=content)
    page.goto(today)
    expect(page.locator("table.payments")).to_contain_text(reference)
    shots(page, "today-normal")
    assert_fits_a_phone(page, "today, normal text")
    page.get_by_role("button", name="Chữ to").click()
    expect(page.locator("html")).to_have_class("large-text")
    page.goto(today)
    shots(page, "today-large")
    assert_fits_a_phone(page, "today, large text")
    page.get_by_role("button", name="Chữ to").click()  # back to normal for the other tests
    expect(page.locator("html")).not_to_have_class("large-text")
