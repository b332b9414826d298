"""The pages added since the first accessibility pass (pay page, collect mode, today's
payments, adoption dashboard, guides, API tokens, admin screens, display settings) pass
axe-core with no serious or critical violation at phone and desktop sizes, fit a 360 px phone
with big buttons and keep their CSP; large text still fits a phone; long work (the import's
dry run, a print kit) shows a progress bar and cannot be sent twice."""

from __future__ import annotations

import json
import re

import pypdfium2
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, VIEWPORTS
from tests.browser.test_browser_a11y import BLOCKING, _describe
from tests.browser.test_browser_import_print import HEADER, IMPORT_FIELD
from tests.browser.test_browser_phone_layout import assert_fits_a_phone

pytestmark = pytest.mark.browser

MARKET = "/markets/TN-DONGQUANG"
# (name, user or None, path): "{stall}" is a ready stall of Chợ Đồng Quang, "{collect}" the
# demo merchant's collect-mode page.
PAGES = [
    ("pay", None, "/pay/TN-DONGQUANG/{stall}"),
    ("pay-amount", None, "/pay/TN-DONGQUANG/{stall}?amount=25.000"),
    ("collect", "tieuthuong", "{collect}"),
    ("collect-today", "tieuthuong", "{collect}/today"),
    ("adoption", "admin", "/adoption/"),
    ("adoption-market", "quanly", "/adoption/markets/TN-DONGQUANG"),
    ("guide", "quanly", "/guide/"),
    ("guide-merchant", "tieuthuong", "/guide/merchant"),
    ("api-tokens", "quanly", "/account/tokens"),
    ("webhooks", "admin", "/admin/webhooks"),
    ("unmatched", "admin", "/admin/payments/unmatched"),
    ("preferences", None, "/preferences"),
]
IDS = [p[0] for p in PAGES]
ROOT_FONT_SIZE = "getComputedStyle(document.documentElement).fontSize"
HOLD_SUBMITS = """() => {
  window.__submitsLetThrough = 0;
  window.addEventListener("submit", (event) => {
    if (!event.defaultPrevented) { window.__submitsLetThrough += 1; }
    event.preventDefault();
  });
}"""


@pytest.fixture(scope="session")
def collect_path(browser, live_server, login_state) -> str:
    """The demo merchant's collect-mode page, as linked from their own page."""
    context = browser.new_context(base_url=live_server, storage_state=login_state("tieuthuong"))
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto("/me/")
        return page.get_by_role("link", name="Thu tiền (nhập số tiền)").first.get_attribute("href")
    finally:
        context.close()


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def _path(template: str, stall: str, collect: str) -> str:
    return template.format(stall=stall, collect=collect)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=IDS)
def test_page_has_no_serious_accessibility_violations(
    new_page, axe, ready_stall, collect_path, shots, name, user, path, viewport
):
    page = new_page(viewport, user=user, bypass_csp=True)  # axe is injected as a script
    response = page.goto(_path(path, ready_stall, collect_path))
    assert response.status == 200, response.status
    shots(page, "page")
    violations = axe.run(page).response["violations"]
    shots.path("axe-violations.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=1)
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {path} ({viewport}):\n{_describe(violations)}"


@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=IDS)
def test_page_fits_a_phone_and_keeps_its_csp(
    new_page, ready_stall, collect_path, shots, name, user, path
):
    page = new_page("phone", user=user)
    response = page.goto(_path(path, ready_stall, collect_path))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    shots(page, name)
    assert_fits_a_phone(page, path)
    assert page.evaluate("window.__cspViolations") == []


# --- large text -------------------------------------------------------------------------------


def test_a_shopper_turns_on_large_text_and_the_pay_page_still_fits(new_page, ready_stall, shots):
    page = new_page("phone")
    page.goto(f"/pay/TN-DONGQUANG/{ready_stall}")
    normal = page.evaluate(ROOT_FONT_SIZE)
    page.get_by_role("link", name="Chữ to").click()
    expect(page.get_by_role("radio", name="Chữ to (dễ đọc hơn)")).to_be_checked()
    shots(page, "preferences")
    page.get_by_role("button", name="Lưu").click()
    expect(page).to_have_url(re.compile(rf"/pay/TN-DONGQUANG/{ready_stall}"))
    expect(page.locator("html")).to_have_class("large-text")
    # The saved-settings message (the pay page has status lines of its own: copy buttons).
    expect(page.locator(".flash[role=status]")).to_contain_text("chữ to")
    assert float(page.evaluate(ROOT_FONT_SIZE)[:-2]) > float(normal[:-2])
    shots(page, "pay-large")
    assert_fits_a_phone(page, "pay page, large text")


@pytest.mark.parametrize(
    ("user", "paths"),
    [
        ("tieuthuong", ["/me/", "{collect}", "{collect}/today", "/guide/merchant"]),
        ("hotro", [MARKET, MARKET + "/stalls/{stall}", MARKET + "/import", "/markets/"]),
    ],
)
def test_large_text_switch_in_the_top_bar_and_pages_still_fit(
    new_page, ready_stall, collect_path, shots, user, paths
):
    page = new_page("phone", user=user)
    page.goto(_path(paths[0], ready_stall, collect_path))
    switch = page.get_by_role("button", name="Chữ to")
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.click()
    try:
        expect(page.locator("html")).to_have_class("large-text")
        expect(page.get_by_role("button", name="Chữ to")).to_have_attribute("aria-pressed", "true")
        # The switch posts a form and the page comes back: its stylesheet may still be
        # loading when the new <html> already carries the class.
        page.wait_for_load_state("load")
        assert page.evaluate(ROOT_FONT_SIZE) == "22px"
        for path in paths:
            page.goto(_path(path, ready_stall, collect_path))
            expect(page.locator("html")).to_have_class("large-text")
            shots(page, "large")
            assert_fits_a_phone(page, f"{path} with large text")
    finally:
        # The choice is saved on the demo user: leave it as other tests expect it.
        page.goto("/guide/merchant")
        switch = page.get_by_role("button", name="Chữ to")
        if switch.get_attribute("aria-pressed") == "true":
            switch.click()
            expect(page.locator("html")).not_to_have_class("large-text")


