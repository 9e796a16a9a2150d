"""Alembic environment: runs on the engine the app built; `flask db upgrade` passes it in."""

from __future__ import annotations

from alembic import context

from incidents.tables import all_tables

config = context.config


def run_migrations_online() -> None:
    """Migrate on the app's engine, with batch mode so SQLite can alter tables."""
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=all_tables(),
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `flask db upgrade`")
run_migrations_online()
