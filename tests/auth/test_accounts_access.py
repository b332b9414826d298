"""Who may activate, change passwords, look after staff logins and print welcome slips
(see tests/test_route_coverage.py). Refused requests change nothing."""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.auth import services
from market.auth.models import ActivationCode, User
from market.extensions import db
from tests.conftest import ACCESS_ROLES

EVERYONE = set(ACCESS_ROLES)
USERS = EVERYONE - {"anonymous"}
# The province; a manager for the helpers of their own market.
MANAGE_HELPER_A = {"admin", "manager"}
ONBOARD_A = {"admin", "manager", "helper"}

MATRIX = [
    # endpoint, method, url, data, allowed, status when allowed
    ("auth.activate", "GET", "/activate/0912345678", None, EVERYONE, 200),
    ("auth.activate", "POST", "/activate/0912345678", {"code": "00000000"}, set(), 422),
    ("auth.change_password", "GET", "/account/password", None, USERS, 200),
    ("auth.change_password", "POST", "/account/password", {"current": "x"}, set(), 422),
    ("auth.users", "GET", "/users/", None, {"admin", "manager", "manager_b"}, 200),
    ("auth.new_user", "GET", "/users/new", None, {"admin", "manager", "manager_b"}, 200),
    (
        "auth.new_user",
        "POST",
        "/users/new",
        {"username": "hotro-moi", "full_name": "Hỗ Trợ Mới", "role": "helper", "markets": "{a}"},
        MANAGE_HELPER_A,
        200,
    ),
    ("auth.edit_user", "GET", "/users/{helper}/edit", None, {"admin"}, 200),
    (
        "auth.edit_user",
        "POST",
        "/users/{helper}/edit",
        {"full_name": "Helper Renamed", "role": "helper", "markets": "{a}"},
        {"admin"},
        302,
    ),
    ("auth.deactivate_user", "POST", "/users/{helper}/deactivate", {}, MANAGE_HELPER_A, 302),
    ("auth.reactivate_user", "POST", "/users/{helper}/reactivate", {}, MANAGE_HELPER_A, 302),
    ("auth.reset_user", "POST", "/users/{helper}/reset", {}, MANAGE_HELPER_A, 200),
    (
        "auth.merchant_access",
        "POST",
        "/markets/TN-A/merchants/{merchant_a}/access",
        {},
        ONBOARD_A,
        200,
    ),
    ("auth.welcome_slips", "POST", "/welcome-slips.pdf", {"slip": "{slip}"}, ONBOARD_A, 200),
]


def _state():
    users = db.session.execute(
        select(User.username, User.full_name, User.role, User.active, User.password_hash)
    ).all()
    markets = {u.username: sorted(u.market_ids) for u in db.session.scalars(select(User))}
    codes = db.session.execute(
        select(ActivationCode.id, ActivationCode.revoked_at, ActivationCode.used_at)
    ).all()
    audit = db.session.scalar(select(func.count(AuditLog.id)))
    return sorted(users), markets, sorted(codes), audit


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed", "status"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a, _s in MATRIX],
)
def test_access(world, client, auth, role, endpoint, method, url, data, allowed, status):
    issued = services.reissue_merchant_access(None, world.merchant_a)
    values = {
        "a": str(world.market_a.id),
        "helper": str(world.users["helper"].id),
        "merchant_a": str(world.merchant_a.id),
        "slip": f"{issued.user.id}:{issued.code}",
    }
    url = url.format(**values)
    data = {k: v.format(**values) for k, v in data.items()} if data is not None else None
    if role != "anonymous":
        assert auth.login(role).status_code == 302
    if endpoint == "auth.reactivate_user":
        services.set_active(world.users["admin"], world.users["helper"], False)
        if role == "helper":
            role = "anonymous"  # deactivated: their session ended with it
    before = _state()
    response = client.open(url, method=method, data=data)
    response.close()
    db.session.expire_all()
    if role in allowed:
        assert response.status_code == status, response.status_code
        return
    if (status == 422 and not allowed and role != "anonymous") or endpoint == "auth.activate":
        # Open to all, but the input is wrong: nothing happens.
        assert response.status_code in (200, 422), response.status_code
    elif role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code in (403, 404), response.status_code
    assert _state() == before
