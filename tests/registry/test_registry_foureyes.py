"""Four-eyes: a payee account takes effect only when verified by a manager of the market or
the province who did not create it, did not create another pending version of the stall
since the last verified one, and did not upload the import that created it.

The three ways one person's intent used to be enough are each tried through the form and
through the JSON API; the legitimate path still works; the bulk page checks every row.
"""

import io
from collections.abc import Iterator

import pytest
from flask import g, request_started
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.auth.models import User
from market.auth.services import create_api_token
from market.extensions import db
from market.markets.models import ImportBatch, Market, Stall
from market.merchants import services
from market.merchants.models import PayeeAccount
from tests.conftest import PASSWORD

STALL_URL = "/markets/TN-A/stalls/A-01"
API_STALL = "/api/v1/markets/TN-A/stalls/A-01"


def _payee_form(account: str, expected_id: int) -> dict:
    return {
        "bank_bin": "970415",
        "service": "account",
        "account_number": account,
        "holder_name": "NGUYEN THI HOA",
        "expected_current_id": str(expected_id),
        "action": "save",
    }


class People:
    """One logged-in test client and one API token per user of the world."""

    def __init__(self, app, world) -> None:
        self.app = app
        self.world = world
        self.clients = {}
        self.tokens = {}

    def web(self, name: str):
        if name not in self.clients:
            client = self.app.test_client()
            response = client.post("/login", data={"username": name, "password": PASSWORD})
            assert response.status_code == 302
            self.clients[name] = client
        return self.clients[name]

    def api(self, name: str, method: str, path: str, **kwargs):
        if name not in self.tokens:
            _token, self.tokens[name] = create_api_token(self.world.users[name], "four-eyes")
        headers = {"Authorization": f"Bearer {self.tokens[name]}"}
        return self.web_anonymous().open(path, method=method, headers=headers, **kwargs)

    def web_anonymous(self):
        return self.app.test_client()

    def set_payee(self, name: str, account: str):
        """Change stall A-01's payee through the form, as ``name``; returns the new payee."""
        current = services.current_payee(self.world.stall_a)
        response = self.web(name).post(f"{STALL_URL}/payee", data=_payee_form(account, current.id))
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.expire_all()
        payee = services.current_payee(self.world.stall_a)
        assert payee.account_number == account
        return payee


def _forget_the_last_user(_sender, **_extra) -> None:
    # The test app keeps one app context (and so one ``g``) for the whole test, where a server
    # makes one per request: without this, Flask-Login's cached user of one client's request
    # would answer the next client's.
    g.pop("_login_user", None)


@pytest.fixture
def people(app, world) -> Iterator[People]:
    request_started.connect(_forget_the_last_user, app)
    try:
        yield People(app, world)
    finally:
        request_started.disconnect(_forget_the_last_user, app)


def _state(payee_id: int):
    db.session.expire_all()
    payee = db.session.get(PayeeAccount, payee_id)
    return (
        payee.verified_at,
        payee.verified_by_id,
        db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "payee.verify")),
    )


def _refused_everywhere(
    people: People, name: str, payee: PayeeAccount, why: str, stall: str = "A-01"
) -> None:
    """``name`` may not verify ``payee``: not by the form, the API or the bulk page; nothing
    changes."""
    before = _state(payee.id)
    assert before[0] is None
    form = people.web(name).post(f"/markets/TN-A/stalls/{stall}/payee/{payee.id}/verify")
    assert form.status_code == 403
    assert why in form.get_data(as_text=True)
    api = people.api(name, "POST", f"/api/v1/markets/TN-A/stalls/{stall}/payees/{payee.id}/verify")
    assert api.status_code == 403
    assert why in api.get_json()["error"]["message"]
    bulk = people.web(name).post("/markets/pending-payees/verify", data={"payee": [payee.id]})
    assert bulk.status_code == 200
    assert why in bulk.get_data(as_text=True)
    assert _state(payee.id) == before


def _verified_by(payee_id: int) -> int | None:
    db.session.expire_all()
    return db.session.get(PayeeAccount, payee_id).verified_by_id


