"""Typed errors for VietQR payloads.

Every error is a ``ValueError`` that knows the EMVCo field path it is about
(``"54"``, ``"38.01.00"``, ``"62.08"``; ``"payload"`` for the text as a whole) and
the offending value, and says both in its message:

>>> err = FieldError("54", "1,000", "is not a whole number of dong")
>>> str(err)
"54 (amount): '1,000' is not a whole number of dong"
>>> (err.field, err.value, isinstance(err, ValueError))
('54', '1,000', True)
"""

from __future__ import annotations

__all__ = [
    "FIELD_NAMES",
    "AmbiguousBankError",
    "CRCError",
    "FieldError",
    "LengthError",
    "MissingFieldError",
    "NoSuchBankError",
    "TLVError",
    "UnknownBankError",
    "VietQRError",
    "field_label",
]

#: Human names of the EMVCo / NAPAS data objects, keyed by field path.
FIELD_NAMES: dict[str, str] = {
    "payload": "payload",
    "00": "payload format",
    "01": "initiation method",
    "38": "NAPAS merchant account",
    "38.00": "GUID",
    "38.01": "beneficiary",
    "38.01.00": "bank BIN",
    "38.01.01": "account",
    "38.02": "service code",
    "52": "merchant category code",
    "53": "currency",
    "54": "amount",
    "55": "tip indicator",
    "56": "fixed tip",
    "57": "percentage tip",
    "58": "country",
    "59": "merchant name",
    "60": "merchant city",
    "61": "postal code",
    "62": "additional data",
    "62.01": "bill number",
    "62.02": "mobile number",
    "62.03": "store label",
    "62.04": "loyalty number",
    "62.05": "reference label",
    "62.06": "customer label",
    "62.07": "terminal label",
    "62.08": "purpose",
    "62.09": "consumer data request",
    "63": "crc",
    "64": "language template",
    "service": "service",
    "bank": "bank",
}

_MAX_QUOTED = 60


def field_label(field: str) -> str:
    """Return ``"54 (amount)"`` for a known field path, else the path itself.

    >>> field_label("38.01.00"), field_label("62.99")
    ('38.01.00 (bank BIN)', '62.99')
    """
    name = FIELD_NAMES.get(field)
    if name is None or name == field:
        return field
    return f"{field} ({name})"


def _quote(value: object) -> str:
    if isinstance(value, str) and len(value) > _MAX_QUOTED:
        return f"{value[:_MAX_QUOTED]!r}... ({len(value)} characters)"
    return repr(value)


class VietQRError(ValueError):
    """A VietQR payload or build input is invalid.

    ``field`` is the EMVCo path (``"62.08"``), ``value`` the bad value (``None``
    when the field is missing) and ``problem`` the reason, without the field.
    """

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        detail = problem if value is None else f"{_quote(value)} {problem}"
        super().__init__(f"{field_label(field)}: {detail}")

    def __reduce__(self) -> tuple[type[VietQRError], tuple[str, object, str]]:
        return (type(self), (self.field, self.value, self.problem))


class TLVError(VietQRError):
    """The tag-length-value structure is broken: bad tag or length digits,
    trailing garbage, a duplicate tag, or a tag out of place."""


class LengthError(VietQRError):
    """A declared length runs past its template, or a value is too long or short."""


class CRCError(VietQRError):
    """Tag 63 is missing, malformed, or does not match the payload."""


class FieldError(VietQRError):
    """A field holds a value VietQR does not allow."""


class MissingFieldError(FieldError):
    """A required field is absent."""


class UnknownBankError(FieldError):
    """A well-formed 6-digit BIN that is not in the NAPAS member list."""


class NoSuchBankError(UnknownBankError):
    """A bank's name, code or BIN that names no NAPAS member."""

    def __init__(self, value: object) -> None:
        super().__init__("bank", value, "is not a NAPAS member's BIN, code or name")

    def __reduce__(self):
        return (type(self), (self.value,))


class AmbiguousBankError(UnknownBankError):
    """A name that could be several banks: ``candidates`` are their short names."""

    def __init__(self, value: object, candidates: tuple[str, ...]) -> None:
        self.candidates = tuple(candidates)
        super().__init__("bank", value, f"could be {', '.join(self.candidates)}")

    def __reduce__(self):
        return (type(self), (self.value, self.candidates))
