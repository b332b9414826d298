"""Use cases of the payments domain. Each public function commits once.

Webhook ingest never answers "stored" for a notification that is not committed: it verifies,
reconciles, inserts under the (provider, event id) unique constraint together with its
rollup and order credit, commits, and only then returns. A repeated event inserts nothing
(ON CONFLICT DO NOTHING), so nothing else moves either, and it is reported as a duplicate
(the caller still answers 200, so the sender stops retrying): a retried or replayed
notification is stored and counted once. When the database cannot be reached the caller gets
:class:`StorageUnavailable` (503), so the sender retries later.
"""

from __future__ import annotations

import functools
import io
import json
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.sql.selectable import CTE
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from market.adoption.services import (
    received_payment_params,
    received_payment_upserts,
    stage_received_payment,
)
from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User, utcnow
from market.database import driver_statement, sqlite_write_turn
from market.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from market.extensions import db
from market.fees.money import services as fee_services
from market.markets.models import Stall
from market.payments import queries, signatures
from market.payments.models import (
    AUTH_MODES,
    PROVIDERS,
    CollectOrder,
    IntegrationAccount,
    IntegrationRefusal,
    PaymentNotification,
    WebhookIntegration,
)
from market.payments.schemas import SCHEMAS, Transfer
from market.payments.values import new_reference

#: A bank notification is a few hundred bytes; anything much larger is not one.
MAX_WEBHOOK_BODY = 64 * 1024
MIN_SECRET_LENGTH = 16


class WebhookRefused(DomainError):
    """Not signed with our secret, stale, or for a provider we have not set up."""

    status = 401
    default_message = _l("Chữ ký webhook không hợp lệ.")


class PayloadTooLarge(DomainError):
    status = 413
    default_message = _l("Nội dung webhook quá lớn.")


class StorageUnavailable(DomainError):
    """The database did not take the notification; the sender must retry."""

    status = 503
    default_message = _l("Chưa lưu được thông báo. Vui lòng gửi lại sau.")


@dataclass(frozen=True, slots=True)
class IngestResult:
    event_id: str
    duplicate: bool
    match_status: str | None


@dataclass(frozen=True, slots=True)
class _Credentials:
    secret: str
    auth_mode: str
    enabled: bool
    id: int


#: How long a worker trusts what it read of an integration is the setting
#: ``INTEGRATION_CACHE_SECONDS`` (``MARKET_INTEGRATION_CACHE_SECONDS``, 5 s by default). Every
#: notification needs the secret; reading it from the database each time costs a round trip per
#: webhook, so a change on the admin screen reaches the other workers within that many seconds
#: (the saving worker at once). A provider retries whatever a stale setting refused.
INTEGRATIONS_CACHE = "payments.integrations"


def integrations_cache(app: Flask) -> dict:
    """This worker's cache of integration settings for ``app`` (shared with the webhook app
    mounted in it, see market.app.register_webhook_app)."""
    return app.extensions.setdefault(INTEGRATIONS_CACHE, {})


def _credentials(provider: str, name: str = "") -> _Credentials:
    cache = integrations_cache(current_app)
    key = (provider, name) if name else provider  # the main integration: as before
    hit = cache.get(key)
    ttl = current_app.config["INTEGRATION_CACHE_SECONDS"]
    if hit is None or time.monotonic() - hit[0] >= ttl:
        try:
            with db.engine.connect() as connection:
                found = queries.credentials(provider, connection, name)
        except (DBAPIError, PoolTimeout) as exc:
            raise StorageUnavailable() from exc
        hit = (time.monotonic(), _Credentials(*found) if found is not None else None)
        cache[key] = hit
    if hit[1] is None or not hit[1].enabled:
        if hit[1] is not None:
            _refused(hit[1].id, "disabled")
        label = f"{provider}/{name}" if name else provider
        raise WebhookRefused(_("Tích hợp %(provider)s chưa được bật.", provider=label))
    return hit[1]


def forget_integrations() -> None:
    """Drop this worker's cached integration settings (after a change)."""
    integrations_cache(current_app).clear()


