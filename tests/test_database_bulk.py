"""The bulk import's writes (market.database.insert_rows, one_of): COPY with ids from the
sequence on PostgreSQL, the C executemany with the last rowids on SQLite. Both must give each
row its own id in the rows' order, fill what the ORM would, and fail as ``execute`` does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market import database
from market.audit.models import AuditLog
from market.database import insert_rows, one_of
from market.extensions import db
from market.merchants.models import Merchant
from market.textsearch import fold_text

NOW = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


def _merchants(count: int, first: int = 0) -> list[dict]:
    return [
        {
            "full_name": f"Nguyễn Thị Số {i}",
            "phone": f"098{i:07d}",
            "tax_code": None if i % 2 else f"{4600000000 + i}",
            "consent": bool(i % 3),
            "consent_at": NOW if i % 3 else None,
            "created_at": NOW,
        }
        for i in range(first, first + count)
    ]


def test_ids_come_back_in_the_rows_order_and_name_those_rows(app):
    db.session.add(Merchant(full_name="Có Sẵn", phone="0970000001"))  # pending: flushed first
    rows = _merchants(1500)
    ids = insert_rows(db.session, Merchant.__table__, rows, ids=True)
    more = insert_rows(db.session, Merchant.__table__, _merchants(3, first=5000), ids=True)
    db.session.commit()
    assert len(set(ids)) == 1500 and min(more) > max(ids)
    stored = {
        m.id: m for m in db.session.scalars(select(Merchant).where(Merchant.id.in_(ids + more)))
    }
    for row, merchant_id in zip(rows, ids, strict=True):
        merchant = stored[merchant_id]
        assert (merchant.phone, merchant.full_name, merchant.tax_code, merchant.consent) == (
            row["phone"],
            row["full_name"],
            row["tax_code"],
            row["consent"],
        )
        # A default that reads the row (the folded name search uses) is worked out per row.
        assert merchant.name_folded == fold_text(row["full_name"])
    assert db.session.scalar(select(Merchant.id).where(Merchant.phone == "0970000001"))


def test_json_values_and_python_side_defaults_are_written_as_execute_would(app):
    rows = [
        {"action": "stall.assign", "actor_id": None, "entity": "stall", "entity_id": i,
         "market_id": None, "old": None if i else {"merchant_id": None},
         "new": {"merchant_name": "Võ Thị Ánh", "n": i, "ok": True}}
        for i in range(3)
    ]  # fmt: skip
    assert insert_rows(db.session, AuditLog.__table__, rows) is None
    db.session.commit()
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "stall.assign").order_by(AuditLog.entity_id)
    ).all()
    assert [e.new for e in entries] == [
        {"merchant_name": "Võ Thị Ánh", "n": i, "ok": True} for i in range(3)
    ]
    assert entries[0].old == {"merchant_id": None} and entries[1].old is None
    assert all(e.at is not None for e in entries)  # the column's default (utcnow)


def test_a_broken_constraint_raises_integrity_error_and_rolls_back_cleanly(app):
    insert_rows(db.session, Merchant.__table__, _merchants(2))
    db.session.commit()
    with pytest.raises(IntegrityError):
        insert_rows(db.session, Merchant.__table__, _merchants(3), ids=True)  # same phones
    db.session.rollback()
    assert len(db.session.scalars(select(Merchant)).all()) == 2
    assert insert_rows(db.session, Merchant.__table__, [], ids=True) == []


def test_one_of_finds_the_same_rows_as_in(app):
    insert_rows(db.session, Merchant.__table__, _merchants(2500))
    db.session.commit()
    wanted = [f"098{i:07d}" for i in range(0, 5000, 2)]  # half of them are not there
    found = db.session.scalars(
        select(Merchant.phone).where(one_of(db.session, Merchant.phone, wanted))
    ).all()
    assert sorted(found) == [f"098{i:07d}" for i in range(0, 2500, 2)]
    assert (
        db.session.scalars(select(Merchant).where(one_of(db.session, Merchant.id, []))).all() == []
    )


def test_another_driver_gets_the_same_rows_and_ids_through_sqlalchemy(app, monkeypatch):
    monkeypatch.setattr(database, "_BULK_DRIVERS", set())
    rows = _merchants(300)
    ids = insert_rows(db.session, Merchant.__table__, rows, ids=True)
    insert_rows(db.session, AuditLog.__table__, [
        {"action": "x", "actor_id": None, "entity": "stall", "entity_id": 1, "market_id": None,
         "old": None, "new": {"n": 1}}
    ])  # fmt: skip
    db.session.commit()
    phones = dict(db.session.execute(select(Merchant.id, Merchant.phone)).all())
    assert [phones[i] for i in ids] == [row["phone"] for row in rows]
    assert db.session.scalar(select(AuditLog.new).where(AuditLog.action == "x")) == {"n": 1}
