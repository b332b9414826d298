"""Order references: what the database's matching rule assumes of them; a notification's
time, as the providers write it."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from market.payments.schemas import _DATETIME_FORMATS, VN_TZ, vietnam_time
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


# --- the notification's time --------------------------------------------------------------------


def _by_strptime(text: str) -> datetime | None:
    """What vietnam_time gave before its fast path: the formats, tried in turn by strptime."""
    for fmt in _DATETIME_FORMATS:
        try:
            local = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=VN_TZ).astimezone(UTC)
    return None


@given(st.datetimes(min_value=datetime(1900, 1, 1)), st.sampled_from(_DATETIME_FORMATS))
def test_a_providers_time_reads_as_strptime_reads_it(moment, fmt):
    text = moment.strftime(fmt)
    assert vietnam_time(text) == _by_strptime(text)
    assert vietnam_time(text).tzinfo is UTC


@given(st.text(alphabet="0123456789-: T+Z.", max_size=26))
def test_anything_else_reads_as_strptime_reads_it(text):
    # Offsets, fractions, hours alone, out-of-range fields: the fast path takes only the
    # exact form, so what it does not take gets the same answer as before (often none).
    assert vietnam_time(text) == _by_strptime(text)


def test_a_providers_time_is_vietnam_time():
    assert vietnam_time("2023-03-25 14:02:37") == datetime(2023, 3, 25, 7, 2, 37, tzinfo=UTC)
    assert vietnam_time("2023-03-25 14+07:00") is None
    assert vietnam_time("2023-13-25 14:02:37") is None
    assert vietnam_time("") is None