def _json(raw_body: bytes) -> Any:
    try:
        return json.loads(raw_body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput({"_schema": [_("Nội dung không phải JSON hợp lệ.")]}) from exc


_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


def _sepay_payload(raw_body: bytes, content_type: str) -> Any:
    """SePay posts JSON, or (as its webhook settings allow) the same fields form-encoded or
    as multipart form data. JSON, nearly every notification, costs two prefix checks more."""
    if not content_type.startswith((_FORM, _MULTIPART)):
        return _json(raw_body)
    mimetype, options = parse_options_header(content_type)
    try:
        if mimetype == _FORM:
            fields = urllib.parse.parse_qsl(
                raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw_body)
            )
        else:
            _stream, form, _files = FormDataParser().parse(
                io.BytesIO(raw_body), mimetype, len(raw_body), options
            )
            fields = form.items(multi=False)
    except ValueError as exc:  # UnicodeDecodeError, a malformed pair or multipart body
        raise InvalidInput({"_schema": [_("Nội dung webhook không đọc được.")]}) from exc
    # A form has no null: SePay's null fields (code, subAccount…) arrive empty.
    return {name: (value if value != "" else None) for name, value in fields}


def ingest_notification(
    provider: str,
    raw_body: bytes,
    headers: Any,
    *,
    now: datetime | None = None,
    integration: str = "",
) -> IngestResult:
    """Verify, store once and reconcile one webhook notification from ``provider``, signed
    with the secret of its integration named ``integration`` ("" is the main one)."""
    if provider not in PROVIDERS:
        raise NotFound()
    if len(raw_body) > MAX_WEBHOOK_BODY:
        raise PayloadTooLarge()
    now = now or utcnow()
    credentials = _credentials(provider, integration)
    secret, auth_mode = credentials.secret, credentials.auth_mode
    try:
        if provider == "sepay":
            signatures.verify_sepay(raw_body, headers, secret, auth_mode, now=now.timestamp())
            payload = _sepay_payload(raw_body, headers.get("Content-Type") or "")
        else:
            payload = _json(raw_body)
            signatures.verify_casso(
                payload, headers.get(signatures.CASSO_SIGNATURE), secret, now=now.timestamp()
            )
        transfer: Transfer = SCHEMAS[provider].load(payload)
    except signatures.SignatureError as exc:
        _refused(credentials.id, exc.reason, now)
        raise WebhookRefused() from exc
    except (InvalidInput, ValidationError):
        _refused(credentials.id, "wrong_shape", now)
        raise
    # (provider, event id) is unique: a repeated event inserts nothing, so nothing after it
    # (rollups, order) moves either, and it is answered as a duplicate.
    stored = _store(_store_params(transfer, raw_body, now))
    _note_received(credentials.id, now)
    if stored is None:
        return IngestResult(transfer.event_id, duplicate=True, match_status=None)
    if stored[2] == "unmatched":
        _reconcile_fee(transfer, now)
    return IngestResult(transfer.event_id, duplicate=False, match_status=stored[2])


# --- the integrations' health ------------------------------------------------------------------

#: An integration's last notification is written at most this often per worker: its health
#: needs minutes, not milliseconds, and the accepted path stays without a write of its own
#: (one UPDATE a minute per worker and integration, whatever the rate of notifications).
RECEIVED_NOTE_SECONDS = 60.0


_integrations = WebhookIntegration.__table__.c
_NOTE_RECEIVED = (
    update(WebhookIntegration.__table__)
    .where(
        _integrations.id == bindparam("integration_id"),
        (_integrations.last_received_at.is_(None))
        | (_integrations.last_received_at < bindparam("now", type_=DateTime(timezone=True))),
    )
    .values(last_received_at=bindparam("now", type_=DateTime(timezone=True)))
)


@functools.cache
def _refusal_upsert(dialect: str):
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    table = IntegrationRefusal.__table__
    statement = insert(table).values(
        integration_id=bindparam("integration_id"),
        reason=bindparam("reason"),
        count=1,
        last_at=bindparam("now", type_=DateTime(timezone=True)),
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.integration_id, table.c.reason],
        set_={"count": table.c.count + 1, "last_at": statement.excluded.last_at},
    )


def _health_write(statement, params: dict[str, Any]) -> None:
    """Run one small health write on its own connection. A failure is logged and dropped: the
    notification's own answer (stored, or refused) does not depend on it."""
    engine = db.engine
    try:
        with sqlite_write_turn(engine), engine.begin() as connection:
            connection.execute(statement, params)
    except (DBAPIError, PoolTimeout):
        current_app.logger.warning("integration health not recorded", exc_info=True)


