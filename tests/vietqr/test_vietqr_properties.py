"""Property tests: round trips, and that no single-character change gets through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from market.vietqr import VietQRError, all_banks, bank_by_bin, build_payload, parse_payload
from market.vietqr.crc import crc_hex
from market.vietqr.payload import _Issues, _parse_canonical, _parse_tlv

SETTINGS = settings(max_examples=300, deadline=None, database=None)

DIGITS = "0123456789"
ALNUM = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PRINTABLE_ASCII = "".join(chr(code) for code in range(0x20, 0x7F))
HEX_LETTERS = set("ABCDEF")

known_bins = st.sampled_from([bank.bin for bank in all_banks()])
any_bins = st.text(DIGITS, min_size=6, max_size=6)
amounts = st.none() | st.integers(min_value=1, max_value=10**13 - 1)


def purposes(max_size: int) -> st.SearchStrategy[str | None]:
    """Purposes as build_payload leaves them: single spaces, no outer spaces."""
    text = st.text(PRINTABLE_ASCII, min_size=1, max_size=max_size)
    return st.none() | text.map(lambda t: " ".join(t.split())).filter(bool)


@st.composite
def inputs(
    draw: st.DrawFn, bins: st.SearchStrategy[str] = known_bins, max_purpose: int = 25
) -> dict[str, Any]:
    service = draw(st.sampled_from(["account", "card"]))
    alphabet = DIGITS if service == "card" else ALNUM
    return {
        "bank_bin": draw(bins),
        "account": draw(st.text(alphabet, min_size=1, max_size=19)),
        "amount": draw(amounts),
        "purpose": draw(purposes(max_purpose)),
        "service": service,
    }


def build(fields: dict[str, Any], **options: Any) -> str:
    fields = dict(fields)
    return build_payload(fields.pop("bank_bin"), fields.pop("account"), **fields, **options)


def assert_same_fields(text: str, fields: dict[str, Any], strict: bool = True) -> None:
    qr = parse_payload(text, strict=strict)
    assert qr.bank_bin == fields["bank_bin"]
    assert qr.account == fields["account"]
    assert qr.amount == fields["amount"]
    assert qr.purpose == fields["purpose"]
    assert qr.service == fields["service"]
    assert qr.initiation == ("11" if fields["amount"] is None else "12")
    assert qr.crc == text[-4:]


@SETTINGS
@given(inputs())
def test_any_valid_input_builds_and_parses_back_to_itself(fields: dict[str, Any]) -> None:
    text = build(fields)
    assert text.isascii()
    assert_same_fields(text, fields)
    assert parse_payload(text).warnings == ()


@SETTINGS
@given(inputs(bins=any_bins, max_purpose=95))
def test_lenient_build_parses_back_with_a_warning_per_bent_rule(fields: dict[str, Any]) -> None:
    text = build(fields, strict=False)
    assert_same_fields(text, fields, strict=False)
    expected = int(bank_by_bin(fields["bank_bin"]) is None) + int(
        fields["purpose"] is not None and len(fields["purpose"]) > 25
    )
    assert len(parse_payload(text, strict=False).warnings) == expected


def mutate(text: str, position: int, char: str) -> str:
    return text[:position] + char + text[position + 1 :]


@SETTINGS
@given(inputs(), st.integers(min_value=0), st.sampled_from(list(PRINTABLE_ASCII)))
def test_any_single_printable_character_change_is_rejected(
    fields: dict[str, Any], where: int, char: str
) -> None:
    text = build(fields)
    position = where % len(text)
    assume(text[position] != char)
    with pytest.raises(VietQRError):
        parse_payload(mutate(text, position, char))


@SETTINGS
@given(
    inputs(),
    st.integers(min_value=0),
    st.characters(exclude_categories=()) | st.characters(categories=["Cs"]),
)
def test_any_single_character_change_even_to_non_ascii_is_rejected(
    fields: dict[str, Any], where: int, char: str
) -> None:
    text = build(fields)
    position = where % len(text)
    assume(text[position] != char)
    with pytest.raises(VietQRError):
        parse_payload(mutate(text, position, char))


@SETTINGS
@given(inputs(), st.integers(min_value=0), st.sampled_from(list(PRINTABLE_ASCII)))
def test_lenient_parse_rejects_every_change_but_crc_letter_case(
    fields: dict[str, Any], where: int, char: str
) -> None:
    text = build(fields)
    position = where % len(text)
    assume(text[position] != char)
    changed = mutate(text, position, char)
    if position >= len(text) - 4 and char.upper() == text[position]:
        assert parse_payload(changed, strict=False).warnings == (
            f"63 (crc): {changed[-4:]!r} must be uppercase hex",
        )
    else:
        with pytest.raises(VietQRError):
            parse_payload(changed, strict=False)


# The canonical fast path must agree with the general TLV walk. Mutating a
# payload and then fixing its CRC pushes the parser through every structural
# branch without the CRC check stopping it first.


def _general(text: str, strict: bool) -> Any:
    try:
        return _parse_tlv(text, text[-4:], _Issues(strict))
    except VietQRError as error:
        return type(error), error.field


@SETTINGS
@given(
    inputs(bins=any_bins, max_purpose=40),
    st.integers(min_value=0),
    st.sampled_from(list(PRINTABLE_ASCII)),
)
def test_fast_path_agrees_with_the_general_parser(
    fields: dict[str, Any], where: int, char: str
) -> None:
    text = build(fields, strict=False)
    body = text[:-8]
    changed = mutate(body, where % len(body), char) + "6304"
    changed += crc_hex(changed)
    for candidate in (text, changed):
        fast = _parse_canonical(candidate)
        if fast is not None:
            assert fast == _general(candidate, strict=True)
            assert fast == _general(candidate, strict=False)
            assert fast == parse_payload(candidate)


# Exhaustive over the shared vectors: every position, every printable ASCII character.

VECTORS = [
    json.loads(line)
    for line in Path(__file__).with_name("vietqr_vectors.jsonl").read_text().splitlines()
    if line
]


def crc_warning(crc: str, index: int) -> str:
    changed = crc[:index] + crc[index].lower() + crc[index + 1 :]
    return f"63 (crc): {changed!r} must be uppercase hex"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_every_single_character_change_to_a_vector_is_rejected(vector: dict[str, Any]) -> None:
    text = vector["payload"]
    strict = "purpose_over_spec_25" not in vector["tags"]
    lenient_warnings = () if strict else parse_payload(text, strict=False).warnings
    accepted = []
    for position, original in enumerate(text):
        for char in PRINTABLE_ASCII:
            if char == original:
                continue
            changed = mutate(text, position, char)
            try:
                qr = parse_payload(changed, strict=strict)
            except VietQRError:
                continue
            accepted.append((position, char, qr.warnings))
    if strict:
        assert accepted == []
    else:
        # Lenient mode accepts lowercase CRC hex, with a warning, and nothing else.
        crc = text[-4:]
        assert accepted == [
            (len(text) - 4 + i, c.lower(), (crc_warning(crc, i), *lenient_warnings))
            for i, c in enumerate(crc)
            if c in HEX_LETTERS
        ]
