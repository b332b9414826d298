"""The figures as served (API, pages, exports; province, district, market) against today's
direct computation, after every kind of change the figures depend on.

The counts are kept per worker for ``ADOPTION_CACHE_SECONDS`` (``market.adoption.cache``).
After each change the test checks three things, on both databases:

* right after it, within the stated time, what is served is exactly what was computed before
  (and says so: same ``computed_at``, ``max_age_seconds``), never a mix;
* once that time has passed, everything served equals a direct computation
  (``queries.province_report`` / ``market_report`` without a cache) at the same instant;
* the change moved the direct figures when it should (a payment, a payee change, a stall's
  status) and not when it should not (a refund, an unmatched payment), so the comparison
  can fail.

Kinds of change: a received payment (a signed SePay notification), a refund (an outgoing
transfer), an unmatched payment, a payee change and its verification (four-eyes), a stall's
status, a manager's declaration of the criteria (shown at once, not after the cache time),
a new market, and an unmatched payment credited to a stall afterwards by the province.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import template_rendered
from sqlalchemy import select

from market.adoption import cache, exports, queries, services, views
from market.adoption.criteria import Settings
from market.adoption.schemas import MarketAdoptionReportSchema, ProvinceAdoptionSchema
from market.auth.models import User
from market.auth.services import create_api_token
from market.extensions import db
from market.markets import services as markets
from market.markets.models import Market, Stall
from market.merchants import services as merchants
from market.payments import services as payments
from market.payments.models import PaymentNotification, WebhookIntegration
from tests.adoption.conftest import NOW
from tests.conftest import HASH, Auth
from tests.payments.conftest import SEPAY_SECRET, post_sepay, sepay_body

TTL = 60


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(queries, "now_utc", lambda: clock.now)
    return clock


@pytest.fixture
def site(app, province, clock):
    """The province, its admin (API token and a logged-in page session), a second manager of
    Chợ Alpha to confirm payee changes, and SePay set up."""
    assert app.config["ADOPTION_CACHE_SECONDS"] == TTL  # the default, as deployed
    app.config["HEAVY_RATE_LIMIT"] = "100000 per minute"  # this test downloads every export
    admin = User(username="admin", full_name="Admin", role="admin")
    manager = User(username="manager", full_name="Manager", role="manager", markets=[province.a])
    for user in (admin, manager):
        user.password_hash = HASH
    db.session.add_all(
        [
            admin,
            manager,
            WebhookIntegration(provider="sepay", auth_mode="hmac", secret=SEPAY_SECRET),
        ]
    )
    db.session.commit()
    token = create_api_token(admin, "test")[1]
    client = app.test_client()
    assert Auth(client).login("admin").status_code == 302
    return Site(app, client, token, province, admin, manager)


class Site:
    def __init__(self, app, client, token, province, admin, manager) -> None:
        self.app, self.client, self.token = app, client, token
        self.province, self.admin, self.manager = province, admin, manager
        self.settings = Settings.from_config(app.config)

    def codes(self) -> list[str]:
        return sorted(db.session.scalars(select(Market.code)))

    # --- what is served -----------------------------------------------------------------

    def _api(self, path: str) -> dict:
        response = self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, response.status_code
        return response.get_json()

    def _page(self, path: str, schema) -> tuple[dict, str]:
        """The report the page was rendered from (as the API would dump it), and its HTML."""
        seen = []

        def record(_sender, template, context, **_extra):
            seen.append(context)

        template_rendered.connect(record, self.app)
        try:
            response = self.client.get(path)
        finally:
            template_rendered.disconnect(record, self.app)
        assert response.status_code == 200, response.status_code
        return schema().dump(seen[0]["report"]), response.get_data(as_text=True)

    def _export(self, path: str) -> bytes:
        response = self.client.get(path)
        assert response.status_code == 200, response.status_code
        return response.data

    def served(self) -> dict:
        response = self.client.get("/adoption/")
        assert response.status_code == 200, response.status_code
        out = {
            "api": self._api("/api/v1/adoption"),
            "page": (None, response.get_data(as_text=True)),
            "csv": self._export("/adoption/export.csv"),
        }
        for code in self.codes():
            out[f"api {code}"] = self._api(f"/api/v1/markets/{code}/adoption")
            out[f"page {code}"] = self._page(
                f"/adoption/markets/{code}", MarketAdoptionReportSchema
            )
            out[f"csv {code}"] = self._export(f"/adoption/markets/{code}/export.csv")
        return out

    # --- the direct computation ---------------------------------------------------------

    def direct(self) -> dict:
        db.session.expire_all()
        now = queries.now_utc()
        markets = queries.in_province_order(db.session.scalars(select(Market)))
        report = queries.province_report(markets, self.settings, scope="province", now=now)
        assert report.max_age_seconds == 0
        report.max_age_seconds = TTL  # what the served copy states; the counts must be equal
        targets = queries.adoption_targets(self.settings)
        report.targets = queries.target_progress(targets, report.markets, report.today)
        with self.app.test_request_context():
            content = str(views.dashboard_content(report))
        out = {
            "report": ProvinceAdoptionSchema().dump(report),
            "content": content,
            "csv": exports.province_csv(report),
        }
        for market in markets:
            one = queries.market_report(market, self.settings, now=now)
            one.max_age_seconds = TTL
            out[f"report {market.code}"] = MarketAdoptionReportSchema().dump(one)
            out[f"csv {market.code}"] = exports.market_csv(one)
        return out

    # --- the checks ---------------------------------------------------------------------

    def assert_served_equals(self, served: dict, direct: dict) -> None:
        assert served["api"] == direct["report"]
        # The dashboard page holds the content rendered from the direct report, to the byte.
        html = served["page"][1]
        assert direct["content"] in html
        assert served["csv"] == direct["csv"]
        for code in self.codes():
            assert served[f"api {code}"] == direct[f"report {code}"], code
            assert served[f"page {code}"][0] == direct[f"report {code}"], code
            assert served[f"csv {code}"] == direct[f"csv {code}"], code
        # The pages say when the figures were computed and how often they are refreshed.
        stamp = queries.now_utc().astimezone(exports.VIETNAM).strftime("%d/%m/%Y %H:%M")
        for page in [html] + [served[f"page {code}"][1] for code in self.codes()]:
            assert f"Tính lúc {stamp} (làm mới mỗi {TTL} giây)" in page

    def check_change(self, change, *, moves: bool, clock: Clock) -> None:
        """Served == direct now; make the change; served unchanged within the cache time;
        served == direct (and moved or not, as said) after it."""
        self.assert_served_equals(self.served(), self.direct())
        before_served, before = self.served(), self.direct()
        change()
        clock.advance(TTL - 1)
        within = self.served()
        assert _counts(within) == _counts(before_served)
        clock.advance(1)
        after = self.direct()
        assert (_counts_of_direct(after) != _counts_of_direct(before)) is moves
        self.assert_served_equals(self.served(), after)


def _counts(served: dict) -> dict:
    """Served figures; of the pages, the report a market page was rendered from and the
    dashboard's content (the rest of a page holds per-request CSRF tokens)."""
    out = {k: (v[0] if k.startswith("page ") else v) for k, v in served.items()}
    html = served["page"][1]
    out["page"] = html[html.index('<div class="adoption">') : html.index("</main>")]
    return out


