"""Which stalls may show a QR, and the payload their QR carries."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, or_, select

from market.errors import Conflict, NotFound
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import PayeeAccount
from market.merchants.queries import payee_payload
from market.merchants.services import current_payee
from market.qr import StickerInfo
from market.qr.stickers import printable_text
from market.vietqr import bank_by_bin


def printable_payee(stall: Stall) -> PayeeAccount:
    """The verified current payee of an active stall; anything else gets no QR at all,
    so a code never sends money to an account nobody checked."""
    if stall.status != "active":
        raise NotFound(_("Sạp %(code)s không còn kinh doanh nên không có mã QR.", code=stall.code))
    payee = current_payee(stall)
    if payee is None or not payee.verified:
        raise Conflict(
            _(
                "Sạp %(code)s chưa có tài khoản nhận tiền đã xác minh nên chưa có mã QR.",
                code=stall.code,
            )
        )
    return payee


# Built once: the public QR endpoint runs this on every request (one indexed round trip).
_QR_LOOKUP = (
    select(
        Stall.code,
        Stall.status,
        PayeeAccount.bank_bin,
        PayeeAccount.account_number,
        PayeeAccount.service,
        PayeeAccount.verified_at,
    )
    .select_from(Stall)
    .join(Market, Market.id == Stall.market_id)
    .outerjoin(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
    .where(Market.code == bindparam("market_code"), Stall.code == bindparam("stall_code"))
)


def stall_payload(
    market_code: str, stall_code: str, *, amount: int | None = None, purpose: str | None = None
) -> str:
    """The payload of a stall's QR (dynamic with ``amount``), under printable_payee's rules."""
    # Core on the session's connection: plain rows, none of the ORM's entity loading.
    row = (
        db.session.connection()
        .execute(_QR_LOOKUP, {"market_code": market_code, "stall_code": stall_code})
        .first()
    )
    if row is None:
        raise NotFound(_("Không tìm thấy sạp “%(code)s”.", code=stall_code))
    if row.status != "active":
        raise NotFound(_("Sạp %(code)s không còn kinh doanh nên không có mã QR.", code=row.code))
    if row.bank_bin is None or row.verified_at is None:
        raise Conflict(
            _(
                "Sạp %(code)s chưa có tài khoản nhận tiền đã xác minh nên chưa có mã QR.",
                code=row.code,
            )
        )
    return payee_payload(row, amount=amount, purpose=purpose)


def sticker_info(market: Market, stall: Stall, payee: PayeeAccount, base_url: str) -> StickerInfo:
    bank = bank_by_bin(payee.bank_bin)
    # Names are typed by people (and imported): a character the sticker fonts lack (an
    # emoji, a CJK character) is left out rather than failing the whole print run.
    return StickerInfo(
        payload=payee_payload(payee),
        holder_name=printable_text(payee.holder_name),
        bank_short_name=printable_text(bank.short_name if bank else payee.bank_bin),
        account_number=payee.account_number,
        market_name=printable_text(market.name, fallback=printable_text(market.code)),
        stall_code=printable_text(stall.code),
        pay_url=f"{base_url.rstrip('/')}/pay/{market.code}/{stall.code}",
    )


#: Which stalls a print kit holds: every printable one, or only those whose sticker was never
#: printed or shows an account older than the current one (the market page's "reprint").
PRINT_SELECTIONS = ("all", "new")


def printable_stalls(market: Market, *, only: str = "all") -> Iterator[tuple[Stall, PayeeAccount]]:
    """Active stalls of a market with a verified current payee, in stall-code order;
    ``only="new"``: of those, the ones never printed or needing a reprint."""
    query = (
        select(Stall, PayeeAccount)
        .join(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .where(
            Stall.market_id == market.id,
            Stall.status == "active",
            PayeeAccount.verified_at.is_not(None),
        )
        .order_by(Stall.code)
        .execution_options(yield_per=500)
    )
    if only == "new":
        query = query.where(
            or_(
                Stall.sticker_printed_at.is_(None),
                Stall.sticker_printed_at < PayeeAccount.created_at,
            )
        )
    yield from db.session.execute(query)
