"""Use cases for users. Each public function commits once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import (
    NO_PASSWORD,
    ROLES,
    STAFF_ROLES,
    ActivationCode,
    ApiToken,
    User,
    UserSession,
    hash_secret,
    utcnow,
)
from market.database import insert_rows, one_of
from market.errors import Forbidden, InvalidInput, NotFound
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import Merchant
from market.merchants.services import commit_or_conflict

PASSWORD_MIN = 8
#: Digits of an activation code: typed on a phone's number pad, and with at most
#: ACTIVATION_MAX_FAILURES guesses per code a guess succeeds once in 20 million.
ACTIVATION_CODE_DIGITS = 8
ACTIVATION_MAX_FAILURES = 5


def _find_login(name: str) -> User | None:
    """A login by username, or a merchant's by their phone number (their identity)."""
    name = name.strip().lower()
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None and name.isdigit():
        user = db.session.scalar(
            select(User)
            .join(Merchant, Merchant.id == User.merchant_id)
            .where(Merchant.phone == name, User.role == "merchant")
            .order_by(User.id)
            .limit(1)
        )
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every failure)."""
    user = _find_login(username)
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
    if role == "merchant" and merchant_id is None:
        raise InvalidInput(
            {"merchant": [_("Tài khoản tiểu thương cần số điện thoại của tiểu thương.")]}
        )
    if role != "merchant":
        merchant_id = None
    user = User(username=username, full_name=full_name, role=role, merchant_id=merchant_id)
    user.set_password(password)
    user.activated_at = utcnow()
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


# --- sessions ------------------------------------------------------------------------------


def start_session(user: User, *, now: datetime | None = None) -> str:
    """Open a server-side session for ``user`` (a login); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    db.session.add(UserSession(user_id=user.id, token_hash=hash_secret(token), created_at=now))
    user.last_login_at = now
    commit_or_conflict()
    return token


def end_session(token: str | None) -> None:
    """Logout: the session with this token ends, for every copy of its cookie."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == hash_secret(token)))
    db.session.commit()


def _end_sessions(user: User, *, keep_token: str | None = None) -> None:
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        statement = statement.where(UserSession.token_hash != hash_secret(keep_token))
    db.session.execute(statement)


def live_session_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )


# --- passwords and activation codes ----------------------------------------------------------


def _check_new_password(password: str, confirm: str | None = None) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise InvalidInput({"password": [_("Mật khẩu cần ít nhất 8 ký tự.")]})
    if confirm is not None and confirm != password:
        raise InvalidInput({"confirm": [_("Hai lần nhập mật khẩu không giống nhau.")]})


def hash_activation_code(user_id: int, code: str) -> str:
    """A keyed hash: a code has only 8 digits, so a plain hash of a leaked table could be
    reversed by trying them all; without the server's key it cannot."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    """A code just issued: its only plain copy, for one screen or one printed slip."""

    user: User
    code: str
    expires_at: datetime


def activation_ttl() -> timedelta:
    return timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])


def activation_url(user: User) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    # A merchant's identity is their phone number (whatever their login's name).
    login = user.merchant.phone if user.role == "merchant" and user.merchant else user.username
    return f"{base}/activate/{login}"


def _stage_code(actor: User | None, user: User, *, now: datetime) -> IssuedCode:
    """A new code for ``user``; every earlier code of theirs stops working."""
    return _stage_codes(actor, [user], now)[0]


def _stage_codes(actor: User | None, users: list[User], now: datetime) -> list[IssuedCode]:
    """A new code for each of ``users`` (in their order); every earlier code of theirs stops
    working."""
    secret = secrets.token_bytes(32)
    _insert_codes(actor, [(u.id, u.username) for u in users], now, secret)
    expires_at = now + activation_ttl()
    return [
        IssuedCode(user=u, code=_derive_code(secret, u.id), expires_at=expires_at) for u in users
    ]


