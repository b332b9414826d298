"""Who may keep the province's targets (/adoption/targets): the province (admin) only.
Managers, helpers and merchants get 403, anonymous users the login page; a refused request
changes nothing (no target, no audit entry)."""

from datetime import date

import pytest
from sqlalchemy import func, select

from market.adoption.models import AdoptionTarget
from market.audit.models import AuditLog
from market.extensions import db
from tests.conftest import ACCESS_ROLES, PASSWORD

ADMIN = {"admin"}
NEW = {"markets": "70", "deadline": "2026-12-31", "title": "Kế hoạch mới", "former_province": ""}

# (endpoint, method, url ("{id}": a saved target's), form data, roles allowed)
MATRIX = [
    ("adoption.targets", "GET", "/adoption/targets", None, ADMIN),
    ("adoption.targets", "POST", "/adoption/targets", NEW, ADMIN),
    ("adoption.edit_target", "GET", "/adoption/targets/{id}", None, ADMIN),
    ("adoption.edit_target", "POST", "/adoption/targets/{id}", NEW, ADMIN),
    ("adoption.delete_target", "POST", "/adoption/targets/{id}/delete", {}, ADMIN),
]


def _target() -> AdoptionTarget:
    target = db.session.scalar(select(AdoptionTarget).where(AdoptionTarget.markets == 60))
    if target is None:
        target = AdoptionTarget(
            markets=60,
            deadline=date(2025, 12, 31),
            title="Kế hoạch 156/KH-UBND năm 2022",
            former_province="Thái Nguyên",
        )
        db.session.add(target)
        db.session.commit()
    return target


def _state():
    return (
        db.session.scalar(select(func.count(AuditLog.id))),
        tuple(
            db.session.execute(
                select(
                    AdoptionTarget.id,
                    AdoptionTarget.markets,
                    AdoptionTarget.deadline,
                    AdoptionTarget.title,
                ).order_by(AdoptionTarget.id)
            ).all()
        ),
    )


@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(app, world, endpoint, method, url, data, allowed):
    for role in ACCESS_ROLES:
        target = _target()
        client = app.test_client()
        if role != "anonymous":
            login = client.post("/login", data={"username": role, "password": PASSWORD})
            assert login.status_code == 302
        before = _state()
        # CSRF is off in tests (as in the other matrices): the role alone decides.
        response = client.open(url.format(id=target.id), method=method, data=data)
        db.session.expire_all()
        if role in allowed:
            assert response.status_code in (200, 302), (role, response.status_code)
            continue
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, (role, response.status_code)
        assert _state() == before, f"role {role}: a refused request changed data"
