"""The demo data set: realistic, deterministic, and the same on both databases."""

import subprocess
import sys

from sqlalchemy import func, select

from market import demo
from market.auth.models import User
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants import values
from market.merchants.models import Merchant, PayeeAccount
from market.vietqr import bank_by_bin, build_payload, parse_payload


def _fingerprint():
    return (
        db.session.execute(select(Market.code, Market.status).order_by(Market.code)).all(),
        db.session.execute(select(Stall.code, Stall.status).order_by(Stall.id)).all(),
        db.session.execute(select(Merchant.full_name, Merchant.phone).order_by(Merchant.id)).all(),
        db.session.execute(
            select(PayeeAccount.bank_bin, PayeeAccount.account_number).order_by(PayeeAccount.id)
        ).all(),
    )


def test_demo_has_11_live_markets_about_2100_merchants_and_every_role(app, runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "cho40-demo" in result.output and "quanly" in result.output
    live = db.session.scalar(select(func.count(Market.id)).where(Market.status == "live"))
    others = db.session.scalar(select(func.count(Market.id)).where(Market.status != "live"))
    assert live == 11 and 24 <= others <= 60
    assert 2000 <= db.session.scalar(select(func.count(Merchant.id))) <= 2200
    assert {u.role for u in db.session.scalars(select(User))} == {
        "admin",
        "manager",
        "helper",
        "merchant",
    }
    # Every demo record is well-formed: phones, holders, real NAPAS BINs, valid payloads.
    for merchant in db.session.scalars(select(Merchant).limit(300)):
        assert values.normalize_phone(merchant.phone) == merchant.phone
    for payee in db.session.scalars(select(PayeeAccount).limit(300)):
        assert bank_by_bin(payee.bank_bin) is not None
        assert values.normalize_holder_name(payee.holder_name) == payee.holder_name
        parsed = parse_payload(build_payload(payee.bank_bin, payee.account_number))
        assert parsed.account == payee.account_number
    # Running it again on a non-empty database loads nothing more.
    before = _fingerprint()
    runner.invoke(args=["seed-demo", "--if-empty"])
    assert _fingerprint() == before


def test_demo_is_deterministic(app):
    demo.load()
    first = _fingerprint()
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    for table in tables:
        db.session.execute(table.delete())
    db.session.commit()
    demo.load()
    second = _fingerprint()
    assert first[0] == second[0] and first[1] == second[1]
    assert first[2] == second[2] and first[3] == second[3]


def test_the_demo_is_a_shell_command_the_app_does_not_import():
    """`flask seed-demo` is registered where the app is assembled, and the demo module (which
    spans every domain) is imported only when the command runs."""
    code = (
        "import sys\n"
        "from market.app import create_app\n"
        "app = create_app({'ENV': 'testing', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
        "assert 'seed-demo' in app.cli.list_commands(None), app.cli.list_commands(None)\n"
        "assert 'market.demo' not in sys.modules\n"
        "from market.markets import cli\n"
        "assert not hasattr(cli, 'demo')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_demo_payees_follow_the_four_eyes_rule(app):
    """No demo account was verified by whoever entered it; in Chợ Đồng Quang the helper
    entered them and the manager (quanly) verifies, elsewhere the province does; the pending
    ones of Chợ Đồng Quang are there for quanly to verify."""
    from market.merchants import services

    demo.load()
    users = {u.username: u for u in db.session.scalars(select(User))}
    verified = db.session.execute(
        select(PayeeAccount.created_by_id, PayeeAccount.verified_by_id).where(
            PayeeAccount.verified_at.is_not(None)
        )
    ).all()
    assert verified and all(creator != verifier for creator, verifier in verified)
    assert {verifier for _c, verifier in verified} == {users["quanly"].id, users["admin"].id}
    pending = db.session.scalars(
        select(PayeeAccount)
        .join(Stall, Stall.id == PayeeAccount.stall_id)
        .join(Market, Market.id == Stall.market_id)
        .where(PayeeAccount.verified_at.is_(None), Market.code == "TN-DONGQUANG")
    ).all()
    assert pending
    for payee in pending:
        assert payee.created_by_id == users["hotro"].id
        assert services.verify_refusal(users["quanly"], payee) is None
    elsewhere = db.session.scalars(
        select(PayeeAccount)
        .join(Stall, Stall.id == PayeeAccount.stall_id)
        .join(Market, Market.id == Stall.market_id)
        .where(PayeeAccount.verified_at.is_(None), Market.code == "TN-CHOTHAI")
    ).all()
    for payee in elsewhere:
        assert services.verify_refusal(users["quanly"], payee).kind == "created"
        assert services.verify_refusal(users["admin"], payee) is None
