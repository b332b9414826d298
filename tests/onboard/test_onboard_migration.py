"""The migration that adds merchants' folded names folds the names already there."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from market.app import create_app
from market.extensions import db

REVISION = "b7d41e9a2c63"


def test_existing_merchants_get_their_folded_name(db_url):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        downgrade(revision=f"{REVISION}-1")  # just before this revision, wherever it is chained
        db.engine.dispose()
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO merchants (full_name, phone, consent, created_at) "
                    "VALUES (:a, '0912000441', false, CURRENT_TIMESTAMP), "
                    "(:b, '0912000442', false, CURRENT_TIMESTAMP)"
                ),
                {"a": "Đặng Thị Ánh", "b": "NGUYỄN VĂN Ơn"},
            )
        upgrade()
        db.engine.dispose()
        with engine.begin() as conn:
            folded = conn.execute(
                text("SELECT phone, name_folded FROM merchants ORDER BY phone")
            ).all()
            conn.execute(text("DELETE FROM merchants"))
        engine.dispose()
    assert [tuple(row) for row in folded] == [
        ("0912000441", "dang thi anh"),
        ("0912000442", "nguyen van on"),
    ]
