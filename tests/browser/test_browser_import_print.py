"""A market manager's journey in a real browser: log in, import stalls from a CSV (dry run,
then confirm), find the new stalls, and download the market's print kit whose stickers
decode to VietQR payloads. A bad file shows its errors by line and column and cannot be
confirmed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from playwright.sync_api import expect

from market.vietqr import parse_payload
from tests.browser.conftest import VIEWPORTS, log_in

pytestmark = pytest.mark.browser

HEADER = (
    "ma_sap,khu,nganh_hang,trang_thai,ho_ten,so_dien_thoai,ma_so_thue,dong_y,ngan_hang,"
    "so_tai_khoan,loai_tai_khoan,ten_chu_tai_khoan"
)
# One pair of new stalls per viewport: both runs import into the same demo database.
NEW_STALLS = {
    "phone": [
        "Z-P01,Khu Z,rau-cu,active,Phạm Thị Lan,0867000101,,có,970436,0011000100101,tai_khoan,"
        "PHAM THI LAN",
        "Z-P02,Khu Z,thit,active,Trần Văn Nam,0867000102,,có,VCB,0011000100102,,TRAN VAN NAM",
    ],
    "desktop": [
        "Z-D01,Khu Z,rau-cu,active,Lê Thị Mai,0867000201,,có,970436,0011000100201,tai_khoan,"
        "LE THI MAI",
        "Z-D02,Khu Z,thit,active,Đỗ Văn Hải,0867000202,,có,VCB,0011000100202,,DO VAN HAI",
    ],
}
BAD_CSV = "\n".join(
    [
        HEADER,
        "Z-X01,Khu Z,cá voi,active,Trần Văn Nam,12345,,có,970405,15002,,TRAN VAN NAM",
        ",Khu Z,rau-cu,active,,,,,,,,",
    ]
)
IMPORT_FIELD = "Tệp CSV hoặc Excel (.xlsx)"


def _decode_pdf_pages(
    data: bytes, pages: list[int], save_to: Callable[[str], Path], dpi: int = 150
) -> list[list[str]]:
    """The QR texts on some pages of a PDF rasterised at ``dpi``; page images are saved."""
    pdf = pypdfium2.PdfDocument(data)
    try:
        decoded = []
        for index in pages:
            page = pdf[index]
            image = page.render(scale=dpi / 72).to_pil()
            image.save(save_to(f"pdf-page-{index + 1}.png"))
            decoded.append([r.text for r in zxingcpp.read_barcodes(image)])
            page.close()
        return decoded
    finally:
        pdf.close()


def _page_count(data: bytes) -> int:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_imports_a_csv_and_prints_the_market_kit(new_page, shots, tmp_path, viewport):
    page = new_page(viewport)
    page.goto("/login")
    shots(page, "login")
    log_in(page, "quanly")
    expect(page.get_by_role("heading", name="Các chợ")).to_be_visible()
    shots(page, "market-list")

    page.get_by_role("link", name="Chợ Đồng Quang").click()
    expect(page).to_have_url(re.compile(r"/markets/TN-DONGQUANG$"))
    shots(page, "market")

    page.get_by_role("link", name="Nhập từ tệp").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nhập sạp")
    shots(page, "import-form")

    csv_file = tmp_path / f"sap-moi-{viewport}.csv"
    csv_file.write_text("\n".join([HEADER, *NEW_STALLS[viewport]]) + "\n", encoding="utf-8")
    page.get_by_label(IMPORT_FIELD).set_input_files(csv_file)
    page.get_by_role("button", name="Kiểm tra tệp").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(csv_file.name)
    plan = page.locator("ul.plan")
    for line in ("Sạp mới: 2", "Tiểu thương mới: 2", "Tài khoản nhận tiền mới: 2"):
        expect(plan).to_contain_text(line)
    shots(page, "dry-run-report")

    page.get_by_role("button", name="Xác nhận nhập").click()
    expect(page.get_by_role("status").filter(has_text="Đã nhập")).to_contain_text(
        "Đã nhập 2 dòng: 2 sạp mới"
    )
    # The two new merchants' one-time activation codes (tests/browser/test_browser_accounts.py
    # prints and uses them); back to the market from there.
    expect(page.locator(".activation-code")).to_have_count(2)
    shots(page, "imported")
    page.get_by_role("link", name="Quay lại").click()
    expect(page).to_have_url(re.compile(r"/markets/TN-DONGQUANG$"))

    prefix = NEW_STALLS[viewport][0][:4]  # "Z-P0" / "Z-D0"
    page.get_by_role("searchbox").fill(prefix)
    page.get_by_role("button", name="Lọc").click()
    stalls = page.locator("table.stalls tbody th a")
    expect(stalls).to_have_text([row.split(",")[0] for row in NEW_STALLS[viewport]])
    shots(page, "new-stalls")

    kit = page.get_by_role("link", name="In tem QR (4 tem / A4)")
    expect(kit).to_have_attribute("href", "/markets/TN-DONGQUANG/stickers.pdf?layout=a4x4")
    # progress.js fetches the kit, so its progress bar lasts until the file has arrived, and
    # saves it from memory under the server's file name (the download's URL is a blob: URL).
    with page.expect_download(timeout=60_000) as download_info:
        kit.click()
    download = download_info.value
    assert download.suggested_filename == "tem-qr-TN-DONGQUANG-a4x4.pdf"
    expect(page.get_by_role("status").filter(has_text="Đã tạo xong tệp PDF")).to_contain_text(
        "tem-qr-TN-DONGQUANG-a4x4.pdf"
    )
    pdf_file = tmp_path / download.suggested_filename
    download.save_as(pdf_file)
    data = pdf_file.read_bytes()
    assert data.startswith(b"%PDF-")
    last = _page_count(data) - 1
    first_codes, last_codes = _decode_pdf_pages(data, [0, last], save_to=shots.path)
    assert len(first_codes) == 4, first_codes  # four stickers on a full A4 page
    assert 1 <= len(last_codes) <= 4, last_codes
    for text in first_codes + last_codes:
        payload = parse_payload(text)
        assert payload.guid == "A000000727" and payload.bank_bin and payload.account
    assert page.problems == []  # no console error, CSP violation or script error on the way


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_bad_csv_shows_errors_by_line_and_column_and_cannot_be_confirmed(
    new_page, shots, tmp_path, viewport
):
    page = new_page(viewport, user="quanly")
    page.goto("/markets/TN-DONGQUANG/import")
    csv_file = tmp_path / "sai.csv"
    csv_file.write_text(BAD_CSV + "\n", encoding="utf-8")
    page.get_by_label(IMPORT_FIELD).set_input_files(csv_file)
    page.get_by_role("button", name="Kiểm tra tệp").click()

    expect(page.get_by_role("alert")).to_contain_text("Chưa có gì được lưu")
    table = page.locator("table.errors")
    expect(table.locator("thead th")).to_have_text(["Dòng", "Cột", "Lỗi"])
    cells = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    found = {(line, column) for line, column, _message in cells}
    assert {("2", "nganh_hang"), ("2", "so_dien_thoai"), ("3", "ma_sap")} <= found, cells
    messages = " ".join(message for _line, _column, message in cells)
    assert "“12345”" in messages, messages  # the bad value is quoted back, in Vietnamese
    expect(page.get_by_role("button", name="Xác nhận nhập")).to_have_count(0)
    expect(page.get_by_role("link", name="Tải tệp khác")).to_be_visible()
    shots(page, "errors")
    assert page.problems == []
