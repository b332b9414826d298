"""Alembic environment for Flask-Migrate (Flask-SQLAlchemy 3: one engine, ``db.engine``)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the application's own loggers alive when migrations run inside it (tests, make run).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url",
    target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _dangling(connection) -> set[tuple]:
    """SQLite's list of rows whose foreign key points at no row: (table, rowid, parent, key)."""
    return {tuple(row) for row in connection.exec_driver_sql("PRAGMA foreign_key_check")}


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # An autogenerate run that finds no change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # The app has SQLite check foreign keys (market/database.py). A migration that
            # rebuilds a table (batch mode) drops the old one, and with the check on, dropping
            # a table deletes its rows first: rows pointing at them would be refused or, with
            # ON DELETE CASCADE, deleted. So off while migrating (outside a transaction, or
            # SQLite ignores it), and the whole file checked before the connection goes back.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            dangling_before = _dangling(connection)
            connection.commit()  # Alembic must begin (and commit) the migrations' transaction
        try:
            context.configure(
                connection=connection,
                target_metadata=target_db.metadata,
                **conf_args,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                # A file from before the app checked foreign keys may already hold some: say
                # so, but refuse only what this migration broke.
                broken = _dangling(connection) - dangling_before
                if broken:
                    raise RuntimeError(
                        f"the migration left rows pointing at nothing: {sorted(broken)[:10]}"
                    )
                if dangling_before:
                    logger.warning(
                        "rows pointing at nothing (from before foreign keys were checked): %s",
                        sorted(dangling_before)[:10],
                    )
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
