"""The audit log as people read it: one sentence per entry naming who did what to which
stall ("quanly đổi tài khoản nhận tiền của sạp C-001: …"), the raw keys kept beside it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from market.audit.models import AuditLog
from market.extensions import db
from market.markets.forms import MARKET_STATUS_LABELS, STALL_STATUS_LABELS
from market.markets.models import GOODS_CATEGORIES, Market, Stall
from market.vietqr import bank_by_bin

#: Names of the fields an entry's old/new values carry, as a sentence says them.
FIELD_LABELS = {
    "code": _l("mã"),
    "name": _l("tên"),
    "zone": _l("khu / dãy"),
    "category": _l("ngành hàng"),
    "status": _l("trạng thái"),
    "district": _l("huyện / thành phố"),
    "commune": _l("xã / phường"),
    "address": _l("địa chỉ"),
    "launch_date": _l("ngày bắt đầu"),
    "fees_cashless_since": _l("thu phí không tiền mặt từ"),
    "ecommerce_listed_since": _l("lên sàn thương mại điện tử từ"),
    "ecommerce_note": _l("ghi chú thương mại điện tử"),
}


@dataclass(frozen=True)
class LogLine:
    """One audit entry: ``sentence`` to read, ``entry`` for its raw old/new values."""

    entry: AuditLog
    sentence: str


def market_log(market: Market, limit: int = 200) -> list[LogLine]:
    """The newest ``limit`` entries of a market, each as a sentence naming its stall."""
    entries = db.session.scalars(
        select(AuditLog)
        .options(joinedload(AuditLog.actor))
        .where(AuditLog.market_id == market.id)
        .order_by(AuditLog.id.desc())
        .limit(limit)
    ).all()
    stall_ids = {e.entity_id for e in entries if e.entity == "stall" and e.entity_id}
    codes = dict(
        db.session.execute(select(Stall.id, Stall.code).where(Stall.id.in_(stall_ids))).all()
        if stall_ids
        else []
    )
    return [LogLine(entry, describe(entry, codes.get(entry.entity_id))) for entry in entries]


def describe(entry: AuditLog, stall_code: str | None = None) -> str:
    """``entry`` as a sentence in the reader's language."""
    actor = entry.actor.username if entry.actor else _("hệ thống")
    old, new = entry.old or {}, entry.new or {}
    stall = stall_code or new.get("code") or old.get("code") or "?"
    write = _SENTENCES.get(entry.action)
    if write is None:
        return _("%(actor)s: %(action)s", actor=actor, action=entry.action)
    return write(actor, stall, old, new)


def _account(values: dict[str, Any]) -> str:
    bank = bank_by_bin(values.get("bank_bin") or "")
    name = bank.short_name if bank else values.get("bank_bin", "?")
    return f"{name} · {values.get('account_number', '?')} · {values.get('holder_name', '?')}"


def _value(field: str, value: Any) -> str:
    if value in (None, ""):
        return _("(trống)")
    labels = {
        "category": GOODS_CATEGORIES,
        "status": {**MARKET_STATUS_LABELS, **STALL_STATUS_LABELS},
    }
    if field in labels and value in labels[field]:
        return str(labels[field][value])
    return str(value)


def _changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    return "; ".join(
        _(
            "%(field)s %(old)s → %(new)s",
            field=FIELD_LABELS.get(name, name),
            old=_value(name, old.get(name)),
            new=_value(name, new.get(name)),
        )
        for name in new
    )


def _payee_set(actor: str, stall: str, old: dict, new: dict) -> str:
    if old:
        return _(
            "%(actor)s đổi tài khoản nhận tiền của sạp %(stall)s: %(old)s → %(new)s (chờ xác minh)",
            actor=actor,
            stall=stall,
            old=_account(old),
            new=_account(new),
        )
    return _(
        "%(actor)s đặt tài khoản nhận tiền cho sạp %(stall)s: %(new)s (chờ xác minh)",
        actor=actor,
        stall=stall,
        new=_account(new),
    )


def _stall_assign(actor: str, stall: str, old: dict, new: dict) -> str:
    if new.get("merchant_id") is None:
        return _("%(actor)s bỏ tiểu thương khỏi sạp %(stall)s", actor=actor, stall=stall)
    return _(
        "%(actor)s giao sạp %(stall)s cho %(name)s",
        actor=actor,
        stall=stall,
        name=new.get("merchant_name") or "?",
    )


_SENTENCES: dict[str, Callable[[str, str, dict, dict], str]] = {
    "payee.set": _payee_set,
    "payee.verify": lambda actor, stall, old, new: _(
        "%(actor)s xác minh tài khoản nhận tiền của sạp %(stall)s: %(new)s",
        actor=actor,
        stall=stall,
        new=_account(new),
    ),
    "stall.assign": _stall_assign,
    "stall.create": lambda actor, stall, old, new: _(
        "%(actor)s thêm sạp %(stall)s", actor=actor, stall=stall
    ),
    "stall.update": lambda actor, stall, old, new: _(
        "%(actor)s sửa sạp %(stall)s: %(changes)s",
        actor=actor,
        stall=stall,
        changes=_changes(old, new),
    ),
    "market.create": lambda actor, stall, old, new: _(
        "%(actor)s tạo chợ %(name)s", actor=actor, name=new.get("name", "?")
    ),
    "market.update": lambda actor, stall, old, new: _(
        "%(actor)s sửa thông tin chợ: %(changes)s", actor=actor, changes=_changes(old, new)
    ),
    "market.adoption": lambda actor, stall, old, new: _(
        "%(actor)s cập nhật tiêu chí Chợ 4.0 của chợ: %(changes)s",
        actor=actor,
        changes=_changes(old, new),
    ),
    "payment.assign": lambda actor, stall, old, new: _(
        "%(actor)s ghi khoản tiền chưa khớp vào sạp %(stall)s",
        actor=actor,
        stall=new.get("stall") or "?",
    ),
    "payment.not_a_sale": lambda actor, stall, old, new: _(
        "%(actor)s đánh dấu một khoản tiền chưa khớp là không phải tiền bán hàng: %(reason)s",
        actor=actor,
        reason=new.get("reason") or "",
    ),
}
