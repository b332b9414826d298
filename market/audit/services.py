"""Writing the audit log. Called inside other services' transactions, never commits itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from market.audit.models import AuditLog
from market.auth.models import User
from market.database import insert_rows
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


def record_many(
    action: str,
    *,
    actor: User | None,
    entity: str,
    market_id: int | None,
    changes: Iterable[tuple[int | None, dict[str, Any] | None, dict[str, Any] | None]],
) -> None:
    """Entries of one action in one statement, ``changes`` as (entity_id, old, new): the bulk
    import writes thousands at once."""
    rows = [
        {
            "action": action,
            "actor_id": actor.id if actor else None,
            "entity": entity,
            "entity_id": entity_id,
            "market_id": market_id,
            "old": old,
            "new": new,
        }
        for entity_id, old, new in changes
    ]
    insert_rows(db.session, AuditLog.__table__, rows)