# --- the three bypasses -------------------------------------------------------------------


def test_a_manager_cannot_verify_a_helpers_replacement_of_their_own_pending_change(people):
    """(a) A helper replaces a manager's pending change; that manager may not verify it."""
    mine = people.set_payee("manager", "111111111111")
    replaced = people.set_payee("helper", "222222222222")
    assert replaced.created_by_id == people.world.users["helper"].id and mine.id != replaced.id
    _refused_everywhere(people, "manager", replaced, "thay đổi khác của sạp này")
    # The other manager may: through the API here.
    response = people.api("manager2", "POST", f"{API_STALL}/payees/{replaced.id}/verify")
    assert response.status_code == 200 and response.get_json()["verified"] is True
    assert _verified_by(replaced.id) == people.world.users["manager2"].id


def test_a_managers_import_applied_by_a_helper_is_not_verified_by_that_manager(people):
    """(b) A manager uploads a file, a helper applies it: the uploader may not verify."""
    content = (
        "ma_sap,ho_ten,so_dien_thoai,dong_y,ngan_hang,so_tai_khoan,ten_chu_tai_khoan\n"
        "A-05,Lê Văn Nam,0912000005,có,970415,333333333333,LE VAN NAM\n"
    ).encode()
    page = (
        people.web("manager")
        .post(
            "/markets/TN-A/import",
            data={"file": (io.BytesIO(content), "sap-moi.csv")},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    batch_id = int(page.split("/import/")[1].split("/apply")[0])
    # Applied: the page shows the new merchant's activation code.
    assert people.web("helper").post(f"/markets/TN-A/import/{batch_id}/apply").status_code == 200
    db.session.expire_all()
    stall = db.session.scalar(select(Stall).where(Stall.code == "A-05"))
    payee = services.current_payee(stall)
    assert payee.account_number == "333333333333"
    # Recorded on the payee: who applied it, which upload, who uploaded it.
    assert payee.created_by_id == people.world.users["helper"].id
    assert payee.import_batch_id == batch_id
    assert payee.uploaded_by_id == db.session.get(ImportBatch, batch_id).created_by_id
    assert payee.uploaded_by_id == people.world.users["manager"].id
    _refused_everywhere(people, "manager", payee, "tải lên tệp nhập", stall="A-05")
    # The helper never verifies; the other manager does, through the form.
    url = f"/markets/TN-A/stalls/A-05/payee/{payee.id}/verify"
    assert people.web("helper").post(url).status_code == 403
    assert people.web("manager2").post(url).status_code == 302
    assert _verified_by(payee.id) == people.world.users["manager2"].id


def test_the_province_cannot_change_and_verify_alone(people):
    """(c) The province admin follows the same rule as everyone."""
    payee = people.set_payee("admin", "444444444444")
    _refused_everywhere(people, "admin", payee, "Bạn đã tạo tài khoản này")
    assert people.web("manager").post(f"{STALL_URL}/payee/{payee.id}/verify").status_code == 302
    assert _verified_by(payee.id) == people.world.users["manager"].id


def test_a_manager_who_uploaded_an_earlier_pending_version_may_not_verify_a_later_one(people):
    """Uploading the import that made another pending version counts as making it."""
    world = people.world
    batch = ImportBatch(
        market_id=world.market_a.id,
        filename="x.csv",
        content=b"",
        sha256="0" * 64,
        created_by_id=world.users["manager"].id,
    )
    db.session.add(batch)
    db.session.flush()
    fields = {"bank_bin": "970415", "service": "account", "holder_name": "NGUYEN THI HOA"}
    services.stage_payee(
        world.users["manager2"], world.stall_a, account_number="5555", import_batch=batch, **fields
    )
    later = services.stage_payee(
        world.users["helper"], world.stall_a, account_number="6666", **fields
    )
    db.session.commit()
    assert services.involved_users(later) == {
        world.users["helper"].id: "created",
        world.users["manager"].id: "pending",
        world.users["manager2"].id: "pending",
    }
    _refused_everywhere(people, "manager", later, "thay đổi khác của sạp này")


def test_a_verified_version_ends_the_earlier_changes_involvement(people):
    """Only pending versions since the last verified one count: an old, verified change of
    the same manager does not keep them from verifying a new one forever."""
    first = people.set_payee("manager", "777777777777")
    assert people.web("manager2").post(f"{STALL_URL}/payee/{first.id}/verify").status_code == 302
    second = people.set_payee("manager2", "888888888888")
    assert services.involved_users(second) == {people.world.users["manager2"].id: "created"}
    assert people.web("manager").post(f"{STALL_URL}/payee/{second.id}/verify").status_code == 302
    assert _verified_by(second.id) == people.world.users["manager"].id


# --- on screen: who can verify ------------------------------------------------------------


def test_the_stall_page_says_who_can_verify(people):
    world = people.world
    payee = people.set_payee("manager", "121212121212")
    own = people.web("manager").get(STALL_URL).get_data(as_text=True)
    assert "Bạn đã tạo tài khoản này" in own and "Xác minh tài khoản này" not in own
    assert "Người xác minh được: Manager2 (quản lý khác của chợ), hoặc cán bộ tỉnh." in own
    other = people.web("manager2").get(STALL_URL).get_data(as_text=True)
    assert "Xác minh tài khoản này" in other
    helper = people.web("helper").get(STALL_URL).get_data(as_text=True)
    assert "Manager2 (quản lý khác của chợ)" in helper and "Xác minh tài khoản này" not in helper
    # Market B has one manager: when they made the change, the province verifies.
    current = services.current_payee(world.stall_b)
    response = people.web("manager_b").post(
        "/markets/TN-B/stalls/B-01/payee", data=_payee_form("131313131313", current.id)
    )
    assert response.status_code == 302
    page = people.web("manager_b").get("/markets/TN-B/stalls/B-01").get_data(as_text=True)
    assert "Không có quản lý nào khác của chợ xác minh được: cán bộ tỉnh xác minh." in page
    assert payee.id  # (market A's change is untouched by market B's)


# --- the bulk page ------------------------------------------------------------------------


def _pending_stall(world, market: Market, code: str, creator: str, account: str) -> PayeeAccount:
    stall = Stall(market=market, code=code, category="khac", status="active")
    db.session.add(stall)
    db.session.flush()
    payee = services.stage_payee(
        world.users[creator],
        stall,
        bank_bin="970415",
        account_number=account,
        service="account",
        holder_name="NGUYEN VAN A",
    )
    db.session.commit()
    return payee


def test_bulk_verify_checks_every_row_and_verifies_the_others(people):
    world = people.world
    by_manager2 = _pending_stall(world, world.market_a, "A-02", "manager2", "2020")
    by_helper = _pending_stall(world, world.market_a, "A-03", "helper", "3030")
    by_manager = _pending_stall(world, world.market_a, "A-04", "manager", "4040")
    in_b = _pending_stall(world, world.market_b, "B-02", "helper_b", "5050")

    page = people.web("manager").get("/markets/pending-payees").get_data(as_text=True)
    assert "A-02" in page and "A-03" in page and "A-04" in page
    assert "B-02" not in page  # only the manager's own markets
    assert f'value="{by_manager2.id}"' in page and f'value="{by_manager.id}"' not in page
    assert "Bạn đã tạo tài khoản này" in page
    admin_page = people.web("admin").get("/markets/pending-payees").get_data(as_text=True)
    assert "A-02" in admin_page and "B-02" in admin_page
    one_market = people.web("admin").get("/markets/pending-payees?market=TN-B")
    assert "B-02" in one_market.get_data(as_text=True)
    assert "A-02" not in one_market.get_data(as_text=True)

    # A crafted request ticks the manager's own row too: that row is refused, with the reason,
    # and the others are verified, each audit-logged like a single verification.
    response = people.web("manager").post(
        "/markets/pending-payees/verify",
        data={"payee": [by_manager2.id, by_helper.id, by_manager.id]},
    )
    result = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Đã xác minh 2 tài khoản" in result
    assert "1 tài khoản không được xác minh" in result and "Bạn đã tạo tài khoản này" in result
    manager_id = world.users["manager"].id
    assert _verified_by(by_manager2.id) == manager_id
    assert _verified_by(by_helper.id) == manager_id
    assert _verified_by(by_manager.id) is None
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "payee.verify").order_by(AuditLog.id)
    ).all()
    assert [(e.actor_id, e.new["payee_id"], e.new["bulk"]) for e in entries] == [
        (manager_id, by_manager2.id, True),
        (manager_id, by_helper.id, True),
    ]
    # Verifying again changes nothing and says so.
    again = people.web("manager").post(
        "/markets/pending-payees/verify", data={"payee": [by_helper.id]}
    )
    assert "đã được xác minh trước đó" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditLog.id))) == len(entries) + 4  # 4 payee.set
    # Another market's row in the request refuses the whole request: nothing changes.
    refused = people.web("manager").post(
        "/markets/pending-payees/verify", data={"payee": [by_manager.id, in_b.id]}
    )
    assert refused.status_code == 404
    assert _verified_by(in_b.id) is None and _verified_by(by_manager.id) is None
    # So does a market filter the user may not see, before anything is verified.
    elsewhere = people.web("manager_b").post(
        "/markets/pending-payees/verify", data={"payee": [in_b.id], "market": "TN-A"}
    )
    assert elsewhere.status_code == 404
    assert _verified_by(in_b.id) is None


