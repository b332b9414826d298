"""Checks and normal forms for what people type about merchants and their accounts.

Each function returns the normal form or raises ``ValueError`` with a message for the
person who typed it (forms, the bulk import and the API all use these).
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _

from market.vietqr import AmbiguousBankError, Bank, UnknownBankError, transliterate
from market.vietqr import resolve_bank as resolve_bank_name

# Vietnamese mobile numbers: 10 digits, carrier prefixes 03x, 05x, 07x, 08x, 09x.
_MOBILE = re.compile(r"0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}")
_TAX_CODE = re.compile(r"\d{10}(-\d{3})?|\d{12}")
_HOLDER = re.compile(r"[A-Z][A-Z ]{0,79}")


def normalize_phone(raw: str) -> str:
    """'+84 912 345 678' -> '0912345678'."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    elif len(digits) == 9 and digits[0] in "35789":
        # Spreadsheets drop the leading zero of a number typed as a number.
        digits = "0" + digits
    if not _MOBILE.fullmatch(digits):
        raise ValueError(
            _(
                "Số điện thoại “%(value)s” không phải số di động Việt Nam (10 số, ví dụ 0912345678).",
                value=raw,
            )
        )
    return digits


def normalize_tax_code(raw: str | None) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if not _TAX_CODE.fullmatch(value):
        raise ValueError(
            _("Mã số thuế “%(value)s” phải có 10 số, 10 số kèm -3 số, hoặc 12 số.", value=raw)
        )
    return value


def normalize_full_name(raw: str) -> str:
    value = " ".join(unicodedata.normalize("NFC", raw or "").split())
    if not value:
        raise ValueError(_("Vui lòng nhập họ tên."))
    if len(value) > 120:
        raise ValueError(_("Họ tên dài quá 120 ký tự."))
    if any(ch.isdigit() for ch in value):
        raise ValueError(_("Họ tên “%(value)s” không được có chữ số.", value=raw))
    return value


def normalize_holder_name(raw: str) -> str:
    """The account holder as banks show it: uppercase ASCII, e.g. 'NGUYEN THI HOA'."""
    value = " ".join(transliterate(raw or "").upper().split())
    if not value:
        raise ValueError(_("Vui lòng nhập tên chủ tài khoản."))
    if not _HOLDER.fullmatch(value):
        raise ValueError(
            _(
                "Tên chủ tài khoản “%(value)s” chỉ gồm chữ cái và dấu cách, như ngân hàng hiển thị.",
                value=raw,
            )
        )
    return value


def resolve_bank(raw: str) -> Bank:
    """A NAPAS member as people write it: BIN ('970436'), code ('VCB'), short name
    ('Vietcombank'), full or former name, with or without diacritics, in any case."""
    try:
        return resolve_bank_name(raw or "")
    except AmbiguousBankError as exc:
        if len(exc.candidates) == 1:
            raise ValueError(
                _(
                    "“%(value)s” chưa đủ rõ: có phải %(bank)s? Hãy ghi đủ tên, mã hoặc BIN "
                    "ngân hàng.",
                    value=raw,
                    bank=exc.candidates[0],
                )
            ) from None
        raise ValueError(
            _(
                "“%(value)s” có thể là nhiều ngân hàng: %(banks)s. Hãy ghi rõ tên hoặc mã BIN.",
                value=raw,
                banks=", ".join(exc.candidates),
            )
        ) from None
    except UnknownBankError:
        raise ValueError(
            _(
                "Ngân hàng “%(value)s” không có trong danh sách NAPAS (ghi tên, mã hoặc BIN "
                "ngân hàng, ví dụ Vietcombank, VCB hoặc 970436).",
                value=raw,
            )
        ) from None


def normalize_account_number(raw: str, service: str = "account") -> str:
    value = re.sub(r"[\s.\-]", "", raw or "")
    if service == "card":
        if not re.fullmatch(r"\d{16,19}", value):
            raise ValueError(_("Số thẻ “%(value)s” phải có 16 đến 19 chữ số.", value=raw))
    elif not re.fullmatch(r"[0-9A-Za-z]{1,19}", value):
        raise ValueError(
            _("Số tài khoản “%(value)s” chỉ gồm chữ số (hoặc chữ cái), tối đa 19 ký tự.", value=raw)
        )
    return value.upper()