def _derive_code(secret: bytes, user_id: int) -> str:
    """The code of login ``user_id`` among the codes issued with ``secret`` (32 random
    bytes, never stored): uniform over the 8-digit numbers to anyone without the secret (64
    bits of an HMAC-SHA256 reduced modulo 10^8: a bias below 10^-11). Codes issued together
    are held as that one secret, not one by one: see ``IssuedCodes``."""
    digest = hmac.new(secret, f"activation-code:{user_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") % 10**ACTIVATION_CODE_DIGITS
    return f"{number:0{ACTIVATION_CODE_DIGITS}d}"


def _insert_codes(
    actor: User | None, logins: list[tuple[int, str]], now: datetime, secret: bytes
) -> None:
    """Stage the codes of ``logins`` ((user id, username)) derived from ``secret``, and
    revoke their earlier live codes: a few statements however many logins (an import issues
    thousands at once). Only the keyed hash of each code is stored (hash_activation_code:
    one HMAC, microseconds; a slow password hash is not needed for a random code that
    works once, for days, after at most ACTIVATION_MAX_FAILURES guesses)."""
    for start in range(0, len(logins), _CODES_CHUNK):
        chunk = [user_id for user_id, _name in logins[start : start + _CODES_CHUNK]]
        db.session.execute(
            update(ActivationCode)
            .where(
                one_of(db.session, ActivationCode.user_id, chunk),
                ActivationCode.used_at.is_(None),
                ActivationCode.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    expires_at = now + activation_ttl()
    created_by_id = actor.id if actor else None
    code_ids = insert_rows(
        db.session,
        ActivationCode.__table__,
        [
            {
                "user_id": user_id,
                "code_hash": hash_activation_code(user_id, _derive_code(secret, user_id)),
                "created_at": now,
                "created_by_id": created_by_id,
                "expires_at": expires_at,
                "failed_attempts": 0,
            }
            for user_id, _name in logins
        ],
        ids=True,
    )
    audit.record_many(
        "activation_code.issue",
        actor=actor,
        entity="user",
        market_id=None,
        changes=[
            (
                user_id,
                None,
                {"code_id": code_id, "username": username, "expires_at": expires_at.isoformat()},
            )
            for (user_id, username), code_id in zip(logins, code_ids, strict=True)
        ],
    )


def merchant_login(merchant: Merchant) -> User | None:
    return db.session.scalar(
        select(User).where(User.merchant_id == merchant.id, User.role == "merchant").limit(1)
    )


def _stage_merchant_login(actor: User | None, merchant: Merchant) -> User:
    user = merchant_login(merchant)
    if user is None:
        user_id, _username = _create_merchant_logins(actor, [merchant])[merchant.id]
        user = db.session.get(User, user_id)
    return user


def _create_merchant_logins(actor: User | None, merchants: list) -> dict[int, tuple[int, str]]:
    """Logins for merchants that have none (``merchants``: anything with ``id``, ``phone``
    and ``full_name``): (user id, username) by merchant id. The phone is the identity; a
    username already taken by someone else (never a phone in practice) gets a suffix, while
    login by phone still finds the merchant. No password hash is computed: a new login has
    none (NO_PASSWORD) until its owner sets one with an activation code."""
    taken = set(
        db.session.scalars(
            select(User.username).where(
                one_of(db.session, User.username, [m.phone for m in merchants])
            )
        )
    )
    now = utcnow()
    rows = [
        {
            "username": m.phone if m.phone not in taken else f"{m.phone}-{m.id}",
            "full_name": m.full_name,
            "role": "merchant",
            "merchant_id": m.id,
            "password_hash": NO_PASSWORD,
            "active": True,
            "large_text": False,
            "created_at": now,
        }
        for m in merchants
    ]
    user_ids = insert_rows(db.session, User.__table__, rows, ids=True)
    audit.record_many(
        "user.create",
        actor=actor,
        entity="user",
        market_id=None,
        changes=[
            (
                user_id,
                None,
                {
                    "username": row["username"],
                    "role": "merchant",
                    "merchant_id": row["merchant_id"],
                },
            )
            for row, user_id in zip(rows, user_ids, strict=True)
        ],
    )
    return {
        row["merchant_id"]: (user_id, row["username"])
        for row, user_id in zip(rows, user_ids, strict=True)
    }


@dataclass(frozen=True)
class IssuedCodes:
    """Codes issued together (the new merchants of an import), held as the one random secret
    they were derived from (``_derive_code``) rather than one by one: an import of 20,000
    merchants held 20,000 logins and codes in memory to answer them once. The secret goes
    to the page that shows them, once, like the codes it stands for (it is never stored); the
    codes come back from it a part at a time, for that page and for the welcome slips
    (``issued_codes``), each checked against its stored hash, so a code used, revoked or
    reissued since is not given back. Codes issued together share ``issued_at`` and their
    issuer: that is how their rows are found again."""

    secret: str  # hex
    issued_at: datetime
    expires_at: datetime
    issued_by_id: int | None
    count: int


def issue_activation_codes(
    actor: User | None, phones: Iterable[str], *, now: datetime | None = None
) -> IssuedCodes:
    """For each merchant with these phone numbers who cannot get in yet (no login, or one
    never activated and without a live code): a login and a one-time code.

    Staged in the caller's transaction (an import commits it with its rows); the codes are
    never stored (``IssuedCodes``). A few statements per _CODES_CHUNK merchants, not per
    merchant, and no ORM objects: an import of a whole market issues thousands at once,
    inside a session that holds the import's rows (a flush per merchant made 2,000 codes
    cost over a minute; 20,000 User objects and their codes held 40 MiB)."""
    now = now or utcnow()
    secret = secrets.token_bytes(32)
    phones = sorted(set(phones))
    count = 0
    for start in range(0, len(phones), _CODES_CHUNK):
        count += _issue_codes(actor, phones[start : start + _CODES_CHUNK], now, secret)
    return IssuedCodes(
        secret=secret.hex(),
        issued_at=now,
        expires_at=now + activation_ttl(),
        issued_by_id=actor.id if actor else None,
        count=count,
    )


_CODES_CHUNK = 2000


def _issue_codes(actor: User | None, phones: list[str], now: datetime, secret: bytes) -> int:
    merchants = db.session.execute(
        select(Merchant.id, Merchant.phone, Merchant.full_name).where(
            one_of(db.session, Merchant.phone, phones)
        )
    ).all()
    if not merchants:
        return 0
    logins = {
        row.merchant_id: row
        for row in db.session.execute(
            select(User.id, User.merchant_id, User.username, User.activated_at).where(
                one_of(db.session, User.merchant_id, [m.id for m in merchants]),
                User.role == "merchant",
            )
        )
    }
    waiting = [row.id for row in logins.values() if row.activated_at is None]
    live = {
        user_id
        for user_id, expires_at in db.session.execute(
            select(ActivationCode.user_id, ActivationCode.expires_at).where(
                one_of(db.session, ActivationCode.user_id, waiting),
                ActivationCode.used_at.is_(None),
                ActivationCode.revoked_at.is_(None),
            )
        )
        if _aware(expires_at) > now
    }
    needed = [
        m
        for m in merchants
        if m.id not in logins
        or not (logins[m.id].activated_at is not None or logins[m.id].id in live)
    ]
    if not needed:
        return 0
    new = [m for m in needed if m.id not in logins]
    created = _create_merchant_logins(actor, new) if new else {}
    pairs = [
        created[m.id] if m.id in created else (logins[m.id].id, logins[m.id].username)
        for m in needed
    ]
    _insert_codes(actor, pairs, now, secret)
    return len(needed)


def issued_codes(
    issued: IssuedCodes, *, offset: int = 0, limit: int | None = None
) -> list[IssuedCode]:
    """The live codes of ``issued``, by name (``offset``/``limit``: a part of them), each
    checked against its stored hash."""
    secret = bytes.fromhex(issued.secret)
    issuer = (
        ActivationCode.created_by_id.is_(None)
        if issued.issued_by_id is None
        else ActivationCode.created_by_id == issued.issued_by_id
    )
    rows = db.session.execute(
        select(User, ActivationCode.code_hash, ActivationCode.expires_at)
        .join(ActivationCode, ActivationCode.user_id == User.id)
        .where(
            ActivationCode.created_at == issued.issued_at,
            issuer,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
        )
        .options(joinedload(User.merchant))
        .order_by(User.full_name, User.id)
        .offset(offset)
        .limit(limit)
    )
    codes = []
    for user, code_hash, expires_at in rows:
        code = _derive_code(secret, user.id)
        if hmac.compare_digest(code_hash, hash_activation_code(user.id, code)):
            codes.append(IssuedCode(user=user, code=code, expires_at=_aware(expires_at)))
    return codes


def issued_codes_from(actor: User, issued_at: str, secret: str) -> IssuedCodes:
    """The codes ``actor`` issued together, named by what their page posts back (when, and
    the secret): only their issuer gets them back, and only those still live."""
    try:
        moment = datetime.fromisoformat(issued_at)
        if len(secret) != 64:
            raise ValueError(secret)
        bytes.fromhex(secret)
    except ValueError:
        raise InvalidInput({"slip": [_("Mã này không còn dùng được; hãy cấp mã mới.")]}) from None
    return IssuedCodes(
        secret=secret,
        issued_at=moment,
        expires_at=moment + activation_ttl(),
        issued_by_id=actor.id,
        count=0,  # unknown here: as many as are still live
    )


def welcome_merchant(actor: User, merchant: Merchant) -> IssuedCode | None:
    """After a merchant is onboarded by form: their login and code, if they cannot get in."""
    issued = issue_activation_codes(actor, [merchant.phone])
    commit_or_conflict()
    codes = issued_codes(issued) if issued.count else []
    return codes[0] if codes else None


def _merchant_markets(merchant: Merchant) -> list[Market]:
    return list(
        db.session.scalars(
            select(Market)
            .join(Stall, Stall.market_id == Market.id)
            .where(Stall.merchant_id == merchant.id)
            .distinct()
        )
    )


def can_give_access(actor: User, merchant: Merchant) -> bool:
    """Managers and helpers of a market where the merchant has a stall (and the province)."""
    if actor.role == "admin":
        return True
    return any(permissions.can_onboard(actor, m) for m in _merchant_markets(merchant))


def reissue_merchant_access(
    actor: User | None, merchant: Merchant, *, now: datetime | None = None
) -> IssuedCode:
    """ "Lost their phone": a new code; the old code and every session of the merchant end."""
    if actor is not None and not can_give_access(actor, merchant):
        raise Forbidden()
    now = now or utcnow()
    user = _stage_merchant_login(actor, merchant)
    _end_sessions(user)
    issued = _stage_code(actor, user, now=now)
    commit_or_conflict()
    return issued


def reset_password(actor: User | None, user: User, *, now: datetime | None = None) -> IssuedCode:
    """A staff member's reset: an activation code as for merchants; every session ends."""
    if actor is not None and not can_edit_user(actor, user):
        raise Forbidden()
    now = now or utcnow()
    _end_sessions(user)
    issued = _stage_code(actor, user, now=now)
    commit_or_conflict()
    return issued


def _live_code(user: User, now: datetime) -> ActivationCode | None:
    row = db.session.scalar(
        select(ActivationCode)
        .where(
            ActivationCode.user_id == user.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
        )
        .order_by(ActivationCode.id.desc())
        .limit(1)
    )
    if row is None or _aware(row.expires_at) <= now:
        return None
    return row


def login_to_activate(username: str) -> User | None:
    user = _find_login(username)
    return user if user is not None and user.active else None


def activate(
    username: str,
    code: str,
    password: str,
    confirm: str,
    *,
    now: datetime | None = None,
) -> tuple[User, str]:
    """Use a one-time code to set a password; returns the user and a new session's token.

    A wrong code counts against the code: after ACTIVATION_MAX_FAILURES it stops working
    (a new one must be issued). Every earlier session of the user ends."""
    now = now or utcnow()
    wrong = InvalidInput({"code": [_("Mã kích hoạt không đúng hoặc đã hết hạn.")]})
    user = login_to_activate(username)
    row = _live_code(user, now) if user is not None else None
    if row is None:
        raise wrong
    code = "".join((code or "").split())
    if not hmac.compare_digest(row.code_hash, hash_activation_code(user.id, code)):
        row.failed_attempts += 1
        if row.failed_attempts >= ACTIVATION_MAX_FAILURES:
            row.revoked_at = now
            audit.record(
                "activation_code.locked",
                actor=None,
                entity="user",
                entity_id=user.id,
                market_id=None,
                new={"code_id": row.id, "failed_attempts": row.failed_attempts},
            )
        db.session.commit()
        raise wrong
    _check_new_password(password, confirm)
    # Compare-and-set: two devices racing with the same code, only one wins.
    result = db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.id == row.id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise wrong
    user.set_password(password)
    if user.activated_at is None:
        user.activated_at = now
    _end_sessions(user)
    audit.record(
        "activation_code.use",
        actor=user,
        entity="user",
        entity_id=user.id,
        market_id=None,
        new={"code_id": row.id, "username": user.username},
    )
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=hash_secret(token), created_at=now))
    user.last_login_at = now
    commit_or_conflict()
    return user, token