def _refused(integration_id: int, reason: str, now: datetime | None = None) -> None:
    """Count one refusal of a notification addressed to this integration (one upsert)."""
    _health_write(
        _refusal_upsert(db.engine.dialect.name),
        {"integration_id": integration_id, "reason": reason, "now": now or utcnow()},
    )


def _note_received(integration_id: int, now: datetime) -> None:
    """Note that this integration delivered a notification (at most once a minute here)."""
    cache = integrations_cache(current_app)
    key = ("received", integration_id)
    seen = cache.get(key)
    if seen is not None and time.monotonic() - seen < RECEIVED_NOTE_SECONDS:
        return
    cache[key] = time.monotonic()
    _health_write(_NOTE_RECEIVED, {"integration_id": integration_id, "now": now})


def store_transfer(transfer: Transfer, raw_body: bytes, now: datetime) -> tuple | None:
    """Store one transfer read from a provider's transactions API (market.payments.sync) by
    the webhook's own path: matched, counted in the rollups and credited to its order in one
    committed transaction, or nothing if either route stored it already. Returns (stall id,
    order id, match status), None for a transfer stored before."""
    stored = _store(_store_params(transfer, raw_body, now))
    if stored is not None and stored[2] == "unmatched":
        _reconcile_fee(transfer, now)
    return stored


def _reconcile_fee(transfer: Transfer, now: datetime) -> None:
    """A transfer no stall's account received may be a market fee paid into the board's
    account (market.fees.money): recorded against its bill after the notification is
    committed, in a transaction of its own. Only unmatched transfers (a few) pay for this;
    the stall's path above is unchanged. If it fails the notification is still stored (the
    sender must not retry it): it stays on the unmatched list, and ``flask fees-reconcile``
    or a person picks it up."""
    try:
        fee_services.reconcile_event(transfer.provider, transfer.event_id, now=now)
    except (DBAPIError, PoolTimeout):
        current_app.logger.exception("fee reconciliation of %s failed", transfer.event_id)


def _store(params: dict[str, Any]) -> tuple | None:
    """Store one notification with its rollups and order credit, committed when this
    returns: (stall id, order id, match status), or None for a duplicate.

    It runs on a pooled connection's driver, below SQLAlchemy's Connection
    (market.database.DriverStatement): the statements are built with SQLAlchemy and compiled
    once, and this is the hot path of a bank's burst. Any database failure, taking the
    connection, a statement or the commit, rolls back and becomes :class:`StorageUnavailable`
    (503), so the sender retries; a connection the server dropped is discarded, not handed
    to the next webhook."""
    engine = db.engine
    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()
    except (DBAPIError, PoolTimeout) as exc:
        raise StorageUnavailable() from exc
    driver = pooled.dbapi_connection
    try:
        if dialect.name == "postgresql":
            return _write_postgresql(driver, dialect, params)
        with sqlite_write_turn(engine):
            return _write_sqlite(driver, dialect, params)
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, driver, None):
            pooled.invalidate(exc)
        raise StorageUnavailable() from exc
    finally:
        pooled.close()  # back to the pool, nothing left open: committed or rolled back


def _write_postgresql(driver: Any, dialect: Dialect, params: dict[str, Any]) -> tuple | None:
    # One statement, atomic by itself: the webhook app's engine connects in autocommit mode
    # (market.app.register_webhook_app), so it is committed when it returns.
    statement = driver_statement(_store_statement("postgresql"), dialect)
    try:
        with driver.cursor() as cursor:
            rows = statement.execute(cursor, params)
        stored = rows[0] if rows else None
        if not driver.autocommit:  # the main app's engine (a command, a test)
            _commit(driver)
    except BaseException:
        if not driver.autocommit and not driver.closed:
            driver.rollback()
        raise
    return stored


