"""parse_payload: strict validation, lenient warnings, and the error table."""

from __future__ import annotations

import pickle

import pytest

from market.vietqr import (
    CRCError,
    FieldError,
    LengthError,
    MissingFieldError,
    TLVError,
    UnknownBankError,
    VietQR,
    VietQRError,
    build_payload,
    parse_payload,
)
from market.vietqr.crc import crc_hex

VALID = build_payload("970436", "0123456789", amount=25000, purpose="Rau muong")


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    body += "6304"
    return body + crc_hex(body)


def merchant(
    bank_bin: str = "970436",
    account: str = "0123456789",
    *,
    guid: str = "A000000727",
    service: str | None = "QRIBFTTA",
    extra: str = "",
    beneficiary_extra: str = "",
) -> str:
    beneficiary = tlv("00", bank_bin) + tlv("01", account) + beneficiary_extra
    text = tlv("00", guid) + tlv("01", beneficiary)
    if service is not None:
        text += tlv("02", service)
    return text + extra


DEFAULT = {
    "00": "01",
    "01": "12",
    "38": merchant(),
    "53": "704",
    "54": "25000",
    "58": "VN",
    "62": tlv("08", "Rau muong"),
}


def make(changes: dict[str, str | None] | None = None, order: list[str] | None = None) -> str:
    """A payload with a correct CRC: the defaults with ``changes`` (None drops a tag)."""
    fields = {**DEFAULT, **(changes or {})}
    present = {tag: value for tag, value in fields.items() if value is not None}
    tags = order if order is not None else sorted(present)
    return with_crc("".join(tlv(tag, present[tag]) for tag in tags))


def test_helpers_reproduce_the_built_payload() -> None:
    assert make() == VALID


def _crc_inside_62() -> str:
    """A payload whose text ends in '6304' + CRC, but inside tag 62's value."""
    head = make()[:-8].replace("62130809Rau muong", "") + "62150811abc6304"
    return head + crc_hex(head)


CRC_INSIDE_62 = _crc_inside_62()

