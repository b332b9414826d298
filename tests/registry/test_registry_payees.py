"""Payee accounts: history kept, audit-logged, one current per stall, helpers kept out."""

import threading

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from market.audit.models import AuditLog
from market.errors import Conflict, Forbidden
from market.extensions import db
from market.markets.models import Stall
from market.merchants import services
from market.merchants.models import PayeeAccount

NEW = {
    "bank_bin": "970415",
    "account_number": "101010101010",
    "service": "account",
    "holder_name": "NGUYEN THI HOA",
}


def test_changing_a_payee_keeps_history_and_writes_the_audit_log(world):
    manager = world.users["manager"]
    old_id = world.payee_a.id
    new = services.set_payee(manager, world.stall_a, expected_current_id=old_id, **NEW)
    history = db.session.scalars(
        select(PayeeAccount)
        .where(PayeeAccount.stall_id == world.stall_a.id)
        .order_by(PayeeAccount.id)
    ).all()
    assert [p.is_current for p in history] == [False, True]
    assert history[0].replaced_at is not None and history[0].account_number == "0011001234567"
    assert new.verified is False  # a new account must be verified again
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "payee.set"))
    assert entry.actor_id == manager.id and entry.market_id == world.market_a.id
    assert entry.old["account_number"] == "0011001234567"
    assert entry.new["account_number"] == "101010101010"


def test_setting_the_same_account_again_changes_nothing(world):
    manager = world.users["manager"]
    same = {
        "bank_bin": "970436",
        "account_number": "0011001234567",
        "service": "account",
        "holder_name": "NGUYEN THI HOA",
    }
    assert services.set_payee(manager, world.stall_a, **same) is None
    assert db.session.scalar(select(func.count(PayeeAccount.id))) == 2
    assert db.session.scalar(select(func.count(AuditLog.id))) == 0


def test_a_helper_cannot_change_a_verified_payee_but_can_set_an_unverified_one(world):
    helper = world.users["helper"]
    with pytest.raises(Forbidden):
        services.set_payee(helper, world.stall_a, **NEW)
    db.session.rollback()
    assert services.current_payee(world.stall_a).account_number == "0011001234567"
    # Once a manager replaces it (unverified), the helper may correct it.
    services.set_payee(world.users["manager"], world.stall_a, **NEW)
    fixed = dict(NEW, account_number="101010101011")
    assert services.set_payee(helper, world.stall_a, **fixed).account_number == "101010101011"


def test_an_edit_based_on_a_stale_page_is_refused(world):
    manager = world.users["manager"]
    stale_id = world.payee_a.id
    services.set_payee(manager, world.stall_a, expected_current_id=stale_id, **NEW)
    other = dict(NEW, account_number="202020202020")
    with pytest.raises(Conflict):
        services.set_payee(manager, world.stall_a, expected_current_id=stale_id, **other)
    db.session.rollback()
    assert services.current_payee(world.stall_a).account_number == "101010101010"


