"""Read-only checks of what an instance needs to serve requests."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from market.extensions import db


def database_reachable() -> bool:
    """One round trip to the database; False (never an exception) when it does not answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        try:
            db.session.rollback()
        except SQLAlchemyError:  # the connection is gone; the pool replaces it on next use
            db.session.close()
        return False
    db.session.rollback()  # end the read transaction: nothing is held between checks
    return True
