"""`flask db upgrade` from an empty database gives exactly the schema the models describe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import conftest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app import create_app
from incidents.database import engine_of
from incidents.tables import all_tables
from search.postgres_tables import metadata as search_tables


def domain_tables_only(name: str | None, kind: str, _parents: object) -> bool:
    return kind != "table" or name not in search_tables.tables


def search_tables_only(name: str | None, kind: str, _parents: object) -> bool:
    return kind != "table" or name in search_tables.tables


def not_trigrams(_object: object, name: str | None, kind: str, _reflected: bool, _other: object) -> bool:
    # The trigram index is made in DDL (a Table cannot say an operator class on an expression).
    return not (kind == "index" and name == "ix_search_lexemes_words")


def upgrade_and_compare(url: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = engine_of(app)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= set(all_tables().tables)
            domain = {"compare_type": True, "include_name": domain_tables_only}
            context = MigrationContext.configure(connection, opts=domain)
            assert compare_metadata(context, all_tables()) == []
            if connection.dialect.name == "postgresql":
                # The search engine's tables, made on PostgreSQL only, are as search/ describes them.
                search = {"compare_type": True, "include_name": search_tables_only, "include_object": not_trigrams}
                context = MigrationContext.configure(connection, opts=search)
                assert compare_metadata(context, search_tables) == []
        # Upgrading again is a no-op.
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    finally:
        engine.dispose()


def on_the_runs_backend(tmp_path: Path, check: Callable[[str], None]) -> None:
    """Run check on a fresh database of the run's backend: SQLite by default, PostgreSQL under
    `make test-postgres`."""
    if not conftest.PG_URL:
        check(f"sqlite:///{tmp_path / 'migrated.db'}")
        return
    with conftest.scratch_postgres_database("kintsugi_migrate") as url:
        check(url)


def test_migrations_match_the_models(tmp_path: Path) -> None:
    on_the_runs_backend(tmp_path, upgrade_and_compare)


def test_an_earlier_schema_with_data_upgrades_to_the_current_one(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0001"]).exit_code == 0
    engine = engine_of(app)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, name, role, timezone, is_active, created_at)"
                " VALUES ('old@example.com', 'Old', 'admin', 'Europe/Paris', 1, '2026-01-01 00:00:00')"
            )
        )
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with engine.connect() as connection:
        row = connection.execute(text("SELECT email, timezone FROM users")).one()
        assert tuple(row) == ("old@example.com", "Europe/Paris")
        assert "reference_timezone" in {c["name"] for c in inspect(connection).get_columns("incidents")}
        assert compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), all_tables()) == []
    engine.dispose()


def test_upgrading_renders_the_markdown_already_stored(tmp_path: Path) -> None:
    on_the_runs_backend(tmp_path, upgrade_and_check_rendering)


def upgrade_and_check_rendering(url: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
    engine = engine_of(app)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO incidents (id, title, summary, severity, status, visibility, started_at, declared_at,"
                " updated_at) VALUES (1, 'Old', 'Checkout **502s**', 'SEV2', 'investigating', 'open', :t, :t, :t)"
            ),
            {"t": when},
        )
        connection.execute(
            text(
                "INSERT INTO timeline_entries (incident_id, occurred_at, recorded_at, source, kind, actor_name,"
                " text, is_key_moment) VALUES (1, :t, :t, 'api', 'note', 'Old', :text, :key)"
            ),
            [{"t": when, "text": f"note *{n}*", "key": False} for n in range(1, 1_203)],  # over two batches
        )
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with engine.connect() as connection:
        assert connection.execute(text("SELECT summary_html FROM incidents")).scalar() == (
            "<p>Checkout <strong>502s</strong></p>\n"
        )
        rendered = connection.execute(text("SELECT text, text_html FROM timeline_entries ORDER BY id")).all()
        assert len(rendered) == 1_202
        assert all(html == f"<p>note <em>{value[6:-1]}</em></p>\n" for value, html in rendered)
    engine.dispose()


def test_upgrading_turns_frozen_prefilled_times_into_times(tmp_path: Path) -> None:
    on_the_runs_backend(tmp_path, upgrade_and_check_prefill)


def upgrade_and_check_prefill(url: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0015"]).exit_code == 0
    engine = engine_of(app)
    when = datetime(2026, 11, 20, 10, tzinfo=UTC)
    frozen = (
        "- Impact began: Fri 2026-11-20 11:00 CET\n- Impact ended (mitigated): —\n"
        "- Seen: Fri 2026-11-20 10:05 UTC\n- Odd: Sat 2026-11-20 11:00 CET\n- Diagnosed: "
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO incidents (id, title, summary, severity, status, visibility, started_at, declared_at,"
                " updated_at, reference_timezone)"
                " VALUES (1, 'Old', '', 'SEV2', 'resolved', 'open', :t, :t, :t, 'Europe/Berlin')"
            ),
            {"t": when},
        )
        connection.execute(
            text(
                "INSERT INTO postmortems (id, incident_id, template_key, template_name, title, status,"
                " acknowledged_findings, version, created_at, updated_at)"
                " VALUES (1, 1, 'handbook', 'Handbook', 'Old', 'draft', '[]', 1, :t, :t)"
            ),
            {"t": when},
        )
        connection.execute(
            text(
                "INSERT INTO postmortem_sections (id, postmortem_id, key, title, prompt, required, position, body,"
                " version, updated_at) VALUES (:id, 1, :key, :key, '', :req, :id, :body, :version, :t)"
            ),
            [
                {"id": 1, "key": "impact", "req": True, "body": frozen, "version": 1, "t": when},
                {"id": 2, "key": "narrative", "req": False, "body": frozen, "version": 2, "t": when},
            ],
        )
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT body, prefill, body_html FROM postmortem_sections ORDER BY id")).all()
    engine.dispose()
    (untouched, untouched_prefill, html), (written, written_prefill, _html) = rows
    assert untouched.splitlines() == [
        '- Impact began: <time datetime="2026-11-20T10:00:00Z">Fri 2026-11-20 10:00 UTC</time>',
        "- Impact ended (mitigated): not known yet",
        '- Seen: <time datetime="2026-11-20T10:05:00Z">Fri 2026-11-20 10:05 UTC</time>',
        "- Odd: Sat 2026-11-20 11:00 CET",  # its day is not that date's: left as written
        "- Diagnosed: not known yet",
    ]
    assert untouched_prefill == untouched and '<time datetime="2026-11-20T10:00:00Z">' in html
    # A section people saved since is theirs: left as they wrote it, with no pre-fill to compare.
    assert written == frozen and written_prefill is None