def _write_sqlite(driver: Any, dialect: Dialect, params: dict[str, Any]) -> tuple | None:
    # SQLite has no data-modifying CTEs: the rollups and the order credit follow the insert
    # in its transaction. Begun explicitly: the driver opens one by itself only before a
    # statement that starts with INSERT, UPDATE, DELETE or REPLACE, and the store statement
    # starts with WITH.
    cursor = driver.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        rows = driver_statement(_store_statement("sqlite"), dialect).execute(cursor, params)
        stored = rows[0] if rows else None
        if stored is not None:
            stall_id, order_id, _status = stored
            if stall_id is not None:
                rollup = params | {"payment_stall_id": stall_id}
                for upsert in received_payment_upserts("sqlite"):
                    driver_statement(upsert, dialect).execute(cursor, rollup)
            if order_id is not None:
                credit = params | {"credited_order": order_id}
                driver_statement(_credit_order_statement(), dialect).execute(cursor, credit)
        _commit(driver)
    except BaseException:
        driver.rollback()
        raise
    finally:
        cursor.close()
    return stored


def _commit(driver: Any) -> None:
    driver.commit()


def _store_params(transfer: Transfer, raw_body: bytes, now: datetime) -> dict[str, Any]:
    """Everything :func:`_store_statement` needs for one notification, worked out before
    the write (on SQLite, before this worker's turn to write)."""
    counted = transfer.direction == "in" and transfer.amount > 0
    transaction_at = transfer.transaction_at or now
    notification = {
        "provider": transfer.provider,
        "event_id": transfer.event_id,
        "raw_body": raw_body.decode("utf-8", "replace"),
        "received_at": now,
        "transaction_at": transaction_at,
        "account_number": transfer.account_number[:40],
        "amount": transfer.amount,
        "direction": transfer.direction,
        "content": transfer.content[:2000],
        "reference_code": transfer.reference_code,
        "payer_name": transfer.payer_name,
    }
    # One namespace per part of the statement: no key may be a column name of collect_orders,
    # or SQLAlchemy would add it to the UPDATE's SET clause.
    params = {f"notification_{key}": value for key, value in notification.items()}
    params |= queries.match_params(
        counted=counted,
        accounts=(transfer.account_number, transfer.sub_account),
        content=transfer.content,
        bank=transfer.bank,
        since=now - queries.ORDER_LOOKBACK,
    )
    # The rollups' day and amount; their stall is the one the match finds.
    params |= received_payment_params(None, transaction_at, transfer.amount)
    params |= {"paid_amount": transfer.amount, "paid_now": now}
    return params


#: Every column the notification's own values fill (the match fills the rest; the id is the
#: database's): a notification is always stored whole.
_MATCHED_COLUMNS = ("stall_id", "order_id", "match_status")
#: A person's review of an unmatched notification, filled later (assign_unmatched): never
#: part of the stored statement, which stays as short as it was.
_REVIEW_COLUMNS = ("reviewed_at", "review_note")
_NOTIFICATION_COLUMNS = tuple(
    column.name
    for column in PaymentNotification.__table__.columns
    if column.name != "id" and column.name not in (*_MATCHED_COLUMNS, *_REVIEW_COLUMNS)
)


@functools.cache
def _store_statement(dialect: str):
    """Match a notification to its stall and order (queries.MATCH) and insert it, unless its
    (provider, event id) is stored already; returns its stall id, order id and match status
    (no row for a duplicate).

    On PostgreSQL the same statement also adds a matched payment to the adoption rollups and
    credits its collect order: data-modifying CTEs that take their row from the insert's, so
    for a duplicate they do nothing, and the whole is one atomic statement and one round
    trip. SQLite has no data-modifying CTEs; :func:`_write_sqlite` runs those parts after it,
    in its transaction."""
    table = PaymentNotification.__table__
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    match = queries.MATCH.subquery("matched")
    values = select(
        *(
            bindparam(f"notification_{name}", type_=table.c[name].type).label(name)
            for name in _NOTIFICATION_COLUMNS
        ),
        *(match.c[name] for name in _MATCHED_COLUMNS),
    ).where(true())  # SQLite reads "SELECT … ON CONFLICT" as a join's ON without a WHERE
    statement = (
        insert_for(table)
        .from_select([*_NOTIFICATION_COLUMNS, *_MATCHED_COLUMNS], values)
        # No conflict target: a row that repeats either its (provider, event id) or its
        # transfer (uq_payment_notifications_transfer: the same transfer by the other route)
        # inserts nothing. Same cost for the webhook: the index is written either way.
        .on_conflict_do_nothing()
        .returning(*(table.c[name] for name in _MATCHED_COLUMNS))
    )
    if dialect != "postgresql":
        return statement
    stored = statement.cte("stored")
    stall_day, market_day = received_payment_upserts(dialect, stored)
    return select(*(stored.c[name] for name in _MATCHED_COLUMNS)).add_cte(
        stall_day.cte("stall_day"),
        market_day.cte("market_day"),
        _credit_order_statement(stored).cte("credited"),
    )