BAD = [
    # CRC
    pytest.param(VALID[:-1] + "7", CRCError, "63", id="crc-mismatch"),
    pytest.param(VALID[:-4] + VALID[-4:].lower(), CRCError, "63", id="crc-lowercase"),
    pytest.param(VALID[:-4] + "12G4", CRCError, "63", id="crc-not-hex"),
    pytest.param(VALID[:-4] + "+1AB", CRCError, "63", id="crc-sign"),
    pytest.param(VALID[:-8], CRCError, "63", id="crc-missing"),
    pytest.param(VALID[:-10], CRCError, "63", id="truncated"),
    pytest.param(VALID + "X", CRCError, "63", id="garbage-after-crc"),
    pytest.param(VALID + "\n", CRCError, "63", id="newline-after-crc"),
    pytest.param("", CRCError, "63", id="empty"),
    pytest.param(VALID.replace("Rau", "rau"), CRCError, "63", id="case-change"),
    # TLV structure
    pytest.param(with_crc(VALID[:-8] + "1"), LengthError, "16", id="garbage-before-crc"),
    pytest.param(with_crc(VALID[:-8] + "99"), LengthError, "99", id="garbage-tag-before-crc"),
    pytest.param(with_crc("AB02XY" + VALID[:-8]), TLVError, "payload", id="letter-tag"),
    pytest.param(with_crc(VALID[:-8].replace("5802VN", "58VN")), TLVError, "58", id="letter-len"),
    pytest.param(make({"54": ""}), LengthError, "54", id="zero-length"),
    pytest.param(
        make(order=["00", "01", "38", "53", "54", "58", "58", "62"]),
        TLVError,
        "58",
        id="duplicate-tag",
    ),
    pytest.param(
        make(order=["00", "01", "38", "58", "53", "54", "62"]),
        TLVError,
        "53",
        id="tags-out-of-order",
    ),
    pytest.param(
        make(order=["01", "00", "38", "53", "54", "58", "62"]), TLVError, "01", id="00-not-first"
    ),
    pytest.param(CRC_INSIDE_62, TLVError, "62", id="63-not-last"),
    # nested lengths
    pytest.param(
        with_crc(VALID[:-8].replace("62130809", "62130810")),
        LengthError,
        "62.08",
        id="purpose-length-too-long",
    ),
    pytest.param(
        with_crc(VALID[:-8].replace("62130809", "62130808")),
        TLVError,
        "62",
        id="purpose-length-too-short",
    ),
    # (a wrong length shifts every later tag; the error is where the walk breaks)
    pytest.param(
        with_crc(VALID[:-8].replace("3854", "3855")),
        TLVError,
        "payload",
        id="merchant-length-too-long",
    ),
    pytest.param(
        with_crc(VALID[:-8].replace("01240006", "01250006")),
        TLVError,
        "38.20",
        id="beneficiary-length-too-long",
    ),
    pytest.param(
        with_crc(VALID[:-8].replace("01240006", "01230006")),
        LengthError,
        "38.90",
        id="beneficiary-length-too-short",
    ),
    pytest.param(
        with_crc(VALID[:-8].replace("01100123456789", "01110123456789")),
        LengthError,
        "38.01.01",
        id="account-length-too-long",
    ),
    # fields we own
    pytest.param(make({"00": "02"}), FieldError, "00", id="format-02"),
    pytest.param(make({"01": "13"}), FieldError, "01", id="initiation-13"),
    pytest.param(make({"01": None}), MissingFieldError, "01", id="initiation-missing"),
    pytest.param(make({"01": "11"}), FieldError, "01", id="static-with-amount"),
    pytest.param(make({"54": None}), MissingFieldError, "54", id="dynamic-without-amount"),
    pytest.param(make({"38": None}), MissingFieldError, "38", id="merchant-missing"),
    pytest.param(make({"38": merchant(guid="A000000728")}), FieldError, "38.00", id="guid"),
    pytest.param(make({"38": merchant(guid="a000000727")}), FieldError, "38.00", id="guid-case"),
    pytest.param(make({"38": merchant("97043")}), FieldError, "38.01.00", id="bin-5"),
    pytest.param(make({"38": merchant("97043X")}), FieldError, "38.01.00", id="bin-letter"),
    pytest.param(make({"38": merchant("999999")}), UnknownBankError, "38.01.00", id="bin-unknown"),
    pytest.param(
        make({"38": merchant(account="1" * 20)}), LengthError, "38.01.01", id="account-20"
    ),
    pytest.param(
        make({"38": merchant(account="0123-4567")}), FieldError, "38.01.01", id="account-dash"
    ),
    pytest.param(
        make({"38": merchant(account="01234 567")}), FieldError, "38.01.01", id="account-space"
    ),
    pytest.param(
        make({"38": merchant(account="9704ABC", service="QRIBFTTC")}),
        FieldError,
        "38.01.01",
        id="card-letters",
    ),
    pytest.param(make({"38": merchant(service="QRPUSH")}), FieldError, "38.02", id="service"),
    pytest.param(
        make({"38": merchant(service=None)}), MissingFieldError, "38.02", id="service-missing"
    ),
    pytest.param(make({"53": "840"}), FieldError, "53", id="currency-usd"),
    pytest.param(make({"53": None}), MissingFieldError, "53", id="currency-missing"),
    pytest.param(make({"58": "US"}), FieldError, "58", id="country-us"),
    pytest.param(make({"58": None}), MissingFieldError, "58", id="country-missing"),
    pytest.param(make({"54": "1,000"}), FieldError, "54", id="amount-comma"),
    pytest.param(make({"54": "1.000"}), FieldError, "54", id="amount-dot"),
    pytest.param(make({"54": "1000.00"}), FieldError, "54", id="amount-decimals"),
    pytest.param(make({"54": "01000"}), FieldError, "54", id="amount-leading-zero"),
    pytest.param(make({"54": "0"}), FieldError, "54", id="amount-zero"),
    pytest.param(make({"54": "000"}), FieldError, "54", id="amount-zeros"),
    pytest.param(make({"54": "-5000"}), FieldError, "54", id="amount-negative"),
    pytest.param(make({"54": " 5000"}), FieldError, "54", id="amount-space"),
    pytest.param(make({"54": "５０００"}), FieldError, "54", id="amount-fullwidth"),
    pytest.param(make({"54": "1" * 14}), LengthError, "54", id="amount-14-digits"),
    pytest.param(make({"62": tlv("08", "x" * 26)}), LengthError, "62.08", id="purpose-26"),
    pytest.param(make({"62": tlv("08", "Rau muống")}), FieldError, "62.08", id="purpose-diacritic"),
    pytest.param(make({"62": tlv("08", "Rau\tmuong")}), FieldError, "62.08", id="purpose-tab"),
    # tags VietQR does not use
    pytest.param(make({"59": "CO BA BAN RAU"}), FieldError, "59", id="extra-59"),
    pytest.param(make({"26": tlv("00", "A000000775")}), FieldError, "26", id="extra-26"),
    pytest.param(
        make({"62": tlv("05", "REF1") + tlv("08", "Rau")}), FieldError, "62.05", id="extra-62.05"
    ),
    pytest.param(
        make({"38": merchant(extra=tlv("03", "X"))}), FieldError, "38.03", id="extra-38.03"
    ),
    pytest.param(
        make({"38": merchant(beneficiary_extra=tlv("02", "X"))}),
        FieldError,
        "38.01.02",
        id="extra-38.01.02",
    ),
    # the text as a whole
    pytest.param(with_crc("5802VN" * 90), LengthError, "payload", id="over-512"),
]