def change_password(
    user: User, current: str, new: str, confirm: str, *, keep_token: str | None
) -> None:
    """Change one's own password (the current one required); every other session ends."""
    if not user.check_password(current or ""):
        raise InvalidInput({"current": [_("Mật khẩu hiện tại không đúng.")]})
    _check_new_password(new, confirm)
    user.set_password(new)
    _end_sessions(user, keep_token=keep_token)
    audit.record("user.password", actor=user, entity="user", entity_id=user.id, market_id=None)
    commit_or_conflict()


# --- staff accounts --------------------------------------------------------------------------


def can_edit_user(actor: User, user: User) -> bool:
    """The province edits every staff login; a manager, helpers of their own markets only."""
    if user.id == actor.id:
        return False
    if actor.role == "admin":
        return user.role in STAFF_ROLES
    if actor.role == "manager":
        ids = user.market_ids
        return user.role == "helper" and bool(ids) and ids <= actor.market_ids
    return False


def manageable_users(actor: User) -> list[User]:
    """The logins ``actor`` looks after: all staff for the province, a manager's helpers."""
    if actor.role == "admin":
        query = select(User).where(User.role.in_(STAFF_ROLES))
    elif actor.role == "manager":
        query = select(User).where(User.role == "helper")
    else:
        return []
    users = db.session.scalars(query.order_by(User.role, User.username)).all()
    return [u for u in users if u.id == actor.id or can_edit_user(actor, u)]


