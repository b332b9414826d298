"""Money while a payee change waits for its second manager (both databases).

The verified account, still printed on the sticker, keeps paying the stall; money sent to
the new, not yet verified account is held for review (unmatched), never credited."""

from sqlalchemy import select

from market.extensions import db
from market.markets.models import Stall
from market.merchants import services as merchant_services
from market.merchants.models import PayeeAccount
from market.payments.models import CollectOrder, PaymentNotification
from tests.payments.conftest import post_sepay, sepay_body

OLD = "0011001234567"  # stall A's verified account (tests.conftest.World)
NEW = "0451000999888"


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(PaymentNotification).order_by(PaymentNotification.id)).all()


def _change_payee(world):
    payee = merchant_services.set_payee(
        world.users["manager"],
        world.stall_a,
        bank_bin="970436",
        account_number=NEW,
        service="account",
        holder_name="NGUYEN THI HOA",
    )
    assert payee is not None and not payee.verified
    return payee


def test_the_verified_account_keeps_paying_while_a_change_is_pending(world, integrations, client):
    _change_payee(world)
    assert post_sepay(client, sepay_body(5001, account=OLD, amount=30_000)).status_code == 200
    [row] = _rows()
    assert (row.match_status, row.stall_id) == ("matched", world.stall_a.id)


def test_money_to_the_pending_account_is_held_not_credited(world, integrations, client):
    _change_payee(world)
    assert post_sepay(client, sepay_body(5002, account=NEW, amount=30_000)).status_code == 200
    [row] = _rows()
    assert (row.match_status, row.stall_id) == ("unmatched", None)


def test_a_pending_account_naming_an_order_does_not_credit_it(world, integrations, client):
    _change_payee(world)
    order = CollectOrder(stall_id=world.stall_a.id, reference="A01 ZZ99", amount=30_000)
    db.session.add(order)
    db.session.commit()
    body = sepay_body(5003, account=NEW, amount=30_000, content="A01ZZ99")
    assert post_sepay(client, body).status_code == 200
    [row] = _rows()
    assert (row.match_status, row.stall_id, row.order_id) == ("unmatched", None, None)
    assert db.session.get(CollectOrder, order.id).status == "pending"
    # The same order paid to the account on the sticker is credited.
    body = sepay_body(5004, account=OLD, amount=30_000, content="A01ZZ99")
    assert post_sepay(client, body).status_code == 200
    assert _rows()[-1].order_id == order.id
    assert db.session.get(CollectOrder, order.id).status == "paid"


def test_once_verified_the_new_account_pays_and_the_old_one_no_longer(world, integrations, client):
    payee = _change_payee(world)
    merchant_services.verify_payee(world.users["manager2"], payee)
    assert post_sepay(client, sepay_body(5005, account=NEW)).status_code == 200
    assert post_sepay(client, sepay_body(5006, account=OLD)).status_code == 200
    new, old = _rows()
    assert (new.match_status, new.stall_id) == ("matched", world.stall_a.id)
    assert (old.match_status, old.stall_id) == ("unmatched", None)


def test_a_first_payee_not_yet_verified_pays_no_stall(world, integrations, client):
    stall = Stall(market_id=world.market_a.id, code="A-09", status="active")
    db.session.add(stall)
    db.session.flush()
    db.session.add(
        PayeeAccount(
            stall_id=stall.id, bank_bin="970436", account_number="0011009999999", holder_name="X"
        )
    )
    db.session.commit()
    assert post_sepay(client, sepay_body(5007, account="0011009999999")).status_code == 200
    [row] = _rows()
    assert (row.match_status, row.stall_id) == ("unmatched", None)
