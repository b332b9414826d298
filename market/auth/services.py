"""Use cases for users. Each public function commits once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import ROLES, ApiToken, User, utcnow
from market.errors import Forbidden, InvalidInput, NotFound
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


# --- personal API tokens -------------------------------------------------------------------

API_TOKEN_PREFIX = "cho40_"  # noqa: S105 - a public marker that tells tokens apart, not a secret
API_TOKEN_NAME_MAX = 60
# Recording every single use would turn each API read into a write; once a minute is enough
# to tell a user which tokens are in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret is returned once and only its hash is stored."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput({"name": [_("Vui lòng đặt tên cho mã truy cập.")]})
    if len(name) > API_TOKEN_NAME_MAX:
        raise InvalidInput({"name": [_("Tên dài quá %(n)s ký tự.", n=API_TOKEN_NAME_MAX)]})
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[: len(API_TOKEN_PREFIX) + 6],
        token_hash=hash_api_token(secret),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token.create",
        actor=user,
        entity="api_token",
        entity_id=token.id,
        market_id=None,
        new={"name": name, "prefix": token.prefix},
    )
    commit_or_conflict()
    return token, secret


def user_api_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (someone else's is not found: 404)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound(_("Không tìm thấy mã truy cập này."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            "api_token.revoke",
            actor=actor,
            entity="api_token",
            entity_id=token.id,
            market_id=None,
            old={"name": token.name, "prefix": token.prefix},
        )
    commit_or_conflict()
    return token


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def user_for_api_token(secret: str) -> User | None:
    """The active user a live token belongs to, or None (same answer for every failure)."""
    if not secret.startswith(API_TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - _aware(token.last_used_at) >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token.user
