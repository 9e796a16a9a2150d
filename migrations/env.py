"""Alembic environment: runs on the engine the app built; `flask db upgrade` passes it in."""

from __future__ import annotations

from alembic import context

from incidents.tables import all_tables
from search.postgres_tables import metadata as search_tables

config = context.config


def domain_tables_only(name: str | None, kind: str, _parents: object) -> bool:
    """Compare the domain's tables only: the search engine's (PostgreSQL only) are made by 0012."""
    return kind != "table" or name not in search_tables.tables


def run_migrations_online() -> None:
    """Migrate on the app's engine, with batch mode so SQLite can alter tables."""
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=all_tables(),
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=domain_tables_only,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `flask db upgrade`")
run_migrations_online()
