"""Read-only views of merchants, scoped to what a user may see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager

from market.auth.models import User
from market.extensions import db
from market.markets.models import Market, Stall
from market.markets.queries import visible_markets
from market.merchants.models import Merchant
from market.pagination import Page, paginate
from market.vietqr import build_payload


def visible_merchants(user: User, *, market_code: str = "") -> Select:
    """Merchants holding a stall in a market the user may see (a merchant: only themself)."""
    query = select(Merchant)
    if user.role == "merchant":
        query = query.where(Merchant.id == user.merchant_id)
    elif user.role != "admin" or market_code:
        markets = visible_markets(user).with_only_columns(Market.id)
        if market_code:
            markets = markets.where(Market.code == market_code)
        query = query.where(
            Merchant.id.in_(
                select(Stall.merchant_id).where(
                    Stall.market_id.in_(markets), Stall.merchant_id.is_not(None)
                )
            )
        )
    return query


def merchant_list(
    user: User, *, q: str = "", market: str = "", page: int = 1, per_page: int = 50
) -> Page:
    query = visible_merchants(user, market_code=market)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Merchant.full_name.ilike(like), Merchant.phone.like(like)))
    return paginate(query.order_by(Merchant.full_name, Merchant.id), page, per_page)


def visible_merchant(user: User, merchant_id: int) -> Merchant | None:
    return db.session.scalar(visible_merchants(user).where(Merchant.id == merchant_id))


def merchant_stalls(merchant: Merchant) -> list[Stall]:
    return stalls_of_merchants([merchant.id])[merchant.id]


def stalls_of_merchants(merchant_ids: Iterable[int]) -> dict[int, list[Stall]]:
    """Each merchant's stalls, with their markets loaded, ordered by market and stall code:
    one query for a whole page of merchants (not one per merchant and per market)."""
    found: dict[int, list[Stall]] = {merchant_id: [] for merchant_id in merchant_ids}
    if not found:
        return found
    stalls = db.session.scalars(
        select(Stall)
        .join(Stall.market)
        .options(contains_eager(Stall.market))
        .where(Stall.merchant_id.in_(list(found)))
        .order_by(Market.code, Stall.code)
    )
    for stall in stalls:
        found[stall.merchant_id].append(stall)
    return found


class Payee(Protocol):
    """What a payee's QR is made of: a PayeeAccount, or a row read with these columns."""

    bank_bin: str
    account_number: str
    service: str


def payee_payload(payee: Payee, *, amount: int | None = None, purpose: str | None = None) -> str:
    """The VietQR text of a payee's QR: the static code printed on the sticker, or with
    ``amount`` (tag 54) and ``purpose`` (tag 62.08) a dynamic code for one payment.

    The one place every QR of a stall is made from (stickers, the pay page, collect orders,
    the stall page, the API), so they cannot disagree. Raises VietQRError when the account
    or the purpose cannot be encoded.
    """
    return build_payload(
        payee.bank_bin, payee.account_number, amount=amount, purpose=purpose, service=payee.service
    )


class BoardAccount(Protocol):
    """What a market board's collection account QR is made of (a FeeAccount)."""

    bank_bin: str
    account_number: str


def bill_payload(account: BoardAccount, *, amount: int, reference: str) -> str:
    """The VietQR text of a fee bill: a dynamic code paying ``amount`` into the market
    board's collection account, its purpose (tag 62.08) the bill's payment ``reference``.

    The second of the two places a payload is built outside ``market.vietqr`` (the first is
    :func:`payee_payload`): the merchant's bill page, the paper notice and the API all call
    this one. Raises VietQRError when the account or the reference cannot be encoded.
    """
    return build_payload(account.bank_bin, account.account_number, amount=amount, purpose=reference)
