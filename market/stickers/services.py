"""Printing stickers and auditing them. Each public function commits once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import update

from market.auth import permissions
from market.auth.models import User, utcnow
from market.errors import Conflict, Forbidden, InvalidInput
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.services import current_payee
from market.qr import UnreadableImage, decode_image, render_sticker_pdf, write_sticker_sheets
from market.stickers.models import StickerAudit
from market.stickers.queries import (
    PRINT_SELECTIONS,
    printable_payee,
    printable_stalls,
    sticker_info,
)
from market.vietqr import VietQRError, parse_payload


def print_market(
    actor: User | None,
    market: Market,
    out: IO[bytes],
    *,
    base_url: str,
    layout: str = "a4x4",
    size: str = "A6",
    only: str = "all",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every printable sticker of a market (``only="new"``: those never printed or
    needing a reprint) to ``out`` and record them as printed.

    ``progress`` gets the number of stickers written so far.
    """
    if actor is not None and not permissions.can_print_market(actor, market):
        raise Forbidden()
    if layout == "a4x4" and size != "A6":
        raise InvalidInput(
            {"size": [_("Khổ A4 4 tem chỉ dùng tem A6; tem A5 hãy chọn 1 tem / trang.")]}
        )
    if only not in PRINT_SELECTIONS:
        raise InvalidInput({"stalls": [_("Hãy chọn in tất cả hoặc chỉ tem mới và cần in lại.")]})
    rows = printable_stalls(market, only=only)
    first = next(rows, None)
    if first is None and only == "new":
        raise Conflict(
            _("Không có sạp nào cần in: tem của mọi sạp đã in đều đúng tài khoản hiện tại.")
        )
    if first is None:
        raise Conflict(_("Chợ chưa có sạp nào đang kinh doanh với tài khoản đã xác minh để in."))
    printed: list[int] = []

    def infos():
        for stall, payee in itertools.chain([first], rows):
            printed.append(stall.id)
            yield sticker_info(market, stall, payee, base_url)

    count = write_sticker_sheets(infos(), out, layout=layout, size=size, progress=progress)
    _mark_printed(printed)
    db.session.commit()
    return count


def print_stall(actor: User, stall: Stall, *, base_url: str, size: str = "A6") -> bytes:
    """One stall's sticker (for a merchant or a manager), recorded as printed."""
    if not permissions.can_view_stall(actor, stall):
        raise Forbidden()
    payee = printable_payee(stall)
    pdf = render_sticker_pdf(sticker_info(stall.market, stall, payee, base_url), size=size)
    _mark_printed([stall.id])
    db.session.commit()
    return pdf


def _mark_printed(stall_ids: list[int]) -> None:
    now = utcnow()
    for start in range(0, len(stall_ids), 500):
        db.session.execute(
            update(Stall)
            .where(Stall.id.in_(stall_ids[start : start + 500]))
            .values(sticker_printed_at=now)
            .execution_options(synchronize_session=False)
        )


def audit_sticker(actor: User, stall: Stall, photo: bytes) -> StickerAudit:
    """Decode a photo of the stall's sticker and compare it with the registered payee."""
    if not permissions.can_audit_stickers(actor, stall.market):
        raise Forbidden()
    if not photo:
        raise InvalidInput({"photo": [_("Vui lòng chụp hoặc chọn ảnh tem QR.")]})
    expected = current_payee(stall)
    audit = StickerAudit(
        stall_id=stall.id, auditor_id=actor.id, expected_payee_id=expected.id if expected else None
    )
    try:
        texts = decode_image(photo)
    except UnreadableImage as exc:
        raise InvalidInput({"photo": [_("Tệp không phải ảnh: %(why)s", why=str(exc))]}) from exc
    codes = []
    for text in texts:
        try:
            codes.append((text, parse_payload(text, strict=False)))
        except VietQRError:
            continue

    def pays_expected(parsed) -> bool:
        return (
            expected is not None
            and expected.verified
            and (parsed.bank_bin, parsed.account) == (expected.bank_bin, expected.account_number)
        )

    if codes:
        # A second code pasted beside or over the real one is the fraud we look for:
        # any code that pays someone else makes the whole sticker fail.
        wrong = [(t, p) for t, p in codes if not pays_expected(p)]
        text, parsed = wrong[0] if wrong else codes[0]
        audit.result = "mismatch" if wrong else "match"
        audit.decoded_payload = text
        audit.decoded_bank_bin = parsed.bank_bin
        audit.decoded_account = parsed.account[:19]
    elif texts:
        audit.result = "not_vietqr"
        audit.decoded_payload = texts[0][:2000]
    else:
        audit.result = "unreadable"
    db.session.add(audit)
    stall.last_audit_at = utcnow()
    stall.last_audit_result = audit.result
    db.session.commit()
    return audit
