"""Writing the audit log. Called inside other services' transactions, never commits itself."""

from __future__ import annotations

from typing import Any

from market.audit.models import AuditLog
from market.auth.models import User
from market.extensions import db


def record(
    action: str,
    *,
    actor: User | None,
    entity: str,
    entity_id: int | None,
    market_id: int | None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        action=action,
        actor_id=actor.id if actor else None,
        entity=entity,
        entity_id=entity_id,
        market_id=market_id,
        old=old,
        new=new,
    )
    db.session.add(entry)
    return entry
