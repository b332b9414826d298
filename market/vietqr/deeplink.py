"""VietQR deeplinks: a link that opens a shopper's bank app on a transfer to a payee.

The scheme is vietqr.io's (https://www.vietqr.io/deeplink.md): ``https://dl.vietqr.io/pay``
with ``app`` (the app's id, not the bank's code), ``ba`` (``<account>@<bank code>``, the code in
lower case and the ``@`` kept as is), ``am`` (digits only), ``tn`` (transfer content), ``bn``
(account name, optional) and ``url`` (where the app may send the shopper back, kept readable).
Some apps fill every field from the link, the others only open (``BankApp.autofill``); the list
lives in ``bank_apps.csv`` next to this module, with its sources.

>>> link = bank_app_link("mb", account="0011001234567", bank_code="VCB", amount=25000,
...                      content="Rau muống A-01")
>>> link
'https://dl.vietqr.io/pay?app=mb&ba=0011001234567@vcb&am=25000&tn=Rau%20muong%20A-01'
>>> [app.app_id for app in bank_apps()[:3]]
['mb', 'vcb', 'vba']
>>> bank_app_link("mb", account="12 34", bank_code="VCB")
Traceback (most recent call last):
...
market.vietqr.errors.FieldError: account: '12 34' must be 1-19 letters or digits
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote

from market.vietqr.errors import FieldError
from market.vietqr.text import transliterate

__all__ = ["DEEPLINK_BASE", "BankApp", "bank_app_link", "bank_apps"]

DEEPLINK_BASE = "https://dl.vietqr.io/pay"
_CSV_NAME = "bank_apps.csv"
_APP_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_ACCOUNT = re.compile(r"[A-Za-z0-9]{1,19}")
_BANK_CODE = re.compile(r"[A-Za-z0-9]{2,16}")
# The return address stays readable ("https://" as is, as the scheme asks); only what would
# end or break the query (&, #, +, spaces, non-ASCII) is escaped.
_URL_SAFE = ":/?=@.-_~%!$'()*,;"


@dataclass(frozen=True, slots=True)
class BankApp:
    """One bank app the deeplink opens; ``autofill`` when it fills the transfer in."""

    app_id: str
    app_name: str
    bank_name: str
    monthly_installs: int
    autofill: bool


@functools.cache
def bank_apps() -> tuple[BankApp, ...]:
    """Every app in ``bank_apps.csv``, most installed first (the file's order)."""
    text = resources.files(__package__).joinpath(_CSV_NAME).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(_data_lines(text))))
    apps = tuple(
        BankApp(
            row["app_id"],
            row["app_name"],
            row["bank_name"],
            int(row["monthly_installs"]),
            row["autofill"] == "1",
        )
        for row in rows
    )
    return tuple(sorted(apps, key=lambda app: -app.monthly_installs))


def _data_lines(text: str):
    return (line for line in text.splitlines(keepends=True) if not line.startswith("#"))


def bank_app_link(
    app_id: str,
    *,
    account: str,
    bank_code: str,
    amount: int | None = None,
    content: str | None = None,
    name: str | None = None,
    return_url: str | None = None,
) -> str:
    """The deeplink opening ``app_id`` on a transfer to ``account`` at ``bank_code``.

    ``content`` and ``name`` are transliterated to ASCII (bank apps and NAPAS carry no
    diacritics) and percent-encoded; absent fields are left out.

    >>> bank_app_link("icb", account="1", bank_code="mb", content="a&b=c", name="Hoà",
    ...               return_url="https://x.vn/pay/TN-A/A-01?amount=5&ref=Q")
    'https://dl.vietqr.io/pay?app=icb&ba=1@mb&tn=a%26b%3Dc&bn=Hoa&url=https://x.vn/pay/TN-A/A-01?amount=5%26ref=Q'
    """
    if not isinstance(app_id, str) or not _APP_ID.fullmatch(app_id):
        raise FieldError("app", app_id, "must be a vietqr.io app id such as 'mb'")
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        raise FieldError("account", account, "must be 1-19 letters or digits")
    if not isinstance(bank_code, str) or not _BANK_CODE.fullmatch(bank_code):
        raise FieldError("bank_code", bank_code, "must be a bank code such as 'VCB'")
    parts = [f"app={app_id}", f"ba={account}@{bank_code.lower()}"]
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
            raise FieldError("amount", amount, "must be a whole number of dong, at least 1")
        parts.append(f"am={amount}")
    if content:
        parts.append("tn=" + quote(_ascii(content), safe=""))
    if name:
        parts.append("bn=" + quote(_ascii(name), safe=""))
    if return_url:
        if not return_url.startswith(("https://", "http://")):
            raise FieldError("url", return_url, "must be an absolute http(s) address")
        parts.append("url=" + quote(return_url, safe=_URL_SAFE))
    return f"{DEEPLINK_BASE}?{'&'.join(parts)}"


def _ascii(text: str) -> str:
    return " ".join(transliterate(text).split())
