"""Display preferences (language, large text) are for everyone, logged in or not: each person
changes only their own (or, logged out, this device's)."""

import pytest
from sqlalchemy import select

from market.auth.models import User
from market.extensions import db
from tests.conftest import ACCESS_ROLES

EVERYONE = set(ACCESS_ROLES)

MATRIX = [
    ("auth.preferences", "GET", "/preferences", None, EVERYONE),
    ("auth.preferences", "POST", "/preferences", {"locale": "en", "text_size": "large"}, EVERYONE),
    ("auth.set_large_text", "POST", "/preferences/large-text", {"large_text": "1"}, EVERYONE),
]


def _preferences() -> dict:
    rows = db.session.execute(select(User.username, User.locale, User.large_text)).all()
    return {name: (locale, large) for name, locale, large in rows}


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(world, client, auth, role, endpoint, method, url, data, allowed):
    if role != "anonymous":
        assert auth.login(role).status_code == 302
    before = _preferences()
    response = client.open(url, method=method, data=data)
    db.session.expire_all()
    assert role in allowed
    assert response.status_code == (200 if method == "GET" else 302)
    after = _preferences()
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= ({role} if method == "POST" else set()), changed
