"""The province's dated targets: kept on /adoption/targets (audit-logged), shown on the
dashboard with wording that holds after the deadline, each counting its own markets."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from market.adoption import queries
from market.adoption.models import AdoptionTarget
from market.audit.models import AuditLog
from market.auth.models import User
from market.extensions import db
from tests.adoption.conftest import NOW, vn
from tests.conftest import HASH, Auth


@pytest.fixture
def clock(monkeypatch):
    moment = {"now": NOW}
    monkeypatch.setattr(queries, "now_utc", lambda: moment["now"])
    return moment


@pytest.fixture
def admin(province, client):
    user = User(username="admin", full_name="Admin", role="admin")
    user.password_hash = HASH
    db.session.add(user)
    db.session.commit()
    assert Auth(client).login("admin").status_code == 302
    return client


def _add(client, **values):
    data = {"former_province": "", **{k: str(v) for k, v in values.items()}}
    return client.post("/adoption/targets", data=data)


def _audit(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_targets_are_added_changed_and_deleted_with_an_audit_trail(admin, clock):
    response = _add(
        admin,
        markets=60,
        deadline="2025-12-31",
        title="Kế hoạch 156/KH-UBND năm 2022",
        former_province="Thái Nguyên",
    )
    assert response.status_code == 302
    target = db.session.scalar(select(AdoptionTarget))
    assert (target.markets, target.deadline, target.former_province) == (
        60,
        date(2025, 12, 31),
        "Thái Nguyên",
    )
    (created,) = _audit("adoption.target.create")
    assert created.new["title"] == "Kế hoạch 156/KH-UBND năm 2022"
    assert created.actor.username == "admin"

    page = admin.get("/adoption/targets").get_data(as_text=True)
    assert "60 chợ — Kế hoạch 156/KH-UBND năm 2022" in page

    changed = admin.post(
        f"/adoption/targets/{target.id}",
        data={
            "markets": "65",
            "deadline": "2025-12-31",
            "title": target.title,
            "former_province": "Thái Nguyên",
        },
    )
    assert changed.status_code == 302
    (updated,) = _audit("adoption.target.update")
    assert (updated.old["markets"], updated.new["markets"]) == (60, 65)

    assert admin.post(f"/adoption/targets/{target.id}/delete").status_code == 302
    assert db.session.scalar(select(AdoptionTarget)) is None
    (deleted,) = _audit("adoption.target.delete")
    assert deleted.old["markets"] == 65


def test_bad_target_is_refused_field_by_field_and_changes_nothing(admin, clock):
    response = _add(admin, markets=0, deadline="31/12/2025", title="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('class="error"') >= 3  # number, date, title each say what is wrong
    assert db.session.scalar(select(AdoptionTarget)) is None
    assert _audit("adoption.target.create") == []


def test_dashboard_wording_before_and_after_each_deadline(admin, clock, province):
    # Today, 4 March 2026, two markets qualify: SC-B and DT-D (both of the old Thái Nguyên).
    _add(admin, markets=2, deadline="2026-06-30", title="Đợt 1")
    _add(admin, markets=5, deadline="2026-01-31", title="Đợt 0")
    _add(admin, markets=10, deadline="2026-12-31", title="Đợt 2")
    _add(admin, markets=1, deadline="2026-12-31", title="Bắc Kạn cũ", former_province="Bắc Kạn")
    html = admin.get("/adoption/").get_data(as_text=True)
    assert "Đạt ngày 04/03/2026 (hạn 30/06/2026); hiện có 2 chợ." in html
    assert "Chưa đạt đến 31/01/2026; hiện có 2 / 5 chợ." in html
    assert "Còn 302 ngày; hiện có 2 / 10 chợ (20 %)." in html
    assert "Còn 302 ngày; hiện có 0 / 1 chợ (0 %)." in html  # no market of the former Bắc Kạn
    reached = db.session.scalar(select(AdoptionTarget).where(AdoptionTarget.title == "Đợt 1"))
    assert reached.reached_on == date(2026, 3, 4)

    # Months later one market no longer qualifies, and the first deadline has passed: the
    # target still says when it was reached, and what there is now.
    province.b.fees_cashless_since = None
    db.session.commit()
    clock["now"] = vn(2026, 8, 1, 9, 0)
    html = admin.get("/adoption/").get_data(as_text=True)
    assert "Đạt ngày 04/03/2026 (hạn 30/06/2026); hiện có 1 chợ." in html
    assert "Chưa đạt đến 31/01/2026; hiện có 1 / 5 chợ." in html


def test_a_target_reached_after_its_deadline_says_so(admin, clock):
    _add(admin, markets=2, deadline="2026-01-31", title="Muộn")
    html = admin.get("/adoption/").get_data(as_text=True)
    assert "Đạt ngày 04/03/2026, sau hạn 31/01/2026; hiện có 2 chợ." in html
