"""Scratch PostgreSQL databases for a benchmark, made beside KINTSUGI_BENCH_DATABASE_URL's and dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def postgres_databases(count: int = 1) -> Iterator[list[str]]:
    """URLs of `count` new, empty databases on the benchmark's server; dropped (forcibly) on the way out."""
    base = os.environ.get("KINTSUGI_BENCH_DATABASE_URL", PG_DEFAULT)
    names = [f"kintsugi_bench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield [make_url(base).set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