def test_bulk_verify_refuses_a_row_replaced_since_the_page_was_shown(people):
    world = people.world
    payee = _pending_stall(world, world.market_a, "A-02", "helper", "2020")
    stall = payee.stall
    services.set_payee(
        world.users["manager2"],
        stall,
        bank_bin="970415",
        account_number="2121",
        service="account",
        holder_name="NGUYEN VAN A",
    )
    response = people.web("manager").post(
        "/markets/pending-payees/verify", data={"payee": [payee.id]}
    )
    assert "không còn là tài khoản hiện tại" in response.get_data(as_text=True)
    assert _verified_by(payee.id) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "Chọn ít nhất một tài khoản"), ({"payee": ["abc"]}, "“abc” không phải mã tài khoản")],
)
def test_bulk_verify_with_bad_input_says_why_and_changes_nothing(people, data, message):
    world = people.world
    payee = _pending_stall(world, world.market_a, "A-02", "helper", "2020")
    response = people.web("manager").post("/markets/pending-payees/verify", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _verified_by(payee.id) is None


def test_bulk_verify_needs_the_csrf_token(people):
    world = people.world
    payee = _pending_stall(world, world.market_a, "A-02", "helper", "2020")
    client = people.web("manager")
    people.app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/markets/pending-payees/verify", data={"payee": [payee.id]})
        assert response.status_code in (400, 422)
        assert _verified_by(payee.id) is None
        page = client.get("/markets/pending-payees").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(
            "/markets/pending-payees/verify", data={"payee": [payee.id], "csrf_token": token}
        )
        assert response.status_code == 200
        assert _verified_by(payee.id) == world.users["manager"].id
    finally:
        people.app.config["WTF_CSRF_ENABLED"] = False


def test_the_market_page_links_to_the_pending_changes(people):
    world = people.world
    _pending_stall(world, world.market_a, "A-02", "helper", "2020")
    page = people.web("manager").get("/markets/TN-A").get_data(as_text=True)
    assert "/markets/pending-payees?market=TN-A" in page
    assert "/markets/pending-payees" in people.web("admin").get("/markets/").get_data(as_text=True)


def test_deactivated_managers_are_not_named_as_verifiers(people):
    world = people.world
    payee = people.set_payee("manager", "141414141414")
    user = db.session.get(User, world.users["manager2"].id)
    user.active = False
    db.session.commit()
    verifiers = services.payee_verifiers(db.session.get(PayeeAccount, payee.id))
    assert verifiers.managers == [] and verifiers.province is True
