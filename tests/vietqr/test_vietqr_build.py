"""build_payload: input validation and purpose handling."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from market.vietqr import (
    FieldError,
    LengthError,
    UnknownBankError,
    VietQRError,
    build_payload,
    parse_payload,
)

BIN = "970436"
ACCOUNT = "0123456789"


def build(**overrides: Any) -> str:
    arguments: dict[str, Any] = {"bank_bin": BIN, "account": ACCOUNT, **overrides}
    return build_payload(arguments.pop("bank_bin"), arguments.pop("account"), **arguments)


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        # BIN: a str of exactly 6 ASCII digits, in the NAPAS list when strict
        ({"bank_bin": "97043"}, FieldError, "38.01.00"),
        ({"bank_bin": "9704366"}, FieldError, "38.01.00"),
        ({"bank_bin": "97043a"}, FieldError, "38.01.00"),
        ({"bank_bin": "９７０４３６"}, FieldError, "38.01.00"),
        ({"bank_bin": 970436}, FieldError, "38.01.00"),
        ({"bank_bin": "999999"}, UnknownBankError, "38.01.00"),
        # account: 1-19 ASCII letters or digits
        ({"account": ""}, LengthError, "38.01.01"),
        ({"account": "1" * 20}, LengthError, "38.01.01"),
        ({"account": "0123-456"}, FieldError, "38.01.01"),
        ({"account": "0123 456"}, FieldError, "38.01.01"),
        ({"account": "012345٦"}, FieldError, "38.01.01"),
        ({"account": "Đ123"}, FieldError, "38.01.01"),
        ({"account": 123456}, FieldError, "38.01.01"),
        # card: 1-19 digits
        ({"account": "9704ABCD", "service": "card"}, FieldError, "38.01.01"),
        ({"account": "9" * 20, "service": "card"}, LengthError, "38.01.01"),
        ({"service": "wallet"}, FieldError, "service"),
        ({"service": None}, FieldError, "service"),
        # amount: a positive int of dong, at most 13 digits
        ({"amount": 0}, FieldError, "54"),
        ({"amount": -1000}, FieldError, "54"),
        ({"amount": True}, FieldError, "54"),
        ({"amount": 1000.0}, FieldError, "54"),
        ({"amount": 1.5}, FieldError, "54"),
        ({"amount": Decimal(1000)}, FieldError, "54"),
        ({"amount": "1000"}, FieldError, "54"),
        ({"amount": "1,000"}, FieldError, "54"),
        ({"amount": "1.000"}, FieldError, "54"),
        ({"amount": "10.000 đ"}, FieldError, "54"),
        ({"amount": 10**13}, LengthError, "54"),
        # purpose: 1-25 printable ASCII characters after transliteration
        ({"purpose": ""}, FieldError, "62.08"),
        ({"purpose": " \t\n "}, FieldError, "62.08"),
        ({"purpose": "x" * 26}, LengthError, "62.08"),
        ({"purpose": "Tiền rau muống chợ Đà Lạt sáng"}, LengthError, "62.08"),
        ({"purpose": "Giá 100€"}, FieldError, "62.08"),
        ({"purpose": "Bún 🍜"}, FieldError, "62.08"),
        ({"purpose": "bell\x07"}, FieldError, "62.08"),
        ({"purpose": "del\x7f"}, FieldError, "62.08"),
        ({"purpose": 42}, FieldError, "62.08"),
        ({"purpose": "x" * 96, "strict": False}, LengthError, "62.08"),
    ],
)
def test_bad_input_raises_a_typed_error_naming_the_field(
    overrides: dict[str, Any], error: type[VietQRError], field: str
) -> None:
    with pytest.raises(error) as caught:
        build(**overrides)
    assert type(caught.value) is error
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(field)


def test_error_message_names_the_field_and_quotes_the_value() -> None:
    with pytest.raises(FieldError) as caught:
        build(amount="1,000")
    assert str(caught.value) == "54 (amount): '1,000' is not a whole number of dong"
    assert caught.value.value == "1,000"


def test_purpose_error_quotes_the_offending_character() -> None:
    with pytest.raises(FieldError, match="'€'"):
        build(purpose="Giá 100€")


def test_unknown_bin_builds_when_not_strict() -> None:
    payload = build(bank_bin="999999", strict=False)
    qr = parse_payload(payload, strict=False)
    assert qr.bank_bin == "999999"
    assert qr.bank is None
    assert len(qr.warnings) == 1


def test_largest_13_digit_amount_builds() -> None:
    payload = build(amount=9_999_999_999_999)
    assert "54139999999999999" in payload
    assert parse_payload(payload).amount == 9_999_999_999_999


def test_static_code_has_no_amount_and_dynamic_code_has_one() -> None:
    static, dynamic = build(), build(amount=1)
    assert static[10:12] == "11"
    assert "53037045802VN" in static
    assert dynamic[10:12] == "12"
    assert "5303704540115802VN" in dynamic


def test_vietnamese_purpose_is_sent_without_diacritics() -> None:
    payload = build(amount=25000, purpose="Trả tiền rau Đà Lạt")
    assert payload.isascii()
    assert payload == build(amount=25000, purpose="Tra tien rau Da Lat")
    assert parse_payload(payload).purpose == "Tra tien rau Da Lat"


def test_purpose_whitespace_is_collapsed_and_stripped() -> None:
    assert parse_payload(build(purpose="  Rau\t\n  muong  ")).purpose == "Rau muong"


def test_purpose_keeps_printable_ascii_punctuation() -> None:
    purpose = "don#15 a/b_c-d ~{}|`'\"!"
    assert parse_payload(build(purpose=purpose)).purpose == purpose


def test_truncate_cuts_at_25_and_strips_the_trailing_space() -> None:
    purpose = "Tien rau muong cho Dalat sang nay"
    assert purpose[24] == " "
    qr = parse_payload(build(purpose=purpose, truncate=True))
    assert qr.purpose == "Tien rau muong cho Dalat"


def test_truncate_works_on_the_transliterated_text() -> None:
    qr = parse_payload(build(purpose="Tiền rau muống chợ Đà Lạt sáng", truncate=True))
    assert qr.purpose == "Tien rau muong cho Da Lat"


def test_truncate_leaves_a_short_purpose_alone() -> None:
    assert build(purpose="Rau", truncate=True) == build(purpose="Rau")


def test_lenient_build_allows_up_to_95_purpose_characters() -> None:
    qr = parse_payload(build(purpose="x" * 95, strict=False), strict=False)
    assert qr.purpose == "x" * 95


def test_card_service_writes_qribfttc() -> None:
    payload = build(account="9704366614528", service="card")
    assert "0208QRIBFTTC" in payload
    assert parse_payload(payload).service == "card"


def test_account_may_contain_ascii_letters() -> None:
    assert parse_payload(build(account="CHOBENTHANH01")).account == "CHOBENTHANH01"