def _counts_of_direct(direct: dict) -> dict:
    """The direct figures without their time stamps (which always move with the clock)."""
    out = {}
    for key, value in direct.items():
        if key.startswith("report"):
            value = {k: v for k, v in value.items() if k != "computed_at"}
        elif key == "content":
            continue
        else:
            value = b"\n".join(line.rsplit(b",", 1)[0] for line in value.splitlines())
        out[key] = value
    return out


def _webhook(site: Site, event_id: int, **body) -> str:
    response = post_sepay(site.client, sepay_body(event_id, when="2026-03-04 09:30:00", **body))
    assert response.status_code == 200, response.get_data(as_text=True)
    return db.session.scalar(
        select(PaymentNotification.match_status).where(
            PaymentNotification.event_id == str(event_id)
        )
    )


def test_a_received_payment_is_served_once_the_cache_time_has_passed(site, clock):
    def pay():
        assert _webhook(site, 9101, amount=12_000, account="1001") == "matched"

    site.check_change(pay, moves=True, clock=clock)


def test_a_refund_changes_nothing_served(site, clock):
    def refund():
        assert _webhook(site, 9102, amount=12_000, account="1001", kind="out") == "ignored"

    site.check_change(refund, moves=False, clock=clock)


def test_an_unmatched_payment_changes_nothing_served(site, clock):
    def unmatched():
        assert _webhook(site, 9103, amount=12_000, account="55555555") == "unmatched"

    site.check_change(unmatched, moves=False, clock=clock)


