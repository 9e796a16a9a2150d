"""The ceiling for the integrations benchmark: a bare Flask endpoint that stores one row per request.

Served by gunicorn exactly like Kintsugi, on the same database, with the same engine settings; on
SQLite its writers take turns as Kintsugi's do, so that neither polls a locked file.
"""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from pathlib import Path

from flask import Flask, request
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incidents.database import build_engine, writer_turns_of

metadata = MetaData()
rows = Table(
    "ceiling_rows", metadata, Column("id", Integer, primary_key=True), Column("body", LargeBinary, nullable=False)
)


def create_app() -> Flask:
    """One POST /store that inserts the raw body and commits."""
    app = Flask(__name__)
    engine = build_engine(os.environ["KINTSUGI_DATABASE_URL"])
    turns = writer_turns_of(engine) if engine.dialect.name == "sqlite" else None

    @app.post("/store")
    def store() -> tuple[dict[str, str], int]:
        with turns.turn() if turns is not None else nullcontext(), engine.begin() as connection:
            connection.execute(insert(rows).values(body=request.get_data()))
        return {"status": "stored"}, 200

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
