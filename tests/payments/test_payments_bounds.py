"""Signed notifications with numbers no bank sends are refused (422), never a 5xx, and
store nothing (issue 17, item 8)."""

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.payments.models import PaymentNotification
from market.payments.schemas import MAX_DONG
from tests.payments.conftest import casso_body, post_casso, post_sepay, sepay_body


def _stored():
    return db.session.scalar(select(func.count(PaymentNotification.id)))


@pytest.mark.parametrize(
    "amount", [2**63, 2**64 + 5, -(2**63) - 1, MAX_DONG + 1, "9" * 30, "²", 1e300, "1" * 5000]
)
def test_sepay_amount_too_large_for_the_database_is_refused(world, integrations, client, amount):
    response = post_sepay(client, sepay_body(7001, amount=amount))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert _stored() == 0


@pytest.mark.parametrize("amount", [2**63, -(2**70)])
def test_casso_amount_too_large_for_the_database_is_refused(world, integrations, client, amount):
    assert post_casso(client, casso_body(7002, amount=amount)).status_code == 422
    assert _stored() == 0


def test_the_largest_amount_allowed_is_stored(world, integrations, client):
    assert post_sepay(client, sepay_body(7003, amount=MAX_DONG)).status_code == 200
    assert _stored() == 1
