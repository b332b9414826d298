"""Use cases for users. Each public function commits once."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import ROLES, User
from market.errors import Forbidden, InvalidInput
from market.extensions import db
from market.markets.models import Market
from market.merchants.services import commit_or_conflict


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every failure)."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        # Spend the same time as a real check so a wrong username is not faster.
        User(password_hash="").set_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def create_user(
    actor: User | None,
    *,
    username: str,
    full_name: str,
    password: str,
    role: str,
    markets: list[Market] | None = None,
    merchant_id: int | None = None,
) -> User:
    """``actor`` None means the command line (the operator of the server)."""
    if actor is not None and not permissions.can_manage_users(actor):
        raise Forbidden()
    username = username.strip().lower()
    if role not in ROLES:
        raise InvalidInput({"role": [_("Vai trò không hợp lệ.")]})
    if len(password) < 8:
        raise InvalidInput({"password": [_("Mật khẩu cần ít nhất 8 ký tự.")]})
    if db.session.scalar(select(func.count()).where(User.username == username)):
        raise InvalidInput({"username": [_("Tên đăng nhập đã có.")]})
    user = User(username=username, full_name=full_name, role=role, merchant_id=merchant_id)
    user.set_password(password)
    user.markets = list(markets or [])
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.role",
        actor=actor,
        entity="user",
        entity_id=user.id,
        market_id=None,
        old=None,
        new={"username": username, "role": role, "markets": [m.code for m in user.markets]},
    )
    commit_or_conflict()
    return user


def set_role(actor: User | None, user: User, role: str, markets: list[Market]) -> User:
    if actor is not None and not permissions.can_manage_users(actor):
        raise Forbidden()
    if role not in ROLES:
        raise InvalidInput({"role": [_("Vai trò không hợp lệ.")]})
    old = {"role": user.role, "markets": sorted(m.code for m in user.markets)}
    user.role = role
    user.markets = list(markets)
    new = {"role": role, "markets": sorted(m.code for m in markets)}
    if old != new:
        audit.record(
            "user.role",
            actor=actor,
            entity="user",
            entity_id=user.id,
            market_id=None,
            old=old,
            new=new,
        )
    commit_or_conflict()
    return user


def set_preferences(
    user: User, *, locale: str | None = None, large_text: bool | None = None
) -> None:
    if locale in ("vi", "en"):
        user.locale = locale
    if large_text is not None:
        user.large_text = large_text
    db.session.commit()
