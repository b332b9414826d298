"""Merchant logins, one-time activation codes, staff accounts and server-side sessions."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from market.audit.models import AuditLog
from market.auth import services
from market.auth.models import ActivationCode, User, UserSession, utcnow
from market.extensions import db
from market.markets.models import Stall
from tests.conftest import PASSWORD

NEW_PASSWORD = "mat khau moi 2026"


def _activate(client, login: str, code: str, password: str = NEW_PASSWORD):
    return client.post(
        f"/activate/{login}", data={"code": code, "password": password, "confirm": password}
    )


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(client, cookie: str) -> None:
    client.set_cookie("session", cookie)


# --- codes -------------------------------------------------------------------------------------


def test_codes_are_stored_hashed_never_in_plain(world, app):
    issued = services.reissue_merchant_access(world.users["admin"], world.merchant_a)
    assert len(issued.code) == 8 and issued.code.isdigit()
    row = db.session.scalar(select(ActivationCode))
    assert issued.code not in row.code_hash and len(row.code_hash) == 64
    assert row.code_hash == services.hash_activation_code(issued.user.id, issued.code)
    # Nowhere else either: not in the audit log.
    for entry in db.session.scalars(select(AuditLog)):
        assert issued.code not in repr(entry.new) + repr(entry.old)


def test_a_merchant_activates_with_the_code_and_sees_only_their_stalls(world, client, app):
    issued = services.reissue_merchant_access(world.users["manager"], world.merchant_a)
    # The world's merchant login is "merchant"; the phone number finds it too.
    assert issued.user.merchant_id == world.merchant_a.id
    response = _activate(client, "0912345678", issued.code)
    assert response.status_code == 302
    page = client.get("/me/").get_data(as_text=True)
    assert "A-01" in page and "B-01" not in page
    assert client.get("/collect/TN-B/B-01").status_code in (403, 404)
    # And next time by phone number and the new password.
    client.post("/logout")
    login = client.post("/login", data={"username": "0912345678", "password": NEW_PASSWORD})
    assert login.status_code == 302 and login.headers["Location"].endswith("/me/")
    actions = [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert "activation_code.issue" in actions and "activation_code.use" in actions


def test_one_login_opens_the_merchants_stalls_in_every_market(world, client):
    second = Stall(
        market=world.market_b,
        code="B-02",
        zone="",
        category="khac",
        status="active",
        merchant=world.merchant_a,
    )
    db.session.add(second)
    db.session.commit()
    issued = services.reissue_merchant_access(None, world.merchant_a)
    _activate(client, "0912345678", issued.code)
    page = client.get("/me/").get_data(as_text=True)
    assert "A-01" in page and "B-02" in page and "B-01" not in page


def test_a_code_works_once(world, client, app):
    issued = services.reissue_merchant_access(None, world.merchant_a)
    assert _activate(client, "0912345678", issued.code).status_code == 302
    client.post("/logout")
    again = _activate(client, "0912345678", issued.code, "another password 1")
    assert again.status_code == 422
    assert "Mã kích hoạt không đúng hoặc đã hết hạn." in again.get_data(as_text=True)


def test_a_code_expires_after_the_configured_days(world, app):
    app.config["ACTIVATION_CODE_DAYS"] = 7
    start = utcnow()
    issued = services.reissue_merchant_access(None, world.merchant_a, now=start)
    late = start + timedelta(days=7, seconds=1)
    with pytest.raises(services.InvalidInput):
        services.activate("0912345678", issued.code, NEW_PASSWORD, NEW_PASSWORD, now=late)
    in_time = start + timedelta(days=6, hours=23)
    user, _token = services.activate(
        "0912345678", issued.code, NEW_PASSWORD, NEW_PASSWORD, now=in_time
    )
    assert user.check_password(NEW_PASSWORD)


def test_wrong_codes_use_up_the_code(world, app):
    issued = services.reissue_merchant_access(None, world.merchant_a)
    wrong = "0" * 8 if issued.code != "0" * 8 else "1" * 8
    for _attempt in range(services.ACTIVATION_MAX_FAILURES):
        with pytest.raises(services.InvalidInput):
            services.activate("0912345678", wrong, NEW_PASSWORD, NEW_PASSWORD)
    # The right code no longer works either: a new one must be issued.
    with pytest.raises(services.InvalidInput):
        services.activate("0912345678", issued.code, NEW_PASSWORD, NEW_PASSWORD)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "activation_code.locked"))


def test_activation_attempts_are_limited_per_address(world, client, app):
    app.config["ACTIVATION_RATE_LIMIT"] = "3 per hour"
    codes = [_activate(client, "0987654321", "12345678").status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]


def test_a_reissued_code_ends_the_old_code_and_every_session(world, client, app):
    first = services.reissue_merchant_access(None, world.merchant_a)
    _activate(client, "0912345678", first.code)
    cookie = _cookie(client)
    second = services.reissue_merchant_access(world.users["manager"], world.merchant_a)
    _replay(client, cookie)
    assert client.get("/me/").status_code == 302  # back to the login page
    assert _activate(client, "0912345678", first.code).status_code == 422
    assert _activate(client, "0912345678", second.code).status_code == 302


def test_onboarding_a_merchant_by_form_shows_their_code_once(world, client, auth):
    auth.login("helper")
    response = client.post(
        "/markets/TN-A/stalls/A-01/merchant",
        data={"full_name": "Lê Thị Mai", "phone": "0977000111", "consent": "y"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    user = db.session.scalar(select(User).where(User.username == "0977000111"))
    assert user.role == "merchant" and not user.activated
    code = page.split('class="big code">')[1].split("<")[0]
    assert services.hash_activation_code(user.id, code) == db.session.scalar(
        select(ActivationCode.code_hash).where(ActivationCode.user_id == user.id)
    )
    # Saving the merchant again issues nothing new: the slip already given keeps working.
    again = client.post(
        "/markets/TN-A/stalls/A-01/merchant",
        data={"full_name": "Lê Thị Mai", "phone": "0977000111", "consent": "y"},
    )
    assert again.status_code == 302


IMPORT = (
    "ma_sap,khu,nganh_hang,trang_thai,ho_ten,so_dien_thoai,ma_so_thue,dong_y,ngan_hang,"
    "so_tai_khoan,loai_tai_khoan,ten_chu_tai_khoan\n"
    "A-50,Khu A,rau-cu,active,Đinh Thị Lan,0911222333,,có,970436,0011009998887,,DINH THI LAN\n"
)


def test_an_import_issues_codes_and_prints_welcome_slips_with_a_readable_qr(world, client, auth):
    auth.login("manager")
    upload = client.post(
        "/markets/TN-A/import",
        data={"file": (io.BytesIO(IMPORT.encode()), "moi.csv")},
        content_type="multipart/form-data",
    )
    page = upload.get_data(as_text=True)
    assert upload.status_code == 200, page
    batch_id = page.split("/import/")[1].split("/apply")[0]
    applied = client.post(f"/markets/TN-A/import/{batch_id}/apply")
    page = applied.get_data(as_text=True)
    assert applied.status_code == 200 and "Đinh Thị Lan" in page
    # The page holds the secret the import's codes derive from, not each code (one would
    # be 20,000 of them for a whole market): printing posts it back with the part wanted.
    assert 'name="slip"' not in page
    code = page.split('class="big code">')[1].split("<")[0]
    batch = {
        "issued_at": page.split('name="issued_at" value="')[1].split('"')[0],
        "secret": page.split('name="secret" value="')[1].split('"')[0],
    }
    pdf = client.post("/welcome-slips.pdf", data={**batch, "part": "1"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.data)
    width, height = document[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (105, 148)  # A6
    text = document[0].get_textpage().get_text_range()
    assert "Đinh Thị Lan" in text and f"{code[:4]} {code[4:]}" in text and "A-50" in text
    image = document[0].render(scale=3).to_pil()
    [found] = zxingcpp.read_barcodes(image)
    assert found.text == "http://127.0.0.1:8000/activate/0911222333"
    # A forged or stale code is not printed, nor codes from a forged secret.
    user_id = db.session.scalar(select(User.id).where(User.username == "0911222333"))
    forged = client.post("/welcome-slips.pdf", data={"slip": f"{user_id}:12345678"})
    assert forged.status_code == 422
    wrong = client.post("/welcome-slips.pdf", data={**batch, "secret": "ab" * 32, "part": "1"})
    assert wrong.status_code == 400
    # The code works: the merchant activates with it.
    auth.logout()
    assert _activate(client, "0911222333", code).status_code == 302


def _slip_codes(pdf_bytes: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        texts = [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()
    return [re.search(r"\b(\d{4}) (\d{4})\b", text).group(0).replace(" ", "") for text in texts]


def test_a_large_import_shows_no_codes_and_prints_its_slips_in_parts(
    world, client, auth, monkeypatch
):
    """Past CODES_SHOWN codes the page holds none of them, only their secret; the slips
    come SLIPS_PER_PDF at a time, only for their issuer, and a code used since is not
    printed again."""
    from market.auth import views as auth_views

    monkeypatch.setattr(auth_views, "CODES_SHOWN", 2)
    monkeypatch.setattr(auth_views, "SLIPS_PER_PDF", 2)
    header = IMPORT.splitlines()[0]
    rows = [
        f"A-6{i},Khu A,rau-cu,active,Đinh Thị Lan {chr(65 + i)},091122240{i},,có,970436,"
        f"00110099988{i},,DINH THI LAN"
        for i in range(5)
    ]
    auth.login("manager")
    upload = client.post(
        "/markets/TN-A/import",
        data={"file": (io.BytesIO("\n".join([header, *rows]).encode()), "moi.csv")},
        content_type="multipart/form-data",
    )
    batch_id = upload.get_data(as_text=True).split("/import/")[1].split("/apply")[0]
    page = client.post(f"/markets/TN-A/import/{batch_id}/apply").get_data(as_text=True)
    assert "activation-code" not in page and "quá nhiều để hiện" in page
    assert [p.split('"')[0] for p in page.split('name="part" value="')[1:]] == ["1", "2", "3"]
    batch = {
        "issued_at": page.split('name="issued_at" value="')[1].split('"')[0],
        "secret": page.split('name="secret" value="')[1].split('"')[0],
    }
    parts = [client.post("/welcome-slips.pdf", data={**batch, "part": n}) for n in "123"]
    assert [p.status_code for p in parts] == [200, 200, 200]
    codes = [_slip_codes(p.data) for p in parts]
    assert [len(c) for c in codes] == [2, 2, 1]
    assert len({code for part in codes for code in part}) == 5
    assert client.post("/welcome-slips.pdf", data={**batch, "part": "4"}).status_code == 400
    # Another manager of the market cannot print them with the secret.
    auth.logout()
    auth.login("manager2")
    assert client.post("/welcome-slips.pdf", data={**batch, "part": "1"}).status_code == 400
    auth.logout()
    # The first slip's merchant ("Đinh Thị Lan A") activates: that code is not printed again.
    assert _activate(client, "0911222400", codes[0][0]).status_code == 302
    client.post("/logout")
    auth.login("manager")
    again = [
        _slip_codes(client.post("/welcome-slips.pdf", data={**batch, "part": n}).data) for n in "12"
    ]
    assert again == [codes[0][1:] + codes[1][:1], codes[1][1:] + codes[2]]


# --- sessions ------------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_does_not_work_after_it(world, client, auth):
    auth.login("manager")
    cookie = _cookie(client)
    assert client.get("/markets/").status_code == 200
    auth.logout()
    _replay(client, cookie)
    response = client.get("/markets/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_ends_every_other_session(world, app, auth):
    other = app.test_client()
    assert (
        other.post("/login", data={"username": "helper", "password": PASSWORD}).status_code == 302
    )
    auth.login("helper")
    response = auth.client.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert auth.client.get("/markets/").status_code == 200  # this device stays in
    assert other.get("/markets/").status_code == 302  # the other one is out


def test_a_password_change_needs_the_current_password(world, auth):
    auth.login("helper")
    response = auth.client.post(
        "/account/password",
        data={"current": "wrong one", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    assert db.session.get(User, world.users["helper"].id).check_password(PASSWORD)


def test_deactivation_refuses_the_old_cookie_at_once(world, app, auth):
    auth.login("helper")
    cookie = _cookie(auth.client)
    services.set_active(world.users["manager"], world.users["helper"], False)
    _replay(auth.client, cookie)
    assert auth.client.get("/markets/").status_code == 302
    assert auth.login("helper").status_code == 401


def test_a_change_of_markets_applies_on_the_next_request(world, auth):
    auth.login("manager")
    assert auth.client.get("/markets/TN-A").status_code == 200
    services.update_staff(
        world.users["admin"],
        world.users["manager"],
        full_name="Manager",
        role="manager",
        markets=[world.market_b],
    )
    assert auth.client.get("/markets/TN-A").status_code == 404
    assert auth.client.get("/markets/TN-B").status_code == 200


def test_a_change_of_role_applies_on_the_next_request(world, auth):
    auth.login("manager")
    assert auth.client.get("/users/").status_code == 200
    services.update_staff(
        world.users["admin"],
        world.users["manager"],
        full_name="Manager",
        role="helper",
        markets=[world.market_a],
    )
    assert auth.client.get("/users/").status_code == 403


def test_logins_count_failures_only(world, auth, app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    # Staff behind one market's address log in many times without locking each other out.
    for _ in range(5):
        assert auth.login("manager").status_code == 302
        assert auth.login("helper").status_code == 302
    codes = [auth.login("x", "wrong").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_failures_for_one_account_slow_that_account_only(world, auth, app):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "2 per minute"
    assert [auth.login("manager", "wrong").status_code for _ in range(2)] == [401, 401]
    assert auth.login("manager").status_code == 429  # even with the right password
    assert auth.login("helper").status_code == 302  # everyone else is not slowed


def test_a_language_link_does_not_change_the_saved_preference(world, client, auth):
    auth.login("manager")
    saved = db.session.get(User, world.users["manager"].id).locale
    client.get("/lang/en")
    db.session.expire_all()
    assert db.session.get(User, world.users["manager"].id).locale == saved
    client.post("/lang/en")
    db.session.expire_all()
    assert db.session.get(User, world.users["manager"].id).locale == "en"


def test_sessions_are_rows_that_logout_deletes(world, auth):
    auth.login("manager")
    assert db.session.query(UserSession).count() == 1
    auth.logout()
    assert db.session.query(UserSession).count() == 0


# --- staff accounts ------------------------------------------------------------------------


def test_the_province_creates_a_manager_who_activates_with_the_code(world, client, auth, app):
    auth.login("admin")
    response = client.post(
        "/users/new",
        data={
            "username": "QuanLy3",
            "full_name": "Quản Lý Ba",
            "role": "manager",
            "markets": [str(world.market_a.id), str(world.market_b.id)],
        },
    )
    assert response.status_code == 200
    code = response.get_data(as_text=True).split('class="big code">')[1].split("<")[0]
    user = db.session.scalar(select(User).where(User.username == "quanly3"))
    assert user.role == "manager" and user.market_ids == {world.market_a.id, world.market_b.id}
    assert auth.login("quanly3", "anything at all").status_code == 401  # no password yet
    fresh = app.test_client()
    assert _activate(fresh, "quanly3", code).status_code == 302
    assert fresh.get("/markets/TN-B").status_code == 200
    listing = client.get("/users/").get_data(as_text=True)
    assert "quanly3" in listing


def test_a_manager_creates_helpers_for_their_own_markets_only(world, client, auth):
    auth.login("manager")
    ok = client.post(
        "/users/new",
        data={
            "username": "hotro2",
            "full_name": "Hỗ Trợ Hai",
            "role": "helper",
            "markets": str(world.market_a.id),
        },
    )
    assert ok.status_code == 200
    other_market = client.post(
        "/users/new",
        data={
            "username": "hotro3",
            "full_name": "Hỗ Trợ Ba",
            "role": "helper",
            "markets": str(world.market_b.id),
        },
    )
    assert other_market.status_code == 403
    a_manager = client.post(
        "/users/new",
        data={
            "username": "ql9",
            "full_name": "Quản Lý",
            "role": "manager",
            "markets": str(world.market_a.id),
        },
    )
    assert a_manager.status_code == 422  # not a role they may pick
    assert db.session.scalar(select(User).where(User.username.in_(["hotro3", "ql9"]))) is None
    # Another manager, a helper of another market: not theirs to deactivate.
    for other in ("manager2", "helper_b"):
        url = f"/users/{world.users[other].id}/deactivate"
        assert client.post(url).status_code == 404
    listing = client.get("/users/").get_data(as_text=True)
    assert "hotro2" in listing and "helper_b" not in listing and "manager2" not in listing


def test_a_reset_issues_a_code_and_ends_every_session(world, app, auth):
    victim = app.test_client()
    victim.post("/login", data={"username": "helper", "password": PASSWORD})
    auth.login("manager")
    response = auth.client.post(f"/users/{world.users['helper'].id}/reset")
    assert response.status_code == 200
    code = response.get_data(as_text=True).split('class="big code">')[1].split("<")[0]
    assert victim.get("/markets/").status_code == 302
    assert _activate(victim, "helper", code).status_code == 302
    assert victim.get("/markets/").status_code == 200


def test_staff_changes_are_audit_logged(world, auth):
    auth.login("admin")
    helper = world.users["helper"]
    auth.client.post(f"/users/{helper.id}/deactivate")
    auth.client.post(f"/users/{helper.id}/reactivate")
    auth.client.post(
        f"/users/{helper.id}/edit",
        data={"full_name": "Helper", "role": "manager", "markets": str(world.market_a.id)},
    )
    actions = [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["user.deactivate", "user.reactivate", "user.update"]


# --- command line --------------------------------------------------------------------------


def test_merchant_access_command_prints_the_activation_url(world, runner, client):
    result = runner.invoke(args=["merchant-access", "0912345678"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8000/activate/0912345678" in result.output
    code = result.output.split("code: ")[1].split()[0]
    assert _activate(client, "0912345678", code).status_code == 302


def test_create_user_ties_a_merchant_login_to_the_merchant(world, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "hoa",
            "--role",
            "merchant",
            "--name",
            "Hoa",
            "--merchant-phone",
            "0912345678",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "hoa"))
    assert user.merchant_id == world.merchant_a.id and user.activated
    refused = runner.invoke(
        args=["create-user", "x", "--role", "merchant", "--name", "X", "--password", "a long pw 1"]
    )
    assert refused.exit_code != 0 and "--merchant-phone" in refused.output


def _merchants(count: int, offset: int) -> list[str]:
    from market.merchants.models import Merchant

    phones = [f"09{offset + i:08d}" for i in range(count)]
    db.session.add_all(Merchant(full_name=f"Tiểu thương {p}", phone=p) for p in phones)
    db.session.commit()
    return phones


def test_codes_for_many_merchants_cost_the_same_statements_as_for_a_few(world, app):
    """An import of a whole market issues hundreds of codes at once: a few statements per
    500 merchants, not several per merchant (2,000 codes took over a minute that way)."""
    from sqlalchemy import event

    statements = []

    def count(*_args, **_kwargs):
        statements.append(1)

    def issue(phones):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            issued = services.issue_activation_codes(world.users["manager"], phones)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.commit()
        return issued, len(statements)

    few, few_statements = issue(_merchants(3, 10_000))
    many_issued, many_statements = issue(_merchants(120, 20_000))
    assert few.count == 3 and many_issued.count == 120
    assert many_statements == few_statements
    many = services.issued_codes(many_issued)
    # Each got a login of their own and one live code, hashed; none is issued twice.
    users = {code.user.id for code in many}
    assert len(users) == 120
    assert all(code.user.merchant.phone == code.user.username for code in many)
    again, _ = issue([code.user.username for code in many[:5]])
    assert again.count == 0
    live = db.session.scalars(
        select(ActivationCode).where(
            ActivationCode.user_id.in_(users), ActivationCode.revoked_at.is_(None)
        )
    ).all()
    assert len(live) == 120
    assert {row.code_hash for row in live} == {
        services.hash_activation_code(code.user.id, code.code) for code in many
    }
