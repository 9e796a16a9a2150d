"""`flask db upgrade` from an empty database gives exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import conftest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app import create_app
from incidents.database import engine_of
from incidents.models import Base


def upgrade_and_compare(url: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = engine_of(app)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= set(Base.metadata.tables)
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        # Upgrading again is a no-op.
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    finally:
        engine.dispose()


def test_migrations_match_the_models(tmp_path: Path) -> None:
    """On the run's backend: SQLite by default, PostgreSQL under `make test-postgres`."""
    if not conftest.PG_URL:
        upgrade_and_compare(f"sqlite:///{tmp_path / 'migrated.db'}")
        return
    with conftest.scratch_postgres_database("kintsugi_migrate") as url:
        upgrade_and_compare(url)
