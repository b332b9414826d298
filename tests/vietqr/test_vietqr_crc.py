"""CRC-16/CCITT-FALSE: the catalogue check value and a bit-by-bit reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from market.vietqr import crc16_ccitt_false
from market.vietqr.crc import crc_hex


def reference_crc(data: bytes) -> int:
    """Poly 0x1021, init 0xFFFF, no reflection, no final XOR, one bit at a time."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_check_value_of_123456789_is_29b1() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_str_input_is_encoded_as_utf8() -> None:
    assert crc16_ccitt_false("123456789") == 0x29B1
    assert crc16_ccitt_false("Đà") == crc16_ccitt_false("Đà".encode())


def test_empty_input_gives_the_initial_value() -> None:
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_crc_can_be_continued_across_chunks() -> None:
    head = crc16_ccitt_false(b"12345")
    assert crc16_ccitt_false(b"6789", head) == 0x29B1


def test_crc_hex_is_four_uppercase_digits_zero_padded() -> None:
    assert reference_crc(b",") < 0x1000
    assert crc_hex(",") == f"{reference_crc(b','):04X}"
    assert crc_hex(",").startswith("0")
    assert crc_hex("123456789") == "29B1"


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_matches_the_bitwise_reference(data: bytes) -> None:
    assert crc16_ccitt_false(data) == reference_crc(data)
