"""Tables of the payments domain: webhook integrations, collect orders, payment notifications.

Money is an ``int`` of dong; notification amounts are ``BigInteger`` because a bank's running
balance or a large transfer can pass 2^31 dong (about 2.1 billion).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.auth.models import User, utcnow
from market.extensions import db
from market.markets.models import Stall

PROVIDERS = ("sepay", "casso")
AUTH_MODES = ("hmac", "apikey")
ORDER_STATUSES = ("pending", "paid", "short")
DIRECTIONS = ("in", "out")
# matched: an incoming transfer credited to a stall (the only kind that counts as received);
# unmatched: incoming, but no stall (or more than one) pays into that account: for review;
# ignored: outgoing or zero transfers, kept raw and never counted.
MATCH_STATUSES = ("matched", "unmatched", "ignored")

#: The notifications the review list shows, written as SQL once for its partial index and its
#: query alike: a database uses a partial index only for a query that implies the index's
#: condition, and with a bound parameter in its place a plan made for any value (PostgreSQL's
#: generic plan of a prepared statement) cannot.
UNMATCHED = text("match_status = 'unmatched'")


#: Transfers a bank reference identifies (the shared key of the two routes is only sound then).
HAS_REFERENCE = text("reference_code <> ''")


def _partial_index(name: str, column: str, where) -> Index:
    """An index of only the rows ``where`` holds (both databases support it): any other row
    is stored without touching it, and nearly every notification is such a row."""
    return Index(name, column, postgresql_where=where, sqlite_where=where)


class WebhookIntegration(db.Model):
    """One provider's webhook settings and the shared secret it signs with.

    The secret has to be readable by the app (an HMAC is recomputed on every notification),
    so it cannot be stored as a one-way hash. It is protected by being shown in full only once,
    when it is generated (after that the admin screen shows only when it was set, as for the
    API token), never written to the audit log or the application log, and readable only by
    whoever can read the database itself. Rotating it is one form on the admin screen.
    """

    __tablename__ = "webhook_integrations"
    __table_args__ = (
        # Several per provider (one SePay company per market board, say), each with its own
        # secret, token and watched accounts; the one named "" answers the provider's plain
        # webhook URL, another ``/api/v1/webhooks/<provider>/<name>``.
        UniqueConstraint("provider", "name"),
        CheckConstraint("provider IN ('sepay', 'casso')", name="provider"),
        CheckConstraint("auth_mode IN ('hmac', 'apikey')", name="auth_mode"),
        # Casso only signs (HMAC-SHA512); an API-key mode is SePay's alone.
        CheckConstraint("provider = 'sepay' OR auth_mode = 'hmac'", name="casso_hmac"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(40), default="", server_default="")
    auth_mode: Mapped[str] = mapped_column(String(10), default="hmac")
    secret: Mapped[str] = mapped_column(String(200))
    # The provider's transactions API token (SePay: Bearer; Casso: Apikey), for the catch-up
    # sync (market.payments.sync); like the secret, never shown again nor logged.
    api_token: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the secret and the token were last set: all the admin screen ever shows of them.
    secret_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    api_token_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last notification it accepted, noted at most once a minute per worker
    # (services.RECEIVED_NOTE_SECONDS): the health of the integration, not an audit trail.
    last_received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    updated_by: Mapped[User | None] = relationship()
    accounts: Mapped[list[IntegrationAccount]] = relationship(
        cascade="all, delete-orphan", order_by="IntegrationAccount.account_number"
    )
    refusals: Mapped[list[IntegrationRefusal]] = relationship(
        cascade="all, delete-orphan", order_by="IntegrationRefusal.reason"
    )

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.name}" if self.name else self.provider

    def __repr__(self) -> str:
        return f"<WebhookIntegration {self.label} {self.auth_mode}>"


class IntegrationAccount(db.Model):
    """A bank account an integration watches: its notifications and its transactions API
    cover payments into this account."""

    __tablename__ = "integration_accounts"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_integrations.id", ondelete="CASCADE"), primary_key=True
    )
    account_number: Mapped[str] = mapped_column(String(40), primary_key=True)


#: Why a webhook of a known integration was refused (signatures.REASONS, then ours).
REFUSAL_REASONS = (
    "bad_signature",
    "missing_signature",
    "stale_timestamp",
    "bad_timestamp",
    "no_secret",
    "wrong_shape",
    "disabled",
)


class IntegrationRefusal(db.Model):
    """How many notifications addressed to an integration were refused, per reason, and the
    last time. Written only on refusal (one upsert), never on an accepted notification."""

    __tablename__ = "integration_refusals"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_integrations.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CollectOrder(db.Model):
    """An amount a merchant asked for on the collect screen, paid by a dynamic QR whose
    purpose carries ``reference``; notifications naming it move it to paid or short."""

    __tablename__ = "collect_orders"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'paid', 'short')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_collect_orders_stall_created", "stall_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(25), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    received_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    stall: Mapped[Stall] = relationship()

    def __repr__(self) -> str:
        return f"<CollectOrder {self.reference} {self.status}>"


class PaymentNotification(db.Model):
    """A bank notification as a provider sent it, stored once per (provider, event id).

    Only rows with ``match_status == 'matched'`` count as money a stall received; those are
    exactly the incoming, positive transfers, and only they carry a ``stall_id``.
    """

    __tablename__ = "payment_notifications"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        CheckConstraint("provider IN ('sepay', 'casso')", name="provider"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint("match_status IN ('matched', 'unmatched', 'ignored')", name="match_status"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # The stall's day view: payments of a stall over time. (The adoption figures read
        # their rollups, market.adoption.models, never the notifications by time.)
        Index("ix_payment_notifications_stall_at", "stall_id", "transaction_at"),
        # The review list, unmatched notifications newest first; and an order's payments,
        # which also lets deleting an order clear its payments' order_id without a scan.
        # Both partial: a payment that matched a stall (nearly all) and came through the
        # static QR (most) adds no entry to either, so each notification is three index
        # entries, not six (bench/bench_webhooks.py).
        _partial_index("ix_payment_notifications_unmatched", "id", UNMATCHED),
        _partial_index(
            "ix_payment_notifications_order_id", "order_id", text("order_id IS NOT NULL")
        ),
        # One bank transfer, however it reached us: the webhook and the transactions API
        # (market.payments.sync) give it different ids, but the same account, bank reference,
        # direction and amount (docs/payments-sync.md). The store statement's ON CONFLICT DO
        # NOTHING has no target, so it skips a row that breaks either unique rule.
        Index(
            "uq_payment_notifications_transfer",
            "provider",
            "account_number",
            "reference_code",
            "direction",
            "amount",
            unique=True,
            postgresql_where=HAS_REFERENCE,
            sqlite_where=HAS_REFERENCE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(10))
    event_id: Mapped[str] = mapped_column(String(64))
    raw_body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The bank's time of the transfer (Vietnam time in the payload, stored in UTC);
    # the receiving time when the payload has none.
    transaction_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    account_number: Mapped[str] = mapped_column(String(40), default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(3))
    content: Mapped[str] = mapped_column(Text, default="")
    reference_code: Mapped[str] = mapped_column(String(100), default="")
    # Who sent it, when the notifier says (Casso does; SePay does not): "" otherwise.
    payer_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    stall_id: Mapped[int | None] = mapped_column(ForeignKey("stalls.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("collect_orders.id", ondelete="SET NULL")
    )
    match_status: Mapped[str] = mapped_column(String(10))
    # Set when a person worked it off the unmatched list: assigned to a stall (then
    # "matched") or marked not a sale (then "ignored") with this reason; who is in the audit
    # log. Nothing is ever deleted.
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(String(300))

    stall: Mapped[Stall | None] = relationship()
    order: Mapped[CollectOrder | None] = relationship()

    @property
    def counted(self) -> bool:
        return self.match_status == "matched"

    def __repr__(self) -> str:
        return f"<PaymentNotification {self.provider}:{self.event_id} {self.match_status}>"
