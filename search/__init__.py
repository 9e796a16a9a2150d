"""The org-wide library: search every incident and post-mortem, browse the published ones and follow them
in feeds, find similar ones, import old ones.

`incidents` never imports this package; it reads plain records from `incidents` and learns of
changes through the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flask import Flask

from incidents.database import engine_of, get_session
from incidents.events import (
    ActionItemChanged,
    Event,
    IncidentChanged,
    IncidentDeclared,
    PostmortemChanged,
    PostmortemPublished,
    TimelineEntriesRecorded,
    TimelineEntryCorrected,
    TimelineEntryDeleted,
    subscribe_batch,
)
from incidents.panels import PLACES, add_panel

from . import api, cli, library, service, similar_panel, unavailable, views
from .engine import Engine
from .importing.cli import import_command
from .postgres_engine import PostgresEngine
from .query import Synonyms
from .whoosh_engine import WhooshEngine
from .whoosh_index import IndexFolder

HANDLER = "search.index"
BUILT_IN_SYNONYMS = Path(__file__).with_name("synonyms.txt")
BACKENDS = ("whoosh", "postgres")
# What changes a document: the incident, its key moments and alerts, its published post-mortem.
INDEXED_EVENTS = (
    IncidentDeclared,
    IncidentChanged,
    TimelineEntriesRecorded,
    TimelineEntryCorrected,
    TimelineEntryDeleted,
    PostmortemChanged,
    PostmortemPublished,
    ActionItemChanged,
)


def init_app(app: Flask) -> None:
    """Choose the engine (KINTSUGI_SEARCH_BACKEND), read the synonyms, have the outbox keep the index
    in step, and register the pages (search, the library's shelves and feeds), the API and `flask search`.
    Opens no index: the first use does."""
    backend = str(app.config.get("SEARCH_BACKEND", "whoosh")).lower()
    if backend not in BACKENDS:
        raise ValueError(f"KINTSUGI_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    extra = app.config.get("SEARCH_SYNONYMS")
    synonyms = Synonyms.load([BUILT_IN_SYNONYMS, *([Path(str(extra))] if extra else [])])
    app.extensions[service.EXTENSION] = _engine(app, backend, synonyms)

    def index(events: Sequence[Event]) -> None:
        service.index_changes(get_session(), events)

    subscribe_batch(app, list(INDEXED_EVENTS), HANDLER, index)
    app.register_blueprint(views.bp)
    library.init_app(app)
    app.register_blueprint(similar_panel.bp)
    for place in PLACES:
        add_panel(app, place, similar_panel.placeholder)
    app.register_blueprint(api.bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(api.bp)
    unavailable.init_app(app)
    app.cli.add_command(cli.search_cli)
    app.cli.add_command(import_command)


def _engine(app: Flask, backend: str, synonyms: Synonyms) -> Engine:
    """Whoosh in a folder on this host's disk, or PostgreSQL's full text in the shared database."""
    if backend == "postgres":
        if not str(app.config.get("DATABASE_URL", "")).startswith("postgresql"):
            raise ValueError("KINTSUGI_SEARCH_BACKEND=postgres needs a PostgreSQL KINTSUGI_DATABASE_URL")
        return PostgresEngine(lambda: engine_of(app), synonyms)
    root = Path(str(app.config.get("SEARCH_INDEX") or Path(app.instance_path) / "search"))
    return WhooshEngine(IndexFolder(root), synonyms)
