"""Order references: what the database's matching rule assumes of them."""

from hypothesis import given
from hypothesis import strategies as st

from market.payments.values import MAX_REFERENCE_LENGTH, new_reference, squeeze


@given(st.text(max_size=40))
def test_a_reference_squeezes_by_dropping_its_one_space(stall_code):
    # The matching SQL (market/payments/queries.py) squeezes a stored reference with
    # replace(reference, ' ', ''), the way values.squeeze() squeezes a transfer's content;
    # that is only the same thing because a reference has nothing else to squeeze.
    reference = new_reference(stall_code)
    assert squeeze(reference) == reference.replace(" ", "")
    assert reference.count(" ") == 1
    assert reference.isascii() and len(reference) <= MAX_REFERENCE_LENGTH