def test_the_database_refuses_two_current_payees_for_one_stall(world):
    db.session.add(
        PayeeAccount(
            stall_id=world.stall_a.id,
            bank_bin="970415",
            account_number="1",
            holder_name="X",
            is_current=True,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_two_concurrent_payee_changes_leave_exactly_one_current(world, db_url):
    """Two sessions change the same stall at once: one wins, the other fails cleanly."""
    stall_id = world.stall_a.id
    manager_id = world.users["manager"].id
    current_id = world.payee_a.id
    engine = create_engine(db_url, connect_args={"timeout": 10} if "sqlite" in db_url else {})
    barrier = threading.Barrier(2, timeout=20)
    outcomes = []

    def change(account: str) -> None:
        with Session(engine) as session:
            try:
                session.execute(text("SELECT 1"))
                barrier.wait()
                updated = session.execute(
                    PayeeAccount.__table__.update()
                    .where(PayeeAccount.id == current_id, PayeeAccount.is_current)
                    .values(is_current=False)
                ).rowcount
                session.add(
                    PayeeAccount(
                        stall_id=stall_id,
                        bank_bin="970415",
                        account_number=account,
                        holder_name="RACE",
                        is_current=True,
                        created_by_id=manager_id,
                    )
                )
                session.commit()
                outcomes.append(("ok", updated))
            except Exception as exc:  # the loser sees a lock or constraint error
                session.rollback()
                outcomes.append(("failed", type(exc).__name__))

    threads = [threading.Thread(target=change, args=(n,)) for n in ("111111", "222222")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    engine.dispose()
    db.session.expire_all()
    current = db.session.scalar(
        select(func.count(PayeeAccount.id)).where(
            PayeeAccount.stall_id == stall_id, PayeeAccount.is_current
        )
    )
    assert current == 1
    assert sorted(o[0] for o in outcomes) == ["failed", "ok"]


def test_verifying_is_for_managers_and_is_audit_logged(world):
    new = services.set_payee(world.users["manager"], world.stall_a, **NEW)
    for outsider in ("helper", "manager_b"):
        with pytest.raises(Forbidden):
            services.verify_payee(world.users[outsider], new)
        db.session.rollback()
    services.verify_payee(world.users["manager2"], new)
    assert new.verified_by_id == world.users["manager2"].id
    assert (
        db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "payee.verify"))
        == 1
    )


def test_payee_form_shows_field_errors_and_writes_nothing(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/stalls/A-01/payee",
        data={
            "bank_bin": "123456",
            "service": "account",
            "account_number": "12 ab $",
            "holder_name": "",
            "expected_current_id": str(world.payee_a.id),
            "action": "save",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Số tài khoản “12 ab $”" in page
    assert "Vui lòng nhập tên chủ tài khoản." in page
    assert db.session.scalar(select(func.count(PayeeAccount.id))) == 2


def test_payee_form_preview_shows_bank_name_and_vietqr_payload(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/stalls/A-01/payee",
        data={
            "bank_bin": "970436",
            "service": "account",
            "account_number": "0011001234567",
            "holder_name": "Nguyễn Thị Hoa",
            "expected_current_id": str(world.payee_a.id),
            "action": "preview",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ngân hàng TMCP Ngoại Thương Việt Nam" in page
    assert "00020101021138570010A00000072701270006970436011300110012345670208QRIBFTTA" in page
    assert "NGUYEN THI HOA" in page


def test_two_stalls_in_one_market_cannot_share_a_code(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/stalls/new", data={"code": "a-01", "category": "khac", "status": "active"}
    )
    assert response.status_code == 422
    assert "đã có sạp mã “A-01”" in response.get_data(as_text=True)
    # ...and the database itself refuses it too.
    db.session.add(Stall(market_id=world.market_a.id, code="A-01"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # The same code in another market is fine.
    assert (
        client.post(
            "/markets/TN-A/stalls/new",
            data={"code": "B-01", "category": "khac", "status": "active"},
        ).status_code
        == 302
    )


def test_assigning_a_stall_to_another_merchant_is_audit_logged(world, client, auth):
    auth.login("helper")
    response = client.post(
        "/markets/TN-A/stalls/A-01/merchant",
        data={"full_name": "Lê Thị Mai", "phone": "0977 000 111", "consent": "y"},
    )
    # A new merchant: the answer is the page with their one-time activation code.
    assert response.status_code == 200 and "activation-code" in response.get_data(as_text=True)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "stall.assign"))
    assert entry.new["merchant_name"] == "Lê Thị Mai"
    stall = db.session.get(Stall, world.stall_a.id)
    assert stall.merchant.phone == "0977000111" and stall.merchant.consent_at is not None


def test_a_manager_cannot_confirm_their_own_payee_change(world, client, auth):
    """A dishonest insider cannot redirect a stall's money alone."""
    new = services.set_payee(world.users["manager"], world.stall_a, **NEW)
    with pytest.raises(Forbidden, match="quản lý khác"):
        services.verify_payee(world.users["manager"], new)
    db.session.rollback()
    assert db.session.get(PayeeAccount, new.id).verified_at is None
    # The other managers see it flagged on the market page, with who changed it.
    auth.login("manager2")
    page = client.get("/markets/TN-A").get_data(as_text=True)
    assert "chờ xác nhận" in page and "101010101010" in page and "Manager" in page
    assert client.post(f"/markets/TN-A/stalls/A-01/payee/{new.id}/verify").status_code == 302
    assert db.session.get(PayeeAccount, new.id).verified_by_id == world.users["manager2"].id
    # The province follows the same rule: not its own change, but a manager's.
    admin_change = services.set_payee(
        world.users["admin"], world.stall_a, **dict(NEW, account_number="303030303030")
    )
    with pytest.raises(Forbidden):
        services.verify_payee(world.users["admin"], admin_change)
    db.session.rollback()
    assert services.verify_payee(world.users["manager"], admin_change).verified


def test_ids_beyond_the_database_range_are_a_plain_404(world, client, auth):
    auth.login("manager2")
    huge = 2**31
    response = client.post(f"/markets/TN-A/stalls/A-01/payee/{huge}/verify")
    assert response.status_code == 404
    assert client.post(f"/markets/TN-A/import/{huge * 4}/apply").status_code == 404