@functools.cache
def _credit_order_statement(stored: CTE | None = None):
    """Add a payment to an order in one statement, so concurrent payments both count: the
    order ``credited_order``, or with ``stored`` (the notification's insert) the order it was
    matched to, if it was inserted."""
    order = CollectOrder.__table__.c
    received = order.received_amount + bindparam("paid_amount", type_=BigInteger)
    paid = received >= order.amount
    now = bindparam("paid_now", type_=DateTime(timezone=True))
    if stored is None:
        which = bindparam("credited_order", type_=Integer)
    else:
        which = select(stored.c.order_id).scalar_subquery()
    return (
        update(CollectOrder.__table__)
        .where(order.id == which)
        .values(
            received_amount=received,
            status=case((paid, literal_column("'paid'")), else_=literal_column("'short'")),
            paid_at=case((and_(paid, order.paid_at.is_(None)), now), else_=order.paid_at),
        )
    )


# --- collect mode ------------------------------------------------------------------------------


def can_collect(user: User, stall: Stall) -> bool:
    """Only the stall's own merchant opens its collect screen."""
    return (
        user.role == "merchant"
        and user.merchant_id is not None
        and stall.merchant_id == user.merchant_id
    )


def create_order(actor: User, stall: Stall, amount: int) -> CollectOrder:
    """A collect order for ``amount`` dong with a fresh unique reference."""
    if not can_collect(actor, stall):
        raise Forbidden()
    queries.payable_payee(stall)
    for _attempt in range(8):
        order = CollectOrder(
            stall_id=stall.id,
            reference=new_reference(stall.code),
            amount=amount,
            created_by_id=actor.id,
            created_at=utcnow(),
            status="pending",
            received_amount=0,
        )
        db.session.add(order)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # the random part collided with an earlier order's; draw again
            continue
        return order
    raise DomainError(_("Không tạo được mã đơn. Vui lòng thử lại."))


# --- integrations ------------------------------------------------------------------------------


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


def save_integration(
    actor: User,
    provider: str,
    *,
    auth_mode: str,
    enabled: bool,
    secret: str | None = None,
    generate: bool = False,
) -> tuple[WebhookIntegration, str | None]:
    """Create or change a provider's webhook settings. Returns the integration and the new
    secret when one was generated here (to be shown once), else None."""
    if actor.role != "admin":
        raise Forbidden()
    if provider not in PROVIDERS:
        raise NotFound()
    if auth_mode not in AUTH_MODES or (provider == "casso" and auth_mode != "hmac"):
        raise InvalidInput({"auth_mode": [_("Casso chỉ hỗ trợ chữ ký HMAC.")]})
    secret = (secret or "").strip() or None
    if secret is not None and (len(secret) < MIN_SECRET_LENGTH or any(c.isspace() for c in secret)):
        message = _(
            "Khóa bí mật cần ít nhất %(n)s ký tự, không có khoảng trắng.", n=MIN_SECRET_LENGTH
        )
        raise InvalidInput({"secret": [message]})
    shown = None
    if generate:
        secret = shown = generate_secret()
    found = queries.integration(provider)  # the main one (its plain URL)
    if found is None and secret is None:
        raise InvalidInput({"secret": [_("Vui lòng nhập hoặc tạo khóa bí mật.")]})
    old = _integration_snapshot(found) if found else None
    if found is None:
        found = WebhookIntegration(provider=provider)
        db.session.add(found)
    found.auth_mode = auth_mode
    found.enabled = enabled
    if secret is not None:
        found.secret = secret
        found.secret_set_at = utcnow()
    found.updated_by_id = actor.id
    found.updated_at = utcnow()
    db.session.flush()
    new = _integration_snapshot(found) | {"secret_changed": secret is not None}
    audit.record(
        "webhook.configure",
        actor=actor,
        entity="webhook",
        entity_id=found.id,
        market_id=None,
        old=old,
        new=new,
    )
    try:
        db.session.commit()
        forget_integrations()
    except IntegrityError as exc:  # two admins created it at once
        db.session.rollback()
        raise InvalidInput(
            {"provider": [_("Tích hợp vừa được người khác tạo. Vui lòng tải lại.")]}
        ) from exc
    return found, shown


