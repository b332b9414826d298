"""EMVCo TLV encoding and decoding."""

from __future__ import annotations

import pytest

from market.vietqr import LengthError, TLVError
from market.vietqr.tlv import decode, encode


def test_encode_writes_a_two_digit_decimal_length() -> None:
    assert encode("58", "VN") == "5802VN"
    assert encode("62", "x" * 99) == "6299" + "x" * 99
    assert encode("08", "Tien rau") == "0808Tien rau"


@pytest.mark.parametrize("value", ["", "x" * 100])
def test_encode_refuses_values_that_do_not_fit_two_digits(value: str) -> None:
    with pytest.raises(LengthError) as caught:
        encode("62", value)
    assert caught.value.field == "62"


@pytest.mark.parametrize("tag", ["5", "A1", "123", "٥٨"])
def test_encode_refuses_a_tag_that_is_not_two_ascii_digits(tag: str) -> None:
    with pytest.raises(TLVError):
        encode(tag, "x")


def test_decode_splits_in_order_and_names_nested_paths() -> None:
    assert decode("0010A0000007270102AB") == [("00", "A000000727"), ("01", "AB")]
    assert decode("5802VN5303704") == [("58", "VN"), ("53", "704")]
    assert decode("0006970436", "38.01") == [("38.01.00", "970436")]
    assert decode("") == []


@pytest.mark.parametrize(
    ("text", "error", "field"),
    [
        ("5802V", LengthError, "58"),  # value shorter than its length
        ("5802VN63", TLVError, "payload"),  # 2 trailing characters
        ("5802VN630", TLVError, "payload"),  # 3 trailing characters
        ("AB02VN", TLVError, "payload"),  # letters for a tag
        ("58XXVN", TLVError, "58"),  # letters for a length
        ("58٠٢VN", TLVError, "58"),  # Arabic-Indic digits are not ASCII digits
        ("5800", LengthError, "58"),  # EMVCo lengths are 01-99
        ("58 2VN", TLVError, "58"),
    ],
)
def test_decode_rejects_broken_structure(text: str, error: type[Exception], field: str) -> None:
    with pytest.raises(error) as caught:
        decode(text)
    assert caught.value.field == field  # type: ignore[attr-defined]


def test_decode_errors_inside_a_template_name_the_nested_path() -> None:
    with pytest.raises(LengthError) as caught:
        decode("0807KIOT22", "62")
    assert caught.value.field == "62.08"
    with pytest.raises(TLVError) as caught_tlv:
        decode("0806KIOT22X", "62")
    assert caught_tlv.value.field == "62"
    assert caught_tlv.value.value == "X"
