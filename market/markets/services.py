"""Use cases for markets and stalls. Each public function commits once."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market.auth import permissions
from market.auth.models import User
from market.errors import Forbidden, InvalidInput
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.services import commit_or_conflict


def create_market(
    actor: User,
    *,
    code: str,
    name: str,
    district: str,
    commune: str = "",
    address: str = "",
    status: str = "planned",
    launch_date: date | None = None,
) -> Market:
    if not permissions.can_create_market(actor):
        raise Forbidden(_("Chỉ cán bộ tỉnh mới được thêm chợ."))
    if db.session.scalar(select(Market.id).where(Market.code == code)) is not None:
        raise InvalidInput({"code": [_("Mã chợ “%(code)s” đã có.", code=code)]})
    market = Market(
        code=code,
        name=name,
        district=district,
        commune=commune,
        address=address,
        status=status,
        launch_date=launch_date,
    )
    db.session.add(market)
    commit_or_conflict()
    return market


def update_market(actor: User, market: Market, **fields) -> Market:
    if not permissions.can_edit_market(actor, market):
        raise Forbidden()
    if "code" in fields and fields["code"] != market.code:
        raise InvalidInput({"code": [_("Mã chợ không thay đổi được sau khi tạo.")]})
    for key, value in fields.items():
        setattr(market, key, value)
    commit_or_conflict()
    return market


def stage_stall(market: Market, *, code: str, stall: Stall | None = None, **fields) -> Stall:
    taken = db.session.scalar(
        select(Stall.id).where(Stall.market_id == market.id, Stall.code == code)
    )
    if taken is not None and (stall is None or taken != stall.id):
        raise InvalidInput({"code": [_("Chợ này đã có sạp mã “%(code)s”.", code=code)]})
    if stall is None:
        stall = Stall(market=market, code=code)
        db.session.add(stall)
    stall.code = code
    for key, value in fields.items():
        setattr(stall, key, value)
    return stall


def save_stall(actor: User, market: Market, stall: Stall | None = None, **fields) -> Stall:
    if not permissions.can_onboard(actor, market):
        raise Forbidden()
    stall = stage_stall(market, stall=stall, **fields)
    commit_or_conflict()
    return stall