@pytest.mark.parametrize(("text", "error", "field"), BAD)
def test_bad_payload_raises_a_typed_error_naming_the_field(
    text: str, error: type[VietQRError], field: str
) -> None:
    with pytest.raises(error) as caught:
        parse_payload(text)
    assert type(caught.value) is error
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("char", ["\ud800", "\udfff", "\x00", "\u00e9", "\U0001f35c"])
def test_odd_characters_raise_vietqr_errors_only(char: str, strict: bool) -> None:
    for position in range(len(VALID)):
        with pytest.raises(VietQRError):
            parse_payload(VALID[:position] + char + VALID[position + 1 :], strict=strict)
    with pytest.raises(VietQRError):
        parse_payload(VALID.replace("Rau", "R" + char), strict=strict)


@pytest.mark.parametrize("value", [b"000201", None, 42])
def test_non_str_input_is_a_field_error(value: object) -> None:
    with pytest.raises(FieldError) as caught:
        parse_payload(value)  # type: ignore[arg-type]
    assert caught.value.field == "payload"


def test_message_names_the_field_and_quotes_the_bad_value() -> None:
    with pytest.raises(FieldError) as caught:
        parse_payload(make({"54": "1,000"}))
    assert str(caught.value) == "54 (amount): '1,000' is not a whole number of dong"
    assert caught.value.value == "1,000"


def test_crc_mismatch_message_gives_the_computed_value() -> None:
    with pytest.raises(CRCError, match=r"^63 \(crc\): '.{4}' does not match the payload "):
        parse_payload(VALID[:-1] + "0")


def test_errors_survive_pickling() -> None:
    with pytest.raises(VietQRError) as caught:
        parse_payload(make({"54": "1,000"}))
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert type(copy) is FieldError
    assert (copy.field, copy.value, str(copy)) == ("54", "1,000", str(caught.value))


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(LengthError) as caught:
        parse_payload(with_crc("5802VN" * 90))
    assert "... (" in str(caught.value)
    assert len(str(caught.value)) < 200


# --- lenient mode -------------------------------------------------------------