def _integration_snapshot(integration: WebhookIntegration) -> dict[str, Any]:
    # Never the secret itself.
    return {
        "provider": integration.provider,
        "auth_mode": integration.auth_mode,
        "enabled": integration.enabled,
    }


def set_api_token(
    provider: str, token: str | None, *, actor: User | None = None, name: str = ""
) -> None:
    """Set (or with None, remove) the transactions API token of a provider's integration, for
    ``flask payments-sync``. Audit-logged without the token."""
    found = queries.integration(provider, name)
    if found is None:
        label = f"{provider}/{name}" if name else provider
        raise NotFound(_("Tích hợp %(provider)s chưa được thiết lập.", provider=label))
    token = (token or "").strip() or None
    if token is not None and (len(token) > 200 or any(c.isspace() for c in token)):
        raise InvalidInput({"api_token": [_("API token không hợp lệ.")]})
    had = found.api_token is not None
    found.api_token = token
    found.api_token_set_at = utcnow() if token is not None else None
    found.updated_at = utcnow()
    audit.record(
        "webhook.api_token",
        actor=actor,
        entity="webhook",
        entity_id=found.id,
        market_id=None,
        old={"provider": provider, "name": name, "api_token": had},
        new={"provider": provider, "name": name, "api_token": token is not None},
    )
    db.session.commit()


#: An integration's name, as it appears in its webhook URL (market.payments.webhooks).
INTEGRATION_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def add_integration(
    provider: str,
    name: str,
    *,
    secret: str,
    auth_mode: str = "hmac",
    accounts: list[str] | tuple[str, ...] = (),
    actor: User | None = None,
) -> WebhookIntegration:
    """Another integration of ``provider`` (one SePay company per market board, say): its own
    secret, reached at ``/api/v1/webhooks/<provider>/<name>``, watching ``accounts``."""
    if provider not in PROVIDERS:
        raise NotFound()
    errors: dict[str, list[str]] = {}
    if not INTEGRATION_NAME.fullmatch(name or ""):
        errors["name"] = [_("Tên chỉ gồm chữ thường, số và dấu gạch ngang, tối đa 40 ký tự.")]
    if auth_mode not in AUTH_MODES or (provider == "casso" and auth_mode != "hmac"):
        errors["auth_mode"] = [_("Casso chỉ hỗ trợ chữ ký HMAC.")]
    secret = (secret or "").strip()
    if len(secret) < MIN_SECRET_LENGTH or any(c.isspace() for c in secret):
        errors["secret"] = [
            _("Khóa bí mật cần ít nhất %(n)s ký tự, không có khoảng trắng.", n=MIN_SECRET_LENGTH)
        ]
    if errors:
        raise InvalidInput(errors)
    found = WebhookIntegration(
        provider=provider, name=name, auth_mode=auth_mode, secret=secret, enabled=True
    )
    found.updated_at = found.secret_set_at = utcnow()
    db.session.add(found)
    found.accounts = [IntegrationAccount(account_number=a) for a in _accounts(accounts)]
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise InvalidInput({"name": [_("Tích hợp này đã có.")]}) from exc
    audit.record(
        "webhook.add",
        actor=actor,
        entity="webhook",
        entity_id=found.id,
        market_id=None,
        new=_integration_snapshot(found) | {"name": name, "accounts": _accounts(accounts)},
    )
    db.session.commit()
    forget_integrations()
    return found


