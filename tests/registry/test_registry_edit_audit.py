"""Every change to markets and stalls is in the audit log, and a printed pay link can never
lead to another stall's account (issue 17, item 6)."""

from __future__ import annotations

from sqlalchemy import select

from market.audit.models import AuditLog
from market.auth.models import utcnow
from market.auth.services import create_api_token
from market.extensions import db
from market.markets.models import Stall
from market.markets.queries import stall_by_code


def _log(action):
    db.session.expire_all()
    return db.session.scalars(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    ).all()


def _edit_stall(client, stall_code, **fields):
    data = {"code": stall_code, "zone": "Khu A", "category": "rau-cu", "status": "active"}
    return client.post(f"/markets/TN-A/stalls/{stall_code}/edit", data=data | fields)


def test_a_stall_edit_is_audited_with_what_changed(world, client, auth):
    auth.login("helper")
    assert _edit_stall(client, "A-01", zone="Khu Z", status="vacant").status_code == 302
    [entry] = _log("stall.update")
    assert (entry.entity, entry.entity_id, entry.market_id) == (
        "stall",
        world.stall_a.id,
        world.market_a.id,
    )
    assert entry.actor_id == world.users["helper"].id
    assert entry.old == {"zone": "Khu A", "status": "active"}
    assert entry.new == {"zone": "Khu Z", "status": "vacant"}


def test_an_edit_that_changes_nothing_logs_nothing(world, client, auth):
    auth.login("manager")
    assert _edit_stall(client, "A-01").status_code == 302
    assert _log("stall.update") == []


def test_a_new_stall_and_a_market_edit_are_audited(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/stalls/new",
        data={"code": "A-02", "zone": "Khu A", "category": "rau-cu", "status": "active"},
    )
    assert response.status_code == 302
    [created] = _log("stall.create")
    assert created.new["code"] == "A-02" and created.market_id == world.market_a.id
    response = client.post(
        "/markets/TN-A/edit",
        data={"name": "Chợ Đồng Quang mới", "district": "TP. Thái Nguyên", "status": "live"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [entry] = _log("market.update")
    assert entry.old == {"name": "Chợ Đồng Quang"} and entry.new == {"name": "Chợ Đồng Quang mới"}


def _printed(world):
    world.stall_a.sticker_printed_at = utcnow()
    db.session.add(Stall(market_id=world.market_a.id, code="A-02", zone="Khu A", category="rau-cu"))
    db.session.commit()


def test_a_helper_cannot_swap_codes_so_a_sticker_pays_another_stall(world, client, auth):
    _printed(world)
    auth.login("helper")
    # The swap: A-01 (printed) to a spare code, then A-02 takes A-01.
    response = _edit_stall(client, "A-01", code="A-99")
    assert response.status_code == 422
    assert "đã in trên tem QR" in response.get_data(as_text=True)
    assert _edit_stall(client, "A-02", code="A-01").status_code == 422  # still taken
    db.session.expire_all()
    assert stall_by_code(world.market_a, "A-01").id == world.stall_a.id
    assert _log("stall.update") == []


def test_nobody_renumbers_a_printed_stall_through_the_api(world, client):
    _printed(world)
    _token, secret = create_api_token(world.users["admin"], "t")
    response = client.patch(
        "/api/v1/markets/TN-A/stalls/A-01",
        json={"code": "A-99"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422
    assert "code" in response.get_json()["error"]["fields"]
    db.session.expire_all()
    assert stall_by_code(world.market_a, "A-01").id == world.stall_a.id


def test_a_stall_never_printed_may_be_renumbered_and_it_is_audited(world, client, auth):
    _printed(world)
    auth.login("helper")
    assert _edit_stall(client, "A-02", code="A-03").status_code == 302
    [entry] = _log("stall.update")
    assert (entry.old, entry.new) == ({"code": "A-02"}, {"code": "A-03"})
