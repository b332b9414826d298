"""A bill paid by a signed bank notification into the board's account: whole, in two parts,
overpaid; the same notification twice; a transfer naming no bill stays for a person."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.fees import queries as fee_queries
from market.fees.models import FeeBill, FeePayment, FeeReceipt
from market.fees.money import queries, services
from market.fees.values import parse_period
from market.payments.models import PaymentNotification
from tests.fees.moneyworld import BOARD_ACCOUNT, bill, board_account
from tests.payments.conftest import integrations, post_sepay, sepay_body  # noqa: F401

# The signed webhooks' secrets (tests/payments/conftest.py).
pytestmark = pytest.mark.usefixtures("integrations")


def _pay(client, event_id, amount, content):
    body = sepay_body(event_id, amount=amount, account=BOARD_ACCOUNT, content=content)
    response = post_sepay(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _status(made: FeeBill) -> str:
    db.session.expire_all()
    return db.session.get(FeeBill, made.id).status


def test_a_notification_naming_the_bill_pays_it_with_a_receipt(world, client):
    board_account(world)
    made = bill(world, total=500_000)
    _pay(client, 5001, 500_000, "NGUYEN THI HOA chuyen tien phi thang 3 CPAB23CD45")
    assert _status(made) == "paid"
    payment, receipt = queries.bill_payments(made)[0]
    assert (payment.amount, payment.method) == (500_000, "transfer")
    assert receipt.number.startswith("PT") and receipt.seq == 1
    notification = db.session.get(PaymentNotification, payment.notification_id)
    # Not a stall's sale, and not left on the unmatched list.
    assert notification.match_status == "ignored"
    assert notification.stall_id is None


def test_two_parts_leave_then_clear_a_balance(world, client):
    board_account(world)
    made = bill(world, total=500_000)
    _pay(client, 5011, 200_000, "cp-ab23 cd45 lan 1")  # banks mangle the content
    assert _status(made) == "partial"
    assert fee_queries.owed([made])[made.id].due == 300_000
    _pay(client, 5012, 300_000, "PHI CPAB23CD45")
    assert _status(made) == "paid"
    receipts = db.session.scalars(select(FeeReceipt.seq).order_by(FeeReceipt.seq)).all()
    assert receipts == [1, 2]


def test_an_overpayment_is_a_credit_for_the_next_bill(world, client):
    board_account(world)
    made = bill(world, total=500_000)
    _pay(client, 5021, 650_000, "CPAB23CD45")
    assert _status(made) == "paid"
    assert fee_queries.owed([made])[made.id].excess == 150_000
    # The billing carries it into the stall's next bill (market.fees.queries).
    april, march = parse_period("2026-04"), parse_period("2026-03")
    assert fee_queries.credit_balances(world.market_a.id, april, [world.stall_a.id]) == {
        world.stall_a.id: 150_000
    }
    assert fee_queries.credit_balances(world.market_a.id, march, [world.stall_a.id]) == {}


def test_the_same_notification_twice_is_one_payment(world, client):
    board_account(world)
    made = bill(world, total=500_000)
    _pay(client, 5031, 100_000, "CPAB23CD45")
    _pay(client, 5031, 100_000, "CPAB23CD45")
    # And reconciling it again by hand changes nothing either.
    notification_id = db.session.scalar(select(PaymentNotification.id))
    assert services.reconcile_notification(notification_id).payment_id is None
    assert db.session.scalar(select(func.count()).select_from(FeePayment)) == 1
    assert fee_queries.owed([made])[made.id].paid == 100_000


def test_a_transfer_without_a_usable_reference_waits_on_the_unmatched_list(world, client):
    board_account(world)
    made = bill(world, total=500_000)
    _pay(client, 5041, 500_000, "tien phi cho thang 3")
    assert _status(made) == "open"
    notification = db.session.scalar(select(PaymentNotification))
    assert notification.match_status == "unmatched"
    assert db.session.scalar(select(func.count()).select_from(FeePayment)) == 0


@pytest.mark.parametrize("account", ["0011001234567", "999999999"])
def test_other_accounts_never_pay_a_bill(world, client, account):
    # Market A's stall payee (a sale) and an unknown account: the reference is not enough.
    board_account(world)
    made = bill(world, total=500_000)
    body = sepay_body(5051, amount=500_000, account=account, content="CPAB23CD45")
    assert post_sepay(client, body).status_code == 200
    assert _status(made) == "open"


def test_a_bill_of_another_market_is_not_paid_into_this_board(world, client):
    board_account(world)
    other = bill(world, stall=world.stall_b, reference="CPZZ23CD45")
    _pay(client, 5061, 500_000, "CPZZ23CD45")
    assert _status(other) == "open"


def test_fees_reconcile_picks_up_a_transfer_that_came_before_its_bill(world, client, runner):
    board_account(world)
    _pay(client, 5071, 500_000, "CPAB23CD45")  # the bill is issued after the transfer
    made = bill(world, total=500_000)
    assert _status(made) == "open"
    result = runner.invoke(args=["fees-reconcile", "--market", "TN-A"])
    assert result.exit_code == 0, result.output
    assert '"payments": 1' in result.output
    assert _status(made) == "paid"
    again = runner.invoke(args=["fees-reconcile"])
    assert '"payments": 0' in again.output


def test_fees_import_statement_command(world, runner, tmp_path):
    from tests.fees.test_fees_statement_import import _file

    board_account(world)
    made = bill(world, reference="CPHH23CD47", total=600_000, period="2026-02")
    path = tmp_path / "saoke.xlsx"
    path.write_bytes(_file("vcb_saoke.xlsx"))
    args = ["fees-import-statement", "--market", "TN-A", "--user", "manager", str(path)]
    dry = runner.invoke(args=args)
    assert dry.exit_code == 0 and '"new": 1' in dry.output and _status(made) == "open"
    applied = runner.invoke(args=[*args, "--apply"])
    assert applied.exit_code == 0, applied.output
    assert _status(made) == "paid"


def test_the_stall_review_list_leaves_board_transfers_to_the_board(world, client):
    from market.payments import queries as payment_queries

    board_account(world)
    _pay(client, 5081, 500_000, "tien phi cho thang 3")  # no reference: unmatched
    assert payment_queries.unmatched_for(world.users["admin"]) == []
    assert [n.event_id for n in queries.board_unmatched(world.market_a)] == ["5081"]
