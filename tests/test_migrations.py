"""Every schema change is a migration: upgrading an empty database gives the models' schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from market.app import create_app
from market.extensions import db


def _diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    engine.dispose()
    return diff


def test_upgrade_on_empty_database_gives_exactly_the_models_schema(db_url):
    assert _diff(db_url) == []


def test_migrations_downgrade_to_nothing_and_upgrade_again(db_url, tmp_path):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        downgrade(revision="base")
        engine = create_engine(db_url)
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        engine.dispose()
        assert left == set()
        upgrade()
        db.engine.dispose()
    assert _diff(db_url) == []