def watch_accounts(
    provider: str, name: str, accounts: list[str], *, actor: User | None = None
) -> WebhookIntegration:
    """Set the accounts an integration watches (replacing the list)."""
    found = queries.integration(provider, name)
    if found is None:
        label = f"{provider}/{name}" if name else provider
        raise NotFound(_("Tích hợp %(provider)s chưa được thiết lập.", provider=label))
    old = [a.account_number for a in found.accounts]
    found.accounts = [IntegrationAccount(account_number=a) for a in _accounts(accounts)]
    audit.record(
        "webhook.watch",
        actor=actor,
        entity="webhook",
        entity_id=found.id,
        market_id=None,
        old={"accounts": old},
        new={"accounts": _accounts(accounts)},
    )
    db.session.commit()
    return found


def _accounts(accounts) -> list[str]:
    numbers = sorted({a.strip() for a in accounts if a and a.strip()})
    bad = [a for a in numbers if len(a) > 40 or not a.isalnum()]
    if bad:
        raise InvalidInput({"accounts": [_("Số tài khoản không hợp lệ: %(a)s", a=bad[0])]})
    return numbers


def _secret_errors(secret: str | None) -> list[str]:
    if secret is not None and (len(secret) < MIN_SECRET_LENGTH or any(c.isspace() for c in secret)):
        return [
            _("Khóa bí mật cần ít nhất %(n)s ký tự, không có khoảng trắng.", n=MIN_SECRET_LENGTH)
        ]
    return []


def configure_integration(
    actor: User,
    integration: WebhookIntegration | None,
    *,
    provider: str,
    name: str,
    auth_mode: str,
    enabled: bool,
    accounts: list[str] | tuple[str, ...],
    secret: str | None = None,
    generate: bool = False,
    api_token: str | None = None,
    remove_api_token: bool = False,
) -> tuple[WebhookIntegration, str | None]:
    """Create (``integration`` None) or change a named integration from the admin screen:
    its mode, on/off, watched accounts, and, when given, a new secret or API token (write-only:
    blank keeps the one set). Returns it and the secret generated here, to be shown once.
    Every error is field by field and changes nothing; the change is audit-logged without
    the secret or token."""
    if actor.role != "admin":
        raise Forbidden()
    if integration is not None:
        provider, name = integration.provider, integration.name
    errors: dict[str, list[str]] = {}
    if provider not in PROVIDERS:
        errors["provider"] = [_("Vui lòng chọn nhà cung cấp.")]
    name = (name or "").strip()
    if integration is None and name and not INTEGRATION_NAME.fullmatch(name):
        errors["name"] = [_("Tên chỉ gồm chữ thường, số và dấu gạch ngang, tối đa 40 ký tự.")]
    if auth_mode not in AUTH_MODES or (provider == "casso" and auth_mode != "hmac"):
        errors["auth_mode"] = [_("Casso chỉ hỗ trợ chữ ký HMAC.")]
    secret = (secret or "").strip() or None
    if secret_errors := _secret_errors(secret):
        errors["secret"] = secret_errors
    elif integration is None and secret is None and not generate:
        errors["secret"] = [_("Vui lòng nhập hoặc tạo khóa bí mật.")]
    token = (api_token or "").strip() or None
    if token is not None and (len(token) > 200 or any(c.isspace() for c in token)):
        errors["api_token"] = [_("API token không hợp lệ.")]
    try:
        numbers = _accounts(accounts)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    if integration is None and queries.integration(provider, name) is not None:
        raise InvalidInput({"name": [_("Tích hợp này đã có.")]})
    shown = None
    if generate:
        secret = shown = generate_secret()
    now = utcnow()
    old = None if integration is None else _configured_snapshot(integration)
    if integration is None:
        integration = WebhookIntegration(provider=provider, name=name)
        db.session.add(integration)
    integration.auth_mode = auth_mode
    integration.enabled = enabled
    if secret is not None:
        integration.secret = secret
        integration.secret_set_at = now
    if token is not None:
        integration.api_token, integration.api_token_set_at = token, now
    elif remove_api_token:
        integration.api_token = integration.api_token_set_at = None
    integration.accounts = [IntegrationAccount(account_number=a) for a in numbers]
    integration.updated_by_id = actor.id
    integration.updated_at = now
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same name, created by someone else meanwhile
        db.session.rollback()
        raise InvalidInput({"name": [_("Tích hợp này đã có.")]}) from exc
    audit.record(
        "webhook.add" if old is None else "webhook.configure",
        actor=actor,
        entity="webhook",
        entity_id=integration.id,
        market_id=None,
        old=old,
        new=_configured_snapshot(integration)
        | {
            "secret_changed": secret is not None,
            "api_token_changed": token is not None or remove_api_token,
        },
    )
    db.session.commit()
    forget_integrations()
    return integration, shown