def test_an_unmatched_payment_credited_to_a_stall_is_served(site, clock):
    assert _webhook(site, 9104, amount=15_000, account="55555555") == "unmatched"
    notification = db.session.scalar(
        select(PaymentNotification).where(PaymentNotification.event_id == "9104")
    )

    def credit():
        stall = db.session.get(Stall, site.province.stalls["A-02"].id)
        payments.assign_unmatched(db.session.get(User, site.admin.id), notification, stall)

    site.check_change(credit, moves=True, clock=clock)


def test_a_payee_change_and_its_verification_are_served(site, clock):
    stall = site.province.stalls["A-01"]

    def change():
        merchants.set_payee(
            site.admin,
            stall,
            bank_bin="970436",
            account_number="3001",
            service="account",
            holder_name="CHU SAP MOI",
        )

    site.check_change(change, moves=True, clock=clock)

    def verify():
        payee = merchants.current_payee(db.session.get(type(stall), stall.id))
        merchants.verify_payee(db.session.get(User, site.manager.id), payee)

    site.check_change(verify, moves=True, clock=clock)


def test_a_stall_status_change_is_served(site, clock):
    def vacate():
        stall = site.province.stalls["A-05"]
        markets.save_stall(site.admin, stall.market, stall, code=stall.code, status="vacant")

    site.check_change(vacate, moves=True, clock=clock)


def test_a_declaration_and_a_new_market_are_served_at_once(site, clock):
    site.assert_served_equals(site.served(), site.direct())
    services.set_market_criteria(
        site.admin,
        site.province.a,
        fees_cashless_since=date(2026, 1, 1),
        ecommerce_listed_since=date(2026, 3, 1),
        ecommerce_note="Shopee",
        today=date(2026, 3, 4),
    )
    clock.advance(1)
    served = site.served()
    # The counts are still those of a second ago; the declaration is current.
    assert served["api"]["computed_at"] == NOW.isoformat()
    assert served["api TN-A"]["computed_at"] == NOW.isoformat()
    for report in (served["api"]["markets"][0], served["api TN-A"]["market"]):
        assert (report["code"], report["ecommerce_listed_since"]) == ("TN-A", "2026-03-01")
    assert served["api"]["totals"]["qualifying"] == site.direct()["report"]["totals"]["qualifying"]
    # The dashboard's kept content too (the counts are the same; its stamp, to the minute).
    assert site.direct()["content"] in served["page"][1]
    # A market added since is a new scope: its counts are computed for it at once.
    markets.create_market(
        site.admin, code="PY-E", name="Chợ Epsilon", district="TP. Phổ Yên", status="planned"
    )
    clock.advance(1)
    served = site.served()
    assert "PY-E" in {m["code"] for m in served["api"]["markets"]}
    assert served["api"]["computed_at"] == clock.now.isoformat()
    assert served["api TN-A"]["computed_at"] == NOW.isoformat()
    clock.advance(TTL)
    site.assert_served_equals(site.served(), site.direct())


def test_the_counts_are_computed_again_when_the_vietnam_day_turns(site, clock):
    # 23:59:30 in Vietnam, then 23:59:59 and 00:00:01: the day's window moves at midnight.
    clock.now = NOW.replace(hour=16, minute=59, second=30)
    first = site.served()["api"]
    clock.advance(29)
    assert site.served()["api"]["computed_at"] == first["computed_at"]
    clock.advance(2)
    served = site.served()
    assert served["api"]["today"] == "2026-03-05"
    site.assert_served_equals(served, site.direct())


def test_the_cache_can_be_turned_off(app, province, clock):
    app.config["ADOPTION_CACHE_SECONDS"] = 0
    app.extensions.pop(cache.EXTENSION, None)
    admin = User(username="admin", full_name="Admin", role="admin", password_hash=HASH)
    db.session.add(admin)
    db.session.commit()
    settings = Settings.from_config(app.config)
    first = cache.province_report(admin, settings, now=clock.now)
    clock.advance(1)
    second = cache.province_report(admin, settings, now=clock.now)
    assert (first.max_age_seconds, second.computed_at) == (0, clock.now)
