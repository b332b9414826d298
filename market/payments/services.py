"""Use cases of the payments domain. Each public function commits once.

Webhook ingest never answers "stored" for a notification that is not committed: it verifies,
inserts under the (provider, event id) unique constraint, reconciles, commits, and only then
returns. A repeated event hits the constraint and is reported as a duplicate (the caller still
answers 200, so the sender stops retrying), and its effects are rolled back with it, so a
retried or replayed notification is stored and counted once. When the database cannot be
reached the caller gets :class:`StorageUnavailable` (503), so the sender retries later.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, DateTime, and_, bindparam, case, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from market.adoption.services import stage_received_payment
from market.audit import services as audit
from market.auth.models import User, utcnow
from market.errors import DomainError, Forbidden, InvalidInput, NotFound
from market.extensions import db
from market.markets.models import Stall
from market.payments import queries, signatures
from market.payments.models import (
    AUTH_MODES,
    PROVIDERS,
    CollectOrder,
    PaymentNotification,
    WebhookIntegration,
)
from market.payments.schemas import SCHEMAS, Transfer
from market.payments.values import new_reference, squeeze

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


def _rollback() -> None:
    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone; the pool replaces it on next use
        db.session.close()


@dataclass(frozen=True, slots=True)
class _Credentials:
    secret: str
    auth_mode: str


#: How long a worker trusts what it read of an integration. Every notification needs the
#: secret; reading it from the database each time costs a round trip per webhook, so a change
#: on the admin screen reaches the other workers within this many seconds (the saving worker
#: at once). A provider retries whatever a stale setting refused.
INTEGRATION_TTL = 5.0
_CACHE = "payments.integrations"


def _credentials(provider: str) -> _Credentials:
    cache = current_app.extensions.setdefault(_CACHE, {})
    hit = cache.get(provider)
    if hit is None or time.monotonic() - hit[0] > INTEGRATION_TTL:
        try:
            found = queries.credentials(provider)
        except (DBAPIError, PoolTimeout) as exc:
            _rollback()
            raise StorageUnavailable() from exc
        usable = found is not None and found[2]
        hit = (time.monotonic(), _Credentials(found[0], found[1]) if usable else None)
        cache[provider] = hit
    if hit[1] is None:
        raise WebhookRefused(_("Tích hợp %(provider)s chưa được bật.", provider=provider))
    return hit[1]


def forget_integrations() -> None:
    """Drop this worker's cached integration settings (after a change)."""
    current_app.extensions.pop(_CACHE, None)


def _json(raw_body: bytes) -> Any:
    try:
        return json.loads(raw_body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput({"_schema": [_("Nội dung không phải JSON hợp lệ.")]}) from exc


def ingest_notification(
    provider: str, raw_body: bytes, headers: Any, *, now: datetime | None = None
) -> IngestResult:
    """Verify, store once and reconcile one webhook notification from ``provider``."""
    if provider not in PROVIDERS:
        raise NotFound()
    if len(raw_body) > MAX_WEBHOOK_BODY:
        raise PayloadTooLarge()
    now = now or utcnow()
    credentials = _credentials(provider)
    secret, auth_mode = credentials.secret, credentials.auth_mode
    try:
        if provider == "sepay":
            signatures.verify_sepay(raw_body, headers, secret, auth_mode, now=now.timestamp())
            payload = _json(raw_body)
        else:
            payload = _json(raw_body)
            signatures.verify_casso(
                payload, headers.get(signatures.CASSO_SIGNATURE), secret, now=now.timestamp()
            )
    except signatures.SignatureError as exc:
        raise WebhookRefused() from exc
    transfer: Transfer = SCHEMAS[provider].load(payload)
    return _store(transfer, raw_body, now)


_INSERT_NOTIFICATION = insert(PaymentNotification.__table__)


def _store(transfer: Transfer, raw_body: bytes, now: datetime) -> IngestResult:
    try:
        counted = transfer.direction == "in" and transfer.amount > 0
        stall_id, order_id = _reconcile(transfer, now) if counted else (None, None)
        match_status = _match_status(counted, stall_id)
        transaction_at = transfer.transaction_at or now
        # The unique constraint answers first: a duplicate fails here, before the order moves.
        connection = db.session.connection()
        connection.execute(
            _INSERT_NOTIFICATION,
            {
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
                "stall_id": stall_id,
                "order_id": order_id,
                "match_status": match_status,
            },
        )
        if match_status == "matched":  # money received: the adoption rollup, same transaction
            stage_received_payment(stall_id, transaction_at, transfer.amount)
        if order_id is not None:
            connection.execute(
                _CREDIT_ORDER,
                {"credited_order": order_id, "paid_amount": transfer.amount, "paid_now": now},
            )
        db.session.commit()
    except IntegrityError as exc:
        _rollback()
        if _already_stored(transfer):
            return IngestResult(transfer.event_id, duplicate=True, match_status=None)
        raise StorageUnavailable() from exc
    except (DBAPIError, PoolTimeout) as exc:
        _rollback()
        raise StorageUnavailable() from exc
    return IngestResult(transfer.event_id, duplicate=False, match_status=match_status)


def _match_status(counted: bool, stall_id: int | None) -> str:
    if not counted:
        return "ignored"
    return "matched" if stall_id is not None else "unmatched"


def _already_stored(transfer: Transfer) -> bool:
    try:
        return (
            db.session.scalar(
                select(PaymentNotification.id).where(
                    PaymentNotification.provider == transfer.provider,
                    PaymentNotification.event_id == transfer.event_id,
                )
            )
            is not None
        )
    except (DBAPIError, PoolTimeout) as exc:
        _rollback()
        raise StorageUnavailable() from exc


def _reconcile(transfer: Transfer, now: datetime) -> tuple[int | None, int | None]:
    """(stall id, collect order id) for an incoming transfer; (None, None) if no single stall
    pays into its account. The order's reference is looked for in the content, ignoring case,
    spaces and punctuation, since banks rewrite transfer descriptions."""
    candidates = queries.payees_and_orders(
        [transfer.account_number, transfer.sub_account], now - queries.ORDER_LOOKBACK
    )
    if not candidates:
        return None, None
    content = squeeze(transfer.content)
    if content:
        orders = sorted(
            ((order_id, c.stall_id, ref) for c in candidates for order_id, ref in c.orders),
            reverse=True,
        )
        for order_id, stall_id, reference in orders:
            if squeeze(reference) in content:
                return stall_id, order_id
    if len(candidates) == 1:
        return candidates[0].stall_id, None
    # One account behind several stalls (a merchant with two stalls, or the same number at
    # two banks): the bank may tell them apart; otherwise a person has to.
    by_bank = [c.stall_id for c in candidates if queries.bank_matches(c.bank_bin, transfer.bank)]
    if len(by_bank) == 1:
        return by_bank[0], None
    return None, None


def _credit_order_statement():
    """Add a payment to an order in one statement, so concurrent payments both count."""
    order = CollectOrder.__table__.c
    received = order.received_amount + bindparam("paid_amount", type_=BigInteger)
    paid = received >= order.amount
    now = bindparam("paid_now", type_=DateTime(timezone=True))
    return (
        update(CollectOrder.__table__)
        .where(order.id == bindparam("credited_order"))
        .values(
            received_amount=received,
            status=case((paid, "paid"), else_="short"),
            paid_at=case((and_(paid, order.paid_at.is_(None)), now), else_=order.paid_at),
        )
    )


_CREDIT_ORDER = _credit_order_statement()


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
    found = queries.integration(provider)
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
