"""Every main page passes axe-core with no serious or critical violation, at phone and
desktop sizes, and no page breaks its own Content-Security-Policy."""

from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import VIEWPORTS

pytestmark = pytest.mark.browser

MARKET = "/markets/TN-DONGQUANG"
# (name, user or None, path; "{stall}" is a stall of Chợ Đồng Quang whose QR is ready)
PAGES = [
    ("login", None, "/login"),
    ("market-list", "quanly", "/markets/"),
    ("market", "quanly", MARKET),
    ("stall", "quanly", MARKET + "/stalls/{stall}"),
    ("payee-form", "quanly", MARKET + "/stalls/{stall}/payee"),
    ("import", "quanly", MARKET + "/import"),
    ("pending-payees", "quanly", "/markets/pending-payees?market=TN-DONGQUANG"),
    ("sticker-audit", "quanly", MARKET + "/stalls/{stall}/audit"),
    ("merchant", "tieuthuong", "/me/"),
    ("not-found", "quanly", "/markets/TN-KHONGCO"),
    ("activate", None, "/activate/0900000000"),
    ("password", "hotro", "/account/password"),
    ("users", "admin", "/users/"),
    ("new-user", "quanly", "/users/new"),
    ("integrations", "admin", "/admin/webhooks"),
    ("new-integration", "admin", "/admin/webhooks/new"),
]
BLOCKING = {"serious", "critical"}


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violations(
    new_page, axe, ready_stall, shots, name, user, path, viewport
):
    # axe-core is injected as a script, which the app's CSP (script-src 'self') would
    # block: only this context bypasses CSP; test_pages_keep_their_csp checks it unbypassed.
    page = new_page(viewport, user=user, bypass_csp=True)
    page.goto(path.format(stall=ready_stall))
    shots(page, "page")
    results = axe.run(page)
    violations = results.response["violations"]
    shots.path("axe-violations.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=1)
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {path} ({viewport}):\n{_describe(violations)}"


@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_keep_their_csp(new_page, ready_stall, name, user, path):
    page = new_page("desktop", user=user)
    response = page.goto(path.format(stall=ready_stall))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__cspViolations")
    problems = [
        p
        for p in page.problems
        # the error page's own 404 status is logged as a failed resource: expected there
        if not (name == "not-found" and "status of 404" in p)
    ]
    assert violations == [] and problems == [], (violations, problems)


def test_csp_check_sees_a_blocked_script(new_page):
    """Control for the test above: the listener does report what the CSP blocks."""
    page = new_page("desktop")
    page.goto("/login")
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected") is None
    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))
