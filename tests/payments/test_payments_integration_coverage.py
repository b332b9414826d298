"""Coverage: an account is watched when an enabled integration lists it. Stalls nobody can
observe are marked for their managers (list, filter, banner), on the stall and merchant
pages, and counted apart in the adoption figures (page, export, API). Both databases."""

import csv
import io
from datetime import UTC, datetime

from market.adoption import queries as adoption
from market.adoption.criteria import Settings
from market.extensions import db
from market.payments import coverage, services
from market.payments.models import IntegrationAccount, WebhookIntegration

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


def _integration(*accounts, enabled=True, name="cho-a"):
    found = WebhookIntegration(
        provider="sepay", name=name, auth_mode="hmac", secret="x" * 32, enabled=enabled
    )
    found.accounts = [IntegrationAccount(account_number=a) for a in accounts]
    db.session.add(found)
    db.session.commit()
    return found


def _unwatched(world):
    report = adoption.province_report(
        [world.market_a, world.market_b], Settings(), scope="province", now=NOW
    )
    return {row.code: row.unwatched_stalls for row in report.markets}, report.totals


def test_watched_means_listed_by_an_enabled_integration(app, world):
    a, b = world.payee_a.account_number, world.payee_b.account_number
    assert coverage.watchers() == {}
    _integration()  # no list: receives what its provider sends, claims no account
    assert coverage.account_watchers(a) == []
    listed = _integration(a, name="cho-b")
    assert coverage.account_watchers(a) == ["sepay/cho-b"] and coverage.account_watchers(b) == []
    listed.enabled = False
    db.session.commit()
    assert coverage.account_watchers(a) == []


def test_adoption_counts_stalls_nobody_watches_apart(app, world):
    counts, totals = _unwatched(world)
    assert counts == {"TN-A": 1, "TN-B": 1} and totals.unwatched_stalls == 2
    _integration(world.payee_a.account_number)
    counts, totals = _unwatched(world)
    assert counts == {"TN-A": 0, "TN-B": 1} and totals.unwatched_stalls == 1
    # An inactive stall or one without a verified payee is not "unobservable": it has no QR.
    world.stall_b.status = "closed"
    db.session.commit()
    assert _unwatched(world)[0] == {"TN-A": 0, "TN-B": 0}


def test_the_adoption_api_and_export_carry_the_count(app, world, client, auth):
    _integration(world.payee_a.account_number)
    auth.login("admin")
    text = client.get("/adoption/export.csv").get_data(as_text=True)
    header, *rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    column = header.index("Sạp không có tích hợp theo dõi")
    by_code = {row[0]: row[column] for row in rows}
    assert by_code["TN-A"] == "0" and by_code["TN-B"] == "1"
    page = client.get("/adoption/").get_data(as_text=True)
    assert "Sạp không có tích hợp theo dõi" in page


def test_managers_see_the_banner_the_filter_and_the_marks(app, world, client, auth):
    auth.login("manager")
    page = client.get("/markets/TN-A").get_data(as_text=True)
    assert "unwatched-banner" in page and "không ai theo dõi" in page
    listed = client.get("/markets/TN-A?watch=unwatched").get_data(as_text=True)
    assert "A-01" in listed
    _integration(world.payee_a.account_number)
    page = client.get("/markets/TN-A").get_data(as_text=True)
    assert "unwatched-banner" not in page and "có thông báo" in page
    assert "A-01</a>" not in client.get("/markets/TN-A?watch=unwatched").get_data(as_text=True)
    stall = client.get("/markets/TN-A/stalls/A-01").get_data(as_text=True)
    assert "Có thông báo tiền vào (sepay/cho-a)" in stall


def test_helpers_get_no_banner(app, world, client, auth):
    auth.login("helper")
    assert "unwatched-banner" not in client.get("/markets/TN-A").get_data(as_text=True)


def test_the_merchant_sees_whether_their_money_is_announced(app, world, client, auth):
    auth.login("merchant")
    assert "chưa được báo tự động" in client.get("/me/").get_data(as_text=True)
    _integration(world.payee_a.account_number)
    assert "được báo tự động." in client.get("/me/").get_data(as_text=True)


def test_the_admin_screen_sets_the_watched_accounts(app, world, client, auth):
    auth.login("admin")
    client.post(
        "/admin/webhooks/new",
        data={
            "provider": "casso",
            "name": "cho-b",
            "auth_mode": "hmac",
            "secret": "y" * 32,
            "accounts": world.payee_b.account_number,
            "enabled": "y",
        },
    )
    assert coverage.account_watchers(world.payee_b.account_number) == ["casso/cho-b"]
    services.watch_accounts("casso", "cho-b", [])  # the command line's way, the same rule
    assert coverage.account_watchers(world.payee_b.account_number) == []