def _configured_snapshot(integration: WebhookIntegration) -> dict[str, Any]:
    # Never the secret or the token themselves.
    return _integration_snapshot(integration) | {
        "name": integration.name,
        "accounts": [a.account_number for a in integration.accounts],
        "api_token": integration.api_token is not None,
    }


def account_list(text: str) -> list[str]:
    """The accounts typed in a text box: one per line, or separated by commas or spaces."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


# --- the unmatched list, worked off ------------------------------------------------------------

REVIEW_NOTE_MAX = 300


def can_review(actor: User, notification: PaymentNotification) -> bool:
    """The province reviews every unmatched payment; a manager those paid into an account a
    payee of their markets had (queries.unmatched_for)."""
    if actor.role == "admin":
        return True
    if actor.role != "manager":
        return False
    return bool(queries.notification_market_ids(notification) & set(actor.market_ids))


def _review_note(text: str | None, *, required: bool) -> str | None:
    note = " ".join((text or "").split()) or None
    if required and note is None:
        raise InvalidInput({"reason": [_("Vui lòng ghi lý do.")]})
    if note is not None and len(note) > REVIEW_NOTE_MAX:
        raise InvalidInput({"reason": [_("Tối đa %(n)s ký tự.", n=REVIEW_NOTE_MAX)]})
    return note


def _take_unmatched(notification: PaymentNotification, values: dict[str, Any]) -> None:
    """Change the notification only while it is still unmatched (two reviewers at once: the
    second is told, and changes nothing)."""
    table = PaymentNotification.__table__
    changed = db.session.execute(
        update(table)
        .where(table.c.id == notification.id, table.c.match_status == "unmatched")
        .values(**values)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict(_("Khoản này vừa được người khác xử lý. Vui lòng tải lại."))


def assign_unmatched(
    actor: User,
    notification: PaymentNotification,
    stall: Stall,
    *,
    note: str | None = None,
    now: datetime | None = None,
) -> PaymentNotification:
    """Credit an unmatched incoming payment to ``stall``: it becomes a matched payment of the
    stall on its own day, counted in the rollups (so the adoption figures and the merchant's
    screens follow) in the same transaction; audit-logged."""
    if not can_review(actor, notification):
        raise NotFound()
    if not permissions.is_market_manager(actor, stall.market):
        raise InvalidInput({"stall_code": [_("Bạn không quản lý chợ của sạp này.")]})
    note = _review_note(note, required=False)
    _take_unmatched(
        notification,
        {
            "stall_id": stall.id,
            "match_status": "matched",
            "reviewed_at": now or utcnow(),
            "review_note": note,
        },
    )
    stage_received_payment(stall.id, notification.transaction_at, notification.amount)
    audit.record(
        "payment.assign",
        actor=actor,
        entity="payment",
        entity_id=notification.id,
        market_id=stall.market_id,
        old={"match_status": "unmatched", "stall": None},
        new={"match_status": "matched", "stall": stall.code, "note": note},
    )
    db.session.commit()
    db.session.refresh(notification)
    return notification


def dismiss_unmatched(
    actor: User,
    notification: PaymentNotification,
    reason: str | None,
    *,
    now: datetime | None = None,
) -> PaymentNotification:
    """Mark an unmatched incoming payment "not a sale" (a refund, a transfer between the
    merchant's own accounts…) with a reason: kept, never counted; audit-logged."""
    if not can_review(actor, notification):
        raise NotFound()
    reason = _review_note(reason, required=True)
    _take_unmatched(
        notification,
        {"match_status": "ignored", "reviewed_at": now or utcnow(), "review_note": reason},
    )
    found = queries.notification_market_ids(notification)
    markets = sorted(found & set(actor.market_ids) or found)
    audit.record(
        "payment.not_a_sale",
        actor=actor,
        entity="payment",
        entity_id=notification.id,
        market_id=markets[0] if markets else None,
        old={"match_status": "unmatched"},
        new={"match_status": "ignored", "reason": reason},
    )
    db.session.commit()
    db.session.refresh(notification)
    return notification
