"""Use cases for markets and stalls. Each public function commits once."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User
from market.errors import Forbidden, InvalidInput
from market.extensions import db
from market.markets.models import DISTRICT_PROVINCE, Market, Stall
from market.merchants.services import commit_or_conflict
from market.places import queries as places


def create_market(
    actor: User,
    *,
    code: str,
    name: str,
    district: str = "",
    commune: str = "",
    address: str = "",
    status: str = "planned",
    launch_date: date | None = None,
    admin_unit: int | str | None = None,
    former_province: str | None = None,
) -> Market:
    """A new market. ``admin_unit``: its commune or ward today (an id, or a code or name as
    people write it); ``district``/``commune``: where it was before 1 July 2025."""
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
        admin_unit_id=resolve_admin_unit(admin_unit),
        # A former district says which former province it was in.
        former_province=DISTRICT_PROVINCE.get(district, former_province or "Thái Nguyên"),
    )
    db.session.add(market)
    db.session.flush()
    audit.record(
        "market.create",
        actor=actor,
        entity="market",
        entity_id=market.id,
        market_id=market.id,
        new=_values(market, MARKET_FIELDS),
    )
    commit_or_conflict()
    return market


def resolve_admin_unit(value: int | str | None) -> int | None:
    """The id of the commune or ward ``value`` names (an id, a code, "Phường Phan Đình Phùng"
    or a name only one unit has); ``None``/empty: none. Anything else is a field error."""
    if value is None or value == "":
        return None
    unit = places.unit_by_id(value) if isinstance(value, int) else places.unit_by_name(str(value))
    if unit is None:
        raise InvalidInput(
            {"admin_unit": [_("Không có xã / phường “%(name)s” trong danh sách.", name=value)]}
        )
    return unit.id


#: What the audit log keeps of a market and of a stall.
MARKET_FIELDS = (
    "code",
    "name",
    "admin_unit_id",
    "district",
    "commune",
    "former_province",
    "address",
    "status",
    "launch_date",
    "fees_cashless_since",
    "ecommerce_listed_since",
    "ecommerce_note",
)
STALL_FIELDS = ("code", "zone", "category", "status")


def _values(obj: object, names: tuple[str, ...]) -> dict:
    def plain(value):
        return value.isoformat() if isinstance(value, date) else value

    return {name: plain(getattr(obj, name)) for name in names}


def _audit_update(actor: User | None, action: str, entity: str, obj, market_id, before: dict):
    """Record what changed between ``before`` and ``obj`` now (nothing if nothing did)."""
    after = _values(obj, tuple(before))
    changed = [name for name in before if before[name] != after[name]]
    if changed:
        audit.record(
            action,
            actor=actor,
            entity=entity,
            entity_id=obj.id,
            market_id=market_id,
            old={name: before[name] for name in changed},
            new={name: after[name] for name in changed},
        )


def update_market(actor: User, market: Market, **fields) -> Market:
    if not permissions.can_edit_market(actor, market):
        raise Forbidden()
    if "code" in fields and fields["code"] != market.code:
        raise InvalidInput({"code": [_("Mã chợ không thay đổi được sau khi tạo.")]})
    before = _values(market, MARKET_FIELDS)
    if "admin_unit" in fields:
        fields["admin_unit_id"] = resolve_admin_unit(fields.pop("admin_unit"))
    for key, value in fields.items():
        setattr(market, key, value)
    market.former_province = DISTRICT_PROVINCE.get(market.district, market.former_province)
    _audit_update(actor, "market.update", "market", market, market.id, before)
    commit_or_conflict()
    return market


def stage_stall(
    market: Market,
    *,
    code: str,
    stall: Stall | None = None,
    actor: User | None = None,
    **fields,
) -> Stall:
    """Create or change a stall in the session, audit-logged.

    A stall's code is in the pay link printed on its sticker (``/pay/<market>/<code>``): once
    a sticker has been printed the code never changes, so that link can never lead to another
    stall's account (docs/hardening.md). Renumbering a printed stall is closing it and adding
    a new one."""
    if stall is not None and code != stall.code and stall.sticker_printed_at is not None:
        raise InvalidInput(
            {
                "code": [
                    _(
                        "Mã sạp %(code)s đã in trên tem QR (đường dẫn thanh toán mang mã này) "
                        "nên không đổi được. Nếu cần đánh số lại, hãy đóng sạp này và thêm sạp "
                        "mới với mã mới.",
                        code=stall.code,
                    )
                ]
            }
        )
    taken = db.session.scalar(
        select(Stall.id).where(Stall.market_id == market.id, Stall.code == code)
    )
    if taken is not None and (stall is None or taken != stall.id):
        raise InvalidInput({"code": [_("Chợ này đã có sạp mã “%(code)s”.", code=code)]})
    before = None if stall is None else _values(stall, STALL_FIELDS)
    if stall is None:
        stall = Stall(market=market, code=code)
        db.session.add(stall)
    stall.code = code
    for key, value in fields.items():
        setattr(stall, key, value)
    db.session.flush()
    if before is None:
        audit.record(
            "stall.create",
            actor=actor,
            entity="stall",
            entity_id=stall.id,
            market_id=market.id,
            new=_values(stall, STALL_FIELDS),
        )
    else:
        _audit_update(actor, "stall.update", "stall", stall, market.id, before)
    return stall


def save_stall(actor: User, market: Market, stall: Stall | None = None, **fields) -> Stall:
    if not permissions.can_onboard(actor, market):
        raise Forbidden()
    stall = stage_stall(market, stall=stall, actor=actor, **fields)
    commit_or_conflict()
    return stall
