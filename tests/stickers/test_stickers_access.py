"""Who may fetch QR images, print stickers and audit them (see tests/test_route_coverage.py)."""

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.markets.models import Stall
from market.stickers.models import StickerAudit
from tests.conftest import ACCESS_ROLES

EVERYONE = set(ACCESS_ROLES)
STAFF_A = {"admin", "manager", "helper"}

MATRIX = [
    ("stickers.stall_qr", "GET", "/stalls/TN-A/A-01/qr.png", EVERYONE),
    ("stickers.market_stickers", "GET", "/markets/TN-A/stickers.pdf", {"admin", "manager"}),
    (
        "stickers.market_stickers",
        "GET",
        "/markets/TN-A/stickers.pdf?stalls=new",
        {"admin", "manager"},
    ),
    ("stickers.stall_qr", "GET", "/stalls/TN-A/A-01/qr.svg?download=1", EVERYONE),
    (
        "stickers.stall_sticker",
        "GET",
        "/markets/TN-A/stalls/A-01/sticker.pdf",
        STAFF_A | {"merchant"},
    ),
    ("stickers.audit", "GET", "/markets/TN-A/stalls/A-01/audit", STAFF_A),
    ("stickers.audit", "POST", "/markets/TN-A/stalls/A-01/audit", set()),  # 422 without photo
]


def _state():
    return (
        db.session.scalar(select(func.count(StickerAudit.id))),
        db.session.scalar(select(func.max(Stall.sticker_printed_at))),
    )


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "allowed"), MATRIX, ids=[f"{m} {u}" for _e, m, u, _a in MATRIX]
)
def test_access(world, client, auth, role, endpoint, method, url, allowed):
    if role != "anonymous":
        auth.login(role)
    before = _state()
    response = client.open(url, method=method, data={} if method == "POST" else None)
    response.close()
    db.session.expire_all()
    if role in allowed:
        assert response.status_code == 200, response.status_code
    elif role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif endpoint == "stickers.audit" and method == "POST" and role in STAFF_A:
        assert response.status_code == 422  # allowed, but a photo is required
    else:
        assert response.status_code in (403, 404), response.status_code
    if response.status_code != 200 or method == "POST":
        assert _state() == before