LENIENT = [
    pytest.param(VALID[:-4] + VALID[-4:].lower(), "63", id="crc-lowercase"),
    pytest.param(make({"38": merchant("999999")}), "38.01.00", id="bin-unknown"),
    pytest.param(make({"62": tlv("08", "x" * 26)}), "62.08", id="purpose-26"),
    pytest.param(make({"62": tlv("08", "Rau muống")}), "62.08", id="purpose-diacritic"),
    pytest.param(make({"01": "11"}), "01", id="static-with-amount"),
    pytest.param(make({"54": None}), "54", id="dynamic-without-amount"),
    pytest.param(make(order=["00", "01", "38", "58", "53", "54", "62"]), "53", id="order"),
    pytest.param(" " + VALID + "\r\n", "payload", id="whitespace"),
    pytest.param(make({"59": "CO BA BAN RAU", "60": "HA NOI"}), "59", id="extra-59-60"),
    pytest.param(make({"62": tlv("05", "REF1") + tlv("08", "Rau")}), "62.05", id="extra-62.05"),
    pytest.param(make({"38": merchant(extra=tlv("03", "X"))}), "38.03", id="extra-38.03"),
]


@pytest.mark.parametrize(("text", "field"), LENIENT)
def test_lenient_parse_turns_tolerable_problems_into_warnings(text: str, field: str) -> None:
    with pytest.raises(VietQRError) as caught:
        parse_payload(text)
    qr = parse_payload(text, strict=False)
    assert qr.warnings
    assert qr.warnings[0].startswith(field)
    assert str(caught.value) == qr.warnings[0] or field == "payload"
    assert qr.bank_bin in {"970436", "999999"}
    assert qr.account == "0123456789"


def test_lenient_parse_keeps_unused_tags_in_extra() -> None:
    qr = parse_payload(
        make({"59": "CO BA BAN RAU", "62": tlv("05", "REF1") + tlv("08", "Rau")}), strict=False
    )
    assert qr.extra == (("62.05", "REF1"), ("59", "CO BA BAN RAU"))
    assert qr.purpose == "Rau"
    assert len(qr.warnings) == 2


def test_lenient_parse_reports_every_problem() -> None:
    text = make({"01": "11", "38": merchant("999999"), "62": tlv("08", "x" * 30)})
    qr = parse_payload(text, strict=False)
    assert [w.split(" ", 1)[0] for w in qr.warnings] == ["38.01.00", "01", "62.08"]
    assert qr.amount == 25000
    assert qr.initiation == "11"
    assert qr.is_dynamic is False


def test_lenient_parse_of_dynamic_code_without_amount_has_no_amount() -> None:
    qr = parse_payload(make({"54": None}), strict=False)
    assert qr.is_dynamic is True
    assert qr.amount is None


@pytest.mark.parametrize(
    "text",
    [
        VALID[:-1] + "7",
        VALID[:-4] + "12G4",
        make(order=["00", "01", "38", "53", "54", "58", "58", "62"]),
        make(order=["01", "00", "38", "53", "54", "58", "62"]),
        with_crc(VALID[:-8].replace("62130809", "62130810")),
        make({"54": "1,000"}),
        make({"38": merchant(guid="A000000728")}),
        make({"53": "840"}),
        make({"38": merchant(account="0123-4567")}),
    ],
)
def test_lenient_parse_still_rejects_broken_payloads_and_bad_owned_fields(text: str) -> None:
    with pytest.raises(VietQRError):
        parse_payload(text, strict=False)


# --- the parsed object --------------------------------------------------------


def test_parsed_qr_is_frozen_and_knows_its_bank() -> None:
    qr = parse_payload(VALID)
    assert isinstance(qr, VietQR)
    with pytest.raises(AttributeError):
        qr.amount = 1  # type: ignore[misc]
    assert qr.bank is not None
    assert qr.bank.short_name == "Vietcombank"


def test_unknown_bin_has_no_bank() -> None:
    assert parse_payload(make({"38": merchant("999999")}), strict=False).bank is None