def assignable_markets(actor: User) -> list[Market]:
    if actor.role == "admin":
        return list(db.session.scalars(select(Market).order_by(Market.name)))
    return sorted(actor.markets, key=lambda m: m.name)


def _check_staff(actor: User | None, role: str, markets: list[Market]) -> None:
    if role not in STAFF_ROLES:
        raise InvalidInput({"role": [_("Vai trò không hợp lệ.")]})
    if actor is None or actor.role == "admin":
        if role in ("manager", "helper") and not markets:
            raise InvalidInput({"markets": [_("Vui lòng chọn ít nhất một chợ.")]})
        return
    if actor.role == "manager":
        if role != "helper":
            raise Forbidden(_("Quản lý chợ chỉ tạo được tài khoản người hỗ trợ."))
        if not markets:
            raise InvalidInput({"markets": [_("Vui lòng chọn ít nhất một chợ.")]})
        if not {m.id for m in markets} <= actor.market_ids:
            raise Forbidden(_("Bạn chỉ giao được các chợ mình quản lý."))
        return
    raise Forbidden()


def create_staff(
    actor: User,
    *,
    username: str,
    full_name: str,
    role: str,
    markets: list[Market],
    now: datetime | None = None,
) -> IssuedCode:
    """A staff login without a password: its activation code is returned once."""
    if actor.role not in ("admin", "manager"):
        raise Forbidden()
    _check_staff(actor, role, markets)
    username = username.strip().lower()
    full_name = " ".join((full_name or "").split())
    errors = {}
    if not username or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = [_("Tên đăng nhập chỉ gồm chữ, số và . _ -")]
    elif db.session.scalar(select(func.count()).where(User.username == username)):
        errors["username"] = [_("Tên đăng nhập đã có.")]
    if not full_name:
        errors["full_name"] = [_("Vui lòng nhập họ tên.")]
    if errors:
        raise InvalidInput(errors)
    user = User(
        username=username, full_name=full_name, role=role, password_hash=NO_PASSWORD, active=True
    )
    user.markets = list(markets)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        actor=actor,
        entity="user",
        entity_id=user.id,
        market_id=None,
        new={"username": username, "role": role, "markets": sorted(m.code for m in markets)},
    )
    issued = _stage_code(actor, user, now=now or utcnow())
    commit_or_conflict()
    return issued