# --- progress on long work ------------------------------------------------------------------


def test_import_dry_run_shows_progress_and_cannot_be_sent_twice(new_page, shots, tmp_path):
    page = new_page("phone", user="quanly")
    page.goto(MARKET + "/import")
    csv_file = tmp_path / "mot-sap.csv"
    csv_file.write_text(
        HEADER + "\nZ-G01,Khu Z,rau-cu,active,Vũ Thị Gấm,0867000301,,có,970436,"
        "0011000100301,tai_khoan,VU THI GAM\n",
        encoding="utf-8",
    )
    page.get_by_label(IMPORT_FIELD).set_input_files(csv_file)
    # Listened to after progress.js (window is the last stop of a bubbling event), the page
    # counts the submits progress.js let through and stops them, so the page stays as the
    # person sees it while the server works. (The real submit is in the import journey.)
    page.evaluate(HOLD_SUBMITS)
    send = page.get_by_role("button", name="Kiểm tra tệp")
    send.click()

    status = page.get_by_role("status").filter(has_text="Đang kiểm tra tệp…")
    expect(status).to_be_visible()
    bar = status.locator("progress")
    expect(bar).to_be_visible()
    assert bar.get_attribute("value") is None  # indeterminate
    expect(bar).to_have_accessible_name("Đang kiểm tra tệp…")
    expect(send).to_be_disabled()
    expect(page.locator("form[data-progress]")).to_have_attribute("aria-busy", "true")
    page.evaluate("document.querySelector('form[data-progress]').requestSubmit()")
    assert page.evaluate("window.__submitsLetThrough") == 1, "the form was sent twice"
    shots(page, "checking")
    assert_fits_a_phone(page, "import while checking")


def test_print_kit_shows_progress_until_the_pdf_has_arrived(new_page, shots):
    page = new_page("phone", user="quanly")
    page.goto(MARKET)
    held = []
    page.route("**/stickers.pdf*", lambda route: held.append(route))
    kit = page.get_by_role("link", name="Tệp cho nhà in (1 tem / trang)")
    kit.click()

    status = page.get_by_role("status").filter(has_text="Đang tạo tệp PDF…")
    expect(status).to_be_visible()
    expect(status.locator("progress")).to_be_visible()
    expect(kit).to_have_attribute("aria-disabled", "true")
    kit.evaluate("link => link.click()")  # a second tap while it is being made does nothing
    shots(page, "making-pdf")
    page.wait_for_timeout(300)
    assert len(held) == 1, "the PDF was asked for twice"

    with page.expect_download(timeout=60_000) as download_info:
        held[0].continue_()
    assert download_info.value.suggested_filename == "tem-qr-TN-DONGQUANG-single.pdf"
    done = page.get_by_role("status").filter(has_text="Đã tạo xong tệp PDF")
    expect(done).to_contain_text("tem-qr-TN-DONGQUANG-single.pdf")
    expect(done.locator("progress")).to_have_count(0)
    expect(kit).not_to_have_attribute("aria-disabled", "true")
    shots(page, "pdf-ready")
    assert page.problems == []


# --- print ------------------------------------------------------------------------------------


def test_merchant_guide_prints_on_one_a4_page_without_the_site_around_it(new_page, shots):
    page = new_page("desktop", user="tieuthuong")
    page.goto("/guide/merchant")
    page.emulate_media(media="print")
    shots(page, "print-media")
    for selector in (".topbar", ".skip", "form.large-text-switch, .topbar form"):
        for element in page.locator(selector).all():
            expect(element).to_be_hidden()
    pdf = pypdfium2.PdfDocument(page.pdf(format="A4", print_background=True))
    try:
        pages = len(pdf)
        image = pdf[0].render(scale=1).to_pil()  # 1 px = 1 pt: A4 is 595 × 842
        image.save(shots.path("print-page-1.png"))
    finally:
        pdf.close()
    assert pages == 1, f"the one-page guide prints on {pages} A4 pages"
    # Nothing printed within 10 mm (28 pt) of the paper's edges.
    left, top, right, bottom = image.convert("L").point(lambda v: v < 200 and 255).getbbox()
    assert left >= 28 and top >= 28, (left, top)
    assert right <= image.width - 28 and bottom <= image.height - 28, (right, bottom)


# --- amounts ----------------------------------------------------------------------------------

ONE_LINE_AMOUNTS = """() => [...document.querySelectorAll(".summary dd.sub")].map((el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return [el.textContent.trim(), lines.size];
})"""


@pytest.mark.parametrize(
    ("user", "path"), [("admin", "/adoption/"), ("quanly", "/adoption/markets/TN-DONGQUANG")]
)
def test_an_amount_on_a_phone_never_breaks_before_its_currency_sign(new_page, shots, user, path):
    page = new_page("phone", user=user)
    page.goto(path)
    amounts = page.evaluate(ONE_LINE_AMOUNTS)
    shots(page, "amounts")
    assert amounts, "no amount tiles on the page"
    assert [text for text, lines in amounts if lines != 1] == []
    assert_fits_a_phone(page, path)
