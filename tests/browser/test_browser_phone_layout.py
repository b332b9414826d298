"""On a phone (360×740) the main pages never scroll sideways, and every button is big enough
to tap (at least 44 px high)."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_import_print import BAD_CSV, IMPORT_FIELD

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360
MIN_TAP_HEIGHT = 44
MARKET = "/markets/TN-DONGQUANG"
PAGES = [
    ("login", None, "/login"),
    ("market-list", "quanly", "/markets/"),
    ("market", "quanly", MARKET),
    ("stall", "quanly", MARKET + "/stalls/{stall}"),
    ("import", "quanly", MARKET + "/import"),
    ("pending-payees", "quanly", "/markets/pending-payees?market=TN-DONGQUANG"),
    ("merchant", "tieuthuong", "/me/"),
]
# Buttons, and links drawn as buttons, in the page's main part: inline text links are
# sized by the text around them and are not checked.
SMALL_BUTTONS = """
(min) => [...document.querySelectorAll(
    "main button, main .button, main input[type=submit], main input[type=button]")]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => [el.outerHTML.slice(0, 120), Math.round(el.getBoundingClientRect().height)])
  .filter(([, height]) => height < min)
"""
OVERFLOWING = """
(width) => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > width + 1)
  .map((el) => el.outerHTML.slice(0, 120))
  .slice(0, 10)
"""


def assert_fits_a_phone(page, label: str) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH + 1, (
        f"{label} scrolls sideways: {scroll_width} px wide; too wide:\n"
        + "\n".join(page.evaluate(OVERFLOWING, PHONE_WIDTH))
    )
    small = page.evaluate(SMALL_BUTTONS, MIN_TAP_HEIGHT)
    assert small == [], f"{label}: buttons under {MIN_TAP_HEIGHT} px high: {small}"
    assert page.problems == []


@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_main_pages_fit_a_phone_and_have_big_buttons(
    new_page, ready_stall, shots, name, user, path
):
    page = new_page("phone", user=user)
    page.goto(path.format(stall=ready_stall))
    shots(page, name)
    assert_fits_a_phone(page, path)


def test_import_error_report_fits_a_phone(new_page, shots, tmp_path):
    page = new_page("phone", user="quanly")
    page.goto(MARKET + "/import")
    csv_file = tmp_path / "sai.csv"
    csv_file.write_text(BAD_CSV + "\n", encoding="utf-8")
    page.get_by_label(IMPORT_FIELD).set_input_files(csv_file)
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.locator("table.errors").wait_for()
    shots(page, "import-errors")
    assert_fits_a_phone(page, "import error report")