def update_staff(
    actor: User, user: User, *, full_name: str, role: str, markets: list[Market]
) -> User:
    """The province changes a staff login's name, role and markets (from its next request)."""
    if actor.role != "admin" or not can_edit_user(actor, user):
        raise Forbidden()
    _check_staff(actor, role, markets)
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise InvalidInput({"full_name": [_("Vui lòng nhập họ tên.")]})
    old = {
        "full_name": user.full_name,
        "role": user.role,
        "markets": sorted(m.code for m in user.markets),
    }
    user.full_name = full_name
    user.role = role
    user.markets = list(markets)
    new = {"full_name": full_name, "role": role, "markets": sorted(m.code for m in markets)}
    if old != new:
        audit.record(
            "user.update",
            actor=actor,
            entity="user",
            entity_id=user.id,
            market_id=None,
            old=old,
            new=new,
        )
    commit_or_conflict()
    return user


def set_active(actor: User, user: User, active: bool) -> User:
    """Deactivate (every session ends at once) or reactivate a staff login."""
    if not can_edit_user(actor, user):
        raise Forbidden()
    if user.active != active:
        user.active = active
        if not active:
            _end_sessions(user)
        audit.record(
            "user.deactivate" if not active else "user.reactivate",
            actor=actor,
            entity="user",
            entity_id=user.id,
            market_id=None,
            old={"active": not active},
            new={"active": active},
        )
    commit_or_conflict()
    return user


