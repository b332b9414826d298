"""Build and parse NAPAS VietQR payloads (EMVCo merchant-presented mode).

A VietQR bank-transfer payload is, in this order::

    00 "01"           payload format
    01 "11" | "12"    static (no amount) | dynamic (with amount)
    38 template       00 GUID "A000000727"
                      01 template: 00 BIN (6 digits), 01 account or card number
                      02 "QRIBFTTA" (to an account) | "QRIBFTTC" (to a card)
    53 "704"          currency: Vietnamese dong
    54 amount         only in dynamic codes; whole dong
    58 "VN"           country
    62 template       08 purpose (only if there is one)
    63 CRC            CRC-16/CCITT-FALSE over everything before it, "6304" included

>>> text = build_payload("970436", "0123456789", amount=25000, purpose="Rau muống")
>>> text[:44]
'00020101021238540010A00000072701240006970436'
>>> text[44:]
'011001234567890208QRIBFTTA53037045405250005802VN62130809Rau muong6304B686'
>>> qr = parse_payload(text)
>>> (qr.bank.short_name, qr.account, qr.amount, qr.purpose, qr.is_dynamic)
('Vietcombank', '0123456789', 25000, 'Rau muong', True)

Choices this module makes (the NAPAS spec leaves them open or real codes bend them):

* Purpose text: Vietnamese is transliterated (:func:`transliterate`), runs of
  whitespace become one space, outer spaces are stripped; what is left must be
  1-25 characters of printable ASCII (0x20-0x7E). Anything else is an error;
  nothing is ever cut unless ``truncate=True`` asks for it.
* Accounts: 1-19 ASCII letters and digits (some banks issue alias accounts with
  letters); card numbers: 1-19 digits.
* Amounts: an ``int`` of dong, 1 to 13 digits. Over the NAPAS 247 per-transfer
  limit still builds: the limit belongs to the bank, not to the QR code.
* ``strict=True`` (the default) accepts only what :func:`build_payload` makes.
  ``strict=False`` reports, in :attr:`VietQR.warnings` instead of raising:
  a purpose over 25 characters or outside printable ASCII, an unknown 6-digit
  BIN, lowercase CRC hex, tags out of ascending order, "11" with an amount or
  "12" without one, surrounding whitespace, and well-formed tags VietQR does not
  use (other merchant accounts 26-51, 52, 55-57, 59-61, 64-99, other 38 and 62
  sub-tags), which are kept in :attr:`VietQR.extra`. A CRC mismatch, broken
  TLV, a duplicate tag, 00 not first or 63 not last, and a bad value in any
  field we build (format, GUID, BIN, account, service, currency, amount,
  country) always raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from market.vietqr import tlv
from market.vietqr.banks import Bank, bank_by_bin
from market.vietqr.crc import crc16_ccitt_false
from market.vietqr.errors import (
    CRCError,
    FieldError,
    LengthError,
    MissingFieldError,
    TLVError,
    UnknownBankError,
    VietQRError,
)
from market.vietqr.text import transliterate

__all__ = [
    "GUID",
    "MAX_ACCOUNT_LENGTH",
    "MAX_AMOUNT_LENGTH",
    "MAX_PAYLOAD_LENGTH",
    "MAX_PURPOSE_LENGTH",
    "SERVICE_CODES",
    "Service",
    "VietQR",
    "build_payload",
    "parse_payload",
]

Service = Literal["account", "card"]

#: NAPAS application identifier in tag 38.00.
GUID = "A000000727"
#: Service code (tag 38.02) for each kind of beneficiary.
SERVICE_CODES: dict[str, str] = {"account": "QRIBFTTA", "card": "QRIBFTTC"}
_SERVICE_BY_CODE: dict[str, Service] = {"QRIBFTTA": "account", "QRIBFTTC": "card"}

MAX_ACCOUNT_LENGTH = 19
MAX_AMOUNT_LENGTH = 13
MAX_PURPOSE_LENGTH = 25
#: EMVCo's limit for a whole merchant-presented payload.
MAX_PAYLOAD_LENGTH = 512
# Longest purpose a lenient build can fit: 62 = "08" + 2-digit length + purpose <= 99.
_MAX_LENIENT_PURPOSE = tlv.MAX_LENGTH - 4

_LEN = tlv.LENGTHS
_HEAD = {False: "000201010211", True: "000201010212"}
_TAIL_CURRENCY = "5303704"
_TAIL_COUNTRY = "5802VN"
_CRC_TAG = "6304"
_HEX_UPPER = frozenset("0123456789ABCDEF")
_HEX_ANY = frozenset("0123456789ABCDEFabcdef")
_OWN_TOP = frozenset({"00", "01", "38", "53", "54", "58", "62", "63"})
_OWN_MERCHANT = frozenset({"38.00", "38.01", "38.02"})
_OWN_BENEFICIARY = frozenset({"38.01.00", "38.01.01"})


@dataclass(frozen=True, slots=True)
class VietQR:
    """A parsed VietQR payload. Field values are as they appear in the payload,
    except ``amount`` (an ``int`` of dong) and the derived ``is_dynamic`` and
    ``service``."""

    payload_format: str
    initiation: str
    is_dynamic: bool
    guid: str
    bank_bin: str
    account: str
    service: Service
    service_code: str
    currency: str
    amount: int | None
    country: str
    purpose: str | None
    crc: str
    #: What lenient parsing tolerated, one message per problem; empty when strict.
    warnings: tuple[str, ...] = ()
    #: Well-formed tags VietQR does not use, as ``(path, value)``; lenient only.
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def bank(self) -> Bank | None:
        """The NAPAS member bank for :attr:`bank_bin`, or ``None`` if unknown."""
        return bank_by_bin(self.bank_bin)


# ---------------------------------------------------------------------------
# Field checks shared by build and parse


def _check_bin(bank_bin: object) -> str:
    if not isinstance(bank_bin, str):
        raise FieldError("38.01.00", bank_bin, "must be a str of 6 digits")
    if len(bank_bin) != 6 or not (bank_bin.isascii() and bank_bin.isdigit()):
        raise FieldError("38.01.00", bank_bin, "is not a 6-digit BIN")
    return bank_bin


def _check_account(account: object, service: str) -> str:
    if not isinstance(account, str):
        raise FieldError("38.01.01", account, "must be a str")
    size = len(account)
    if not 0 < size <= MAX_ACCOUNT_LENGTH:
        raise LengthError(
            "38.01.01", account, f"is {size} characters; it must be 1-{MAX_ACCOUNT_LENGTH}"
        )
    if not account.isascii():
        raise FieldError("38.01.01", account, "must contain only ASCII letters and digits")
    if service == "card":
        if not account.isdigit():
            raise FieldError("38.01.01", account, "is not a card number (digits only)")
    elif not account.isalnum():
        raise FieldError("38.01.01", account, "must contain only ASCII letters and digits")
    return account


def _unknown_bin(bank_bin: str) -> UnknownBankError:
    return UnknownBankError("38.01.00", bank_bin, "is not a BIN in the NAPAS member list")


def _purpose_too_long(purpose: str) -> LengthError:
    return LengthError(
        "62.08",
        purpose,
        f"is {len(purpose)} characters; NAPAS allows at most {MAX_PURPOSE_LENGTH}",
    )


def _parse_amount(value: str) -> int:
    if len(value) > MAX_AMOUNT_LENGTH:
        raise LengthError(
            "54", value, f"is {len(value)} characters; EMVCo allows at most {MAX_AMOUNT_LENGTH}"
        )
    if not (value.isascii() and value.isdigit()):
        raise FieldError("54", value, "is not a whole number of dong")
    if value[0] == "0":
        if value.strip("0") == "":
            raise FieldError("54", value, "must be a positive amount")
        raise FieldError("54", value, "has a leading zero")
    return int(value)


# ---------------------------------------------------------------------------
# Build


def _build_amount(amount: object) -> str:
    if isinstance(amount, bool) or not isinstance(amount, int):
        if isinstance(amount, str) and amount.isascii() and amount.isdigit():
            raise FieldError("54", amount, "must be an int of dong, not a str")
        if isinstance(amount, str):
            raise FieldError("54", amount, "is not a whole number of dong")
        raise FieldError("54", amount, f"must be an int of dong, not {type(amount).__name__}")
    if amount <= 0:
        raise FieldError("54", amount, "must be a positive amount")
    text = str(amount)
    if len(text) > MAX_AMOUNT_LENGTH:
        raise LengthError(
            "54", amount, f"has {len(text)} digits; EMVCo allows at most {MAX_AMOUNT_LENGTH}"
        )
    return text


def _build_purpose(purpose: object, *, strict: bool, truncate: bool) -> str:
    if not isinstance(purpose, str):
        raise FieldError("62.08", purpose, "must be a str")
    text = " ".join(transliterate(purpose).split())
    if not text:
        raise FieldError("62.08", purpose, "is empty")
    if not (text.isascii() and text.isprintable()):
        bad = next(ch for ch in text if not (" " <= ch <= "~"))
        raise FieldError("62.08", purpose, f"contains {bad!r}, which is not printable ASCII")
    if len(text) > MAX_PURPOSE_LENGTH:
        if truncate:
            return text[:MAX_PURPOSE_LENGTH].rstrip()
        if strict:
            raise _purpose_too_long(text)
        if len(text) > _MAX_LENIENT_PURPOSE:
            raise LengthError(
                "62.08",
                text,
                f"is {len(text)} characters; tag 62 can hold at most {_MAX_LENIENT_PURPOSE}",
            )
    return text


def build_payload(
    bank_bin: str,
    account: str,
    *,
    amount: int | None = None,
    purpose: str | None = None,
    service: Service = "account",
    strict: bool = True,
    truncate: bool = False,
) -> str:
    """Return the VietQR payload text for a transfer to ``account`` at ``bank_bin``.

    With ``amount`` the code is dynamic ("12"), without it static ("11").
    ``purpose`` is transliterated to ASCII. ``strict=False`` also allows a BIN
    that is not in the NAPAS list and a purpose longer than 25 characters (up
    to 95, what tag 62 can hold); ``truncate=True`` cuts a long purpose to 25
    characters instead. Raises a :class:`VietQRError` subclass naming the field.

    >>> build_payload("970441", "626248")
    '00020101021138500010A0000007270120000697044101066262480208QRIBFTTA53037045802VN63042D6E'
    >>> build_payload("970441", "626248", amount="1,000")
    Traceback (most recent call last):
    ...
    market.vietqr.errors.FieldError: 54 (amount): '1,000' is not a whole number of dong
    """
    service_code = SERVICE_CODES.get(service) if isinstance(service, str) else None
    if service_code is None:
        raise FieldError("service", service, "must be 'account' or 'card'")
    _check_bin(bank_bin)
    if strict and bank_by_bin(bank_bin) is None:
        raise _unknown_bin(bank_bin)
    _check_account(account, service)

    beneficiary = "0006" + bank_bin + "01" + _LEN[len(account)] + account
    merchant = "0010A00000072701" + _LEN[len(beneficiary)] + beneficiary + "0208" + service_code
    parts = [_HEAD[amount is not None], "38", _LEN[len(merchant)], merchant, _TAIL_CURRENCY]
    if amount is not None:
        amount_text = _build_amount(amount)
        parts += ("54", _LEN[len(amount_text)], amount_text)
    parts.append(_TAIL_COUNTRY)
    if purpose is not None:
        purpose_text = _build_purpose(purpose, strict=strict, truncate=truncate)
        size = len(purpose_text)
        parts += ("62", _LEN[size + 4], "08", _LEN[size], purpose_text)
    parts.append(_CRC_TAG)
    body = "".join(parts)
    return f"{body}{crc16_ccitt_false(body.encode('ascii')):04X}"


# ---------------------------------------------------------------------------
# Parse


class _Issues:
    """Raise in strict mode; collect the message in lenient mode."""

    __slots__ = ("extra", "strict", "warnings")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.warnings: list[str] = []
        self.extra: list[tuple[str, str]] = []

    def report(self, error: VietQRError) -> None:
        if self.strict:
            raise error
        self.warnings.append(str(error))

    def unused(self, path: str, value: str) -> None:
        self.report(FieldError(path, value, "is a tag VietQR does not use"))
        self.extra.append((path, value))


def _index(items: list[tuple[str, str]], issues: _Issues) -> dict[str, str]:
    fields: dict[str, str] = {}
    previous = ""
    for path, value in items:
        if path in fields:
            raise TLVError(path, value, "is a duplicate tag")
        if path < previous:
            issues.report(TLVError(path, value, f"comes after {previous}; tags must ascend"))
        else:
            previous = path
        fields[path] = value
    return fields


def _require(fields: dict[str, str], path: str) -> str:
    value = fields.get(path)
    if value is None:
        raise MissingFieldError(path, None, "is missing")
    return value


def _expect(fields: dict[str, str], path: str, expected: str) -> str:
    value = _require(fields, path)
    if value != expected:
        raise FieldError(path, value, f"must be {expected!r}")
    return value


def _check_crc(text: str, issues: _Issues) -> str:
    if text[-8:-4] != _CRC_TAG:
        raise CRCError("63", None, f"is missing: the payload must end with {_CRC_TAG!r} + 4 hex")
    crc = text[-4:]
    if not _HEX_UPPER.issuperset(crc):
        if not _HEX_ANY.issuperset(crc):
            raise CRCError("63", crc, "is not 4 hex digits")
        issues.report(CRCError("63", crc, "must be uppercase hex"))
    # surrogatepass: a lone surrogate is just another wrong character here, so it
    # must fail the CRC (or a field check), not escape as UnicodeEncodeError.
    computed = crc16_ccitt_false(text[:-4].encode("utf-8", "surrogatepass"))
    if computed != int(crc, 16):
        raise CRCError("63", crc, f"does not match the payload (computed {computed:04X})")
    return crc


def parse_payload(text: str, *, strict: bool = True) -> VietQR:
    """Parse and validate a VietQR payload.

    Raises a :class:`VietQRError` subclass (``CRCError``, ``TLVError``,
    ``LengthError``, ``FieldError``, ``MissingFieldError``, ``UnknownBankError``)
    naming the field. ``strict=False`` turns what bank apps tolerate into
    :attr:`VietQR.warnings` (see the module docstring).

    >>> qr = parse_payload("00020101021138540010A00000072701240006970449011007273204360208"
    ...                    "QRIBFTTA53037045802VN62100806KIOT2263047A62")
    >>> qr.initiation, qr.bank_bin, qr.account, qr.amount, qr.purpose, qr.service
    ('11', '970449', '0727320436', None, 'KIOT22', 'account')
    >>> parse_payload(qr_text := "00020101021138540010A000000727012400069704490110"
    ...               "07273204360208QRIBFTTA53037045802VN62100806KIOT2263047a62")
    Traceback (most recent call last):
    ...
    market.vietqr.errors.CRCError: 63 (crc): '7a62' must be uppercase hex
    >>> parse_payload(qr_text, strict=False).warnings
    ("63 (crc): '7a62' must be uppercase hex",)
    """
    if not isinstance(text, str):
        raise FieldError("payload", text, "must be a str")
    issues = _Issues(strict)
    if not strict:
        stripped = text.strip()
        if stripped != text:
            issues.report(FieldError("payload", text, "has surrounding whitespace"))
            text = stripped
    if len(text) > MAX_PAYLOAD_LENGTH:
        raise LengthError(
            "payload", text, f"is {len(text)} characters; EMVCo allows {MAX_PAYLOAD_LENGTH}"
        )
    crc = _check_crc(text, issues)
    if not issues.warnings:
        qr = _parse_canonical(text)
        if qr is not None:
            return qr
    return _parse_tlv(text, crc, issues)


# One anchored pattern for the layout build_payload writes. Every quantifier is
# bounded, so matching is linear. It replaces about fourteen interpreted TLV
# steps, which is what makes parsing fast; _parse_canonical checks the declared
# lengths, and anything unusual goes through the general TLV path, which also
# produces every error message.
_CANONICAL = re.compile(
    r"0002010102(1[12])"
    r"38([0-9]{2})(0010A00000072701([0-9]{2})(0006([0-9]{6})01([0-9]{2})([0-9A-Za-z]{1,19}))"
    r"0208QRIBFTT([AC]))"
    r"5303704"
    r"(?:54([0-9]{2})([1-9][0-9]{0,12}))?"
    r"5802VN"
    r"(?:62([0-9]{2})(08([0-9]{2})([ -~]{1,25})))?"
    r"6304([0-9A-F]{4})"
)
_TWO_DIGITS = {length: n for n, length in enumerate(_LEN)}


def _parse_canonical(text: str) -> VietQR | None:
    """Return the VietQR for a valid payload in build_payload's exact layout
    with nothing to warn about; ``None`` for anything else, valid or not."""
    match = _CANONICAL.fullmatch(text)
    if match is None:
        return None
    (
        initiation,
        len_38,
        merchant,
        len_3801,
        beneficiary,
        bank_bin,
        len_account,
        account,
        card,
        len_amount,
        amount,
        len_62,
        additional,
        len_purpose,
        purpose,
        crc,
    ) = match.groups()
    lengths = _TWO_DIGITS
    if (
        lengths[len_38] != len(merchant)
        or lengths[len_3801] != len(beneficiary)
        or lengths[len_account] != len(account)
    ):
        return None
    if amount is None:
        if initiation != "11":
            return None
    elif initiation != "12" or lengths[len_amount] != len(amount):
        return None
    if purpose is not None and (
        lengths[len_62] != len(additional) or lengths[len_purpose] != len(purpose)
    ):
        return None
    service: Service = "account"
    if card == "C":
        if not account.isdigit():
            return None
        service = "card"
    if bank_by_bin(bank_bin) is None:
        return None
    # Positional, in field order: measurably faster than keywords on this path.
    return VietQR(
        "01",
        initiation,
        initiation == "12",
        GUID,
        bank_bin,
        account,
        service,
        SERVICE_CODES[service],
        "704",
        None if amount is None else int(amount),
        "VN",
        purpose,
        crc,
    )


def _parse_tlv(text: str, crc: str, issues: _Issues) -> VietQR:
    """Walk the TLV structure of a payload whose CRC is already checked."""
    items = tlv.decode(text)
    if items[0][0] != "00":
        raise TLVError(items[0][0], items[0][1], "comes first; 00 (payload format) must")
    if items[-1][0] != "63":
        raise TLVError(items[-1][0], items[-1][1], "comes last; 63 (crc) must")
    top = _index(items, issues)

    payload_format = _expect(top, "00", "01")
    initiation = _require(top, "01")
    if initiation not in ("11", "12"):
        raise FieldError("01", initiation, "must be '11' (static) or '12' (dynamic)")

    merchant = _index(tlv.decode(_require(top, "38"), "38"), issues)
    guid = _expect(merchant, "38.00", GUID)
    beneficiary = _index(tlv.decode(_require(merchant, "38.01"), "38.01"), issues)
    service_code = _require(merchant, "38.02")
    service = _SERVICE_BY_CODE.get(service_code)
    if service is None:
        raise FieldError("38.02", service_code, "must be 'QRIBFTTA' or 'QRIBFTTC'")
    bank_bin = _check_bin(_require(beneficiary, "38.01.00"))
    if bank_by_bin(bank_bin) is None:
        issues.report(_unknown_bin(bank_bin))
    account = _check_account(_require(beneficiary, "38.01.01"), service)

    currency = _expect(top, "53", "704")
    amount_text = top.get("54")
    amount = None if amount_text is None else _parse_amount(amount_text)
    if initiation == "11" and amount is not None:
        issues.report(FieldError("01", initiation, "is static but the payload has 54 (amount)"))
    elif initiation == "12" and amount is None:
        issues.report(MissingFieldError("54", None, "is missing from a dynamic ('12') payload"))
    country = _expect(top, "58", "VN")

    purpose = None
    additional = top.get("62")
    if additional is not None:
        extra_data = _index(tlv.decode(additional, "62"), issues)
        purpose = extra_data.get("62.08")
        if purpose is not None:
            if len(purpose) > MAX_PURPOSE_LENGTH:
                issues.report(_purpose_too_long(purpose))
            if not (purpose.isascii() and purpose.isprintable()):
                issues.report(FieldError("62.08", purpose, "is not printable ASCII"))
        if len(extra_data) > (purpose is not None):
            for path, value in extra_data.items():
                if path != "62.08":
                    issues.unused(path, value)

    for fields, own in (
        (top, _OWN_TOP),
        (merchant, _OWN_MERCHANT),
        (beneficiary, _OWN_BENEFICIARY),
    ):
        if not own.issuperset(fields):
            for path, value in fields.items():
                if path not in own:
                    issues.unused(path, value)

    return VietQR(
        payload_format=payload_format,
        initiation=initiation,
        is_dynamic=initiation == "12",
        guid=guid,
        bank_bin=bank_bin,
        account=account,
        service=service,
        service_code=service_code,
        currency=currency,
        amount=amount,
        country=country,
        purpose=purpose,
        crc=crc,
        warnings=tuple(issues.warnings),
        extra=tuple(issues.extra),
    )
