"""A merchant pays a market fee bill from a phone: the bill page fits 360 px, the amount due
is large, and the QR on the screen (a screenshot, read by zxing-cpp) pays exactly that into
the market board's account, with the bill's reference as the transfer content."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from market.vietqr import parse_payload
from tests.browser.test_browser_phone_layout import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_a_merchant_opens_a_bill_on_a_phone_and_its_qr_pays_what_is_due(new_page, shots):
    page = new_page("phone", user="tieuthuong")
    page.goto("/me/")
    page.get_by_role("link", name="Phí chợ của tôi").click()
    page.wait_for_url("**/me/bills")
    shots(page, "bills")
    assert_fits_a_phone(page, "/me/bills")
    page.locator(".bill-link").first.click()
    page.wait_for_url("**/me/bills/*")
    shots(page, "bill")
    assert_fits_a_phone(page, page.url)
    due_text = page.locator(".pay-panel .due-amount").inner_text()
    reference = page.locator(".pay-panel .reference").inner_text().strip()
    font_px = page.locator(".pay-panel .due-amount").evaluate(
        "(el) => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert font_px >= 28  # the amount reads at arm's length
    qr = page.locator(".bill-qr")
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    image = Image.open(io.BytesIO(qr.screenshot()))
    [found] = zxingcpp.read_barcodes(image)
    parsed = parse_payload(found.text)
    assert parsed.purpose == reference
    assert f"{parsed.amount:,}".replace(",", ".") in due_text


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("fees", "/markets/TN-DONGQUANG/fees"),
        ("bills", "/markets/TN-DONGQUANG/fees/bills"),
        ("meter-walk", "/markets/TN-DONGQUANG/fees/readings/{meter}"),
    ],
    ids=["fees", "bills", "meter-walk"],
)
def test_the_managers_fee_pages_fit_a_phone(new_page, shots, name, path):
    page = new_page("phone", user="quanly")
    page.goto("/markets/TN-DONGQUANG/fees")
    meter = page.get_by_role("link", name="Ghi chỉ số").first.get_attribute("href")
    page.goto(path.format(meter=meter.rsplit("/", 1)[1].split("?")[0]))
    shots(page, name)
    assert_fits_a_phone(page, path)


def test_the_meter_walk_saves_a_reading_typed_on_a_phone(new_page):
    page = new_page("phone", user="hotro")
    page.goto("/markets/TN-DONGQUANG/fees")
    page.get_by_role("link", name="Ghi chỉ số").first.click()
    page.wait_for_url("**/fees/readings/**")
    field = page.locator(".reading input[name^='end-']").first
    name = field.get_attribute("name")
    field.fill("999999")
    page.get_by_role("button", name="Lưu chỉ số").click()
    page.wait_for_load_state()
    assert page.locator(f"input[name='{name}']").input_value() == "999999"
    assert page.locator(".flash-ok").count() == 1