# --- reading, for the views ----------------------------------------------------------------


def merchant_stalls(user: User) -> list[Stall]:
    """All and only the stalls of the merchant a login belongs to, across markets."""
    if user.merchant_id is None:
        return []
    return list(
        db.session.scalars(
            select(Stall).where(Stall.merchant_id == user.merchant_id).order_by(Stall.code)
        )
    )


def merchant_in_market(merchant: Merchant, market: Market) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Stall)
            .where(Stall.merchant_id == merchant.id, Stall.market_id == market.id)
        )
    )


def markets_by_ids(ids: Iterable[int]) -> list[Market]:
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(Market).where(Market.id.in_(ids))))


def code_for_slip(actor: User, user_id: int, code: str) -> tuple[User, ActivationCode]:
    """The live code ``code`` of ``user_id``, if ``actor`` may print it on a welcome slip.

    The page that showed the code posts it back to be printed; a code that is not the
    user's live one (or a user the actor does not look after) is refused, so this prints
    nothing that was not just issued to someone the actor onboards."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.role == "merchant":
        allowed = user.merchant is not None and can_give_access(actor, user.merchant)
    else:
        allowed = can_edit_user(actor, user)
    if not allowed:
        raise Forbidden()
    row = _live_code(user, utcnow())
    if row is None or not hmac.compare_digest(row.code_hash, hash_activation_code(user.id, code)):
        raise InvalidInput({"slip": [_("Mã này không còn dùng được; hãy cấp mã mới.")]})
    return user, row
