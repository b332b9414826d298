from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import session
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from market.extensions import db

if TYPE_CHECKING:
    from market.markets.models import Market
    from market.merchants.models import Merchant

ROLES = ("admin", "manager", "helper", "merchant")
STAFF_ROLES = ("admin", "manager", "helper")


def utcnow() -> datetime:
    return datetime.now(UTC)


user_markets = Table(
    "user_markets",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("market_id", Integer, ForeignKey("markets.id", ondelete="CASCADE"), primary_key=True),
)


#: The password hash of a login that has no password yet: no password matches it.
NO_PASSWORD = "!"  # noqa: S105 - a marker no hash equals, not a password


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'manager', 'helper', 'merchant')", name="role"),
        CheckConstraint("locale IS NULL OR locale IN ('vi', 'en')", name="locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str | None] = mapped_column(String(5))
    large_text: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # None until the person set a password of their own (by an activation code, or at
    # creation on the command line); a login without one has no usable password.
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    markets: Mapped[list[Market]] = relationship(secondary=user_markets, lazy="selectin")
    merchant: Mapped[Merchant | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        if self.activated_at is None:
            self.activated_at = utcnow()  # a password of their own: the login is in use

    def check_password(self, password: str) -> bool:
        if "$" not in (self.password_hash or ""):
            return False  # no password yet (NO_PASSWORD): waiting for an activation code
        return check_password_hash(self.password_hash, password)

    @property
    def activated(self) -> bool:
        return self.activated_at is not None

    @property
    def market_ids(self) -> set[int]:
        return {m.id for m in self.markets}

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


def load_user(user_id: str) -> User | None:
    """The user of this request's session, if that session is still open on the server.

    The cookie alone is not enough: logout, a password change, a reissued code or a
    deactivation delete the session rows, so a copy of an old cookie no longer works."""
    if not user_id.isdigit():
        return None
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return None
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == hash_secret(token),
            User.id == int(user_id),
            User.active,
        )
    )
    return user


#: The session key holding the server-side session's token.
SESSION_KEY = "sid"


def hash_secret(secret: str) -> str:
    """sha256 of a random secret of 256 bits (a slow hash adds nothing at that entropy)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class UserSession(db.Model):
    """A login on one device. The cookie holds a random token; only its hash is kept here.
    Deleting the row ends the session, whatever copies of the cookie exist."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ActivationCode(db.Model):
    """A one-time code that lets a person set their own password (a new merchant, a reset).

    Only a keyed hash of the code is kept (see market.auth.services.hash_activation_code);
    the code itself exists on one screen or one printed slip."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ApiToken(db.Model):
    """A personal API token. Only a hash of the secret is kept; the secret is shown once.

    A token acts as its user: whatever the user may see and change right now, the token may,
    so a change of role or markets (or deactivating the user) applies to it at once.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    # The first characters of the token, so a user can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    # sha256 of the whole token: the secret has 256 bits of entropy, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… of user {self.user_id}>"
