"""The index keeps up through the outbox, rebuilds aside without stopping search, checks itself against
the database, and never returns a document twice; similar post-mortems come to the responder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Caller, declare
from flask import Flask
from library import index_now, published
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import Every

from app import create_app
from incidents.database import get_session
from incidents.outbox.worker import start_thread, stop_thread
from search import service
from search.postgres_engine import PostgresEngine
from search.whoosh_engine import WhooshEngine
from search.whoosh_index import IndexFolder


def search(caller: Caller, q: str) -> dict[str, Any]:
    answer: dict[str, Any] = caller.get("/api/search", query_string={"q": q}).get_json()
    return answer


@pytest.mark.usefixtures("search_backend")
def test_a_published_post_mortem_is_searchable_within_a_second_with_the_worker_thread(
    app: Flask, responder: Caller
) -> None:
    app.config["OUTBOX_POLL_SECONDS"] = 60  # found by the commit's wake-up, not by polling
    start_thread(app)
    try:
        published(
            responder,
            title="Kafka consumers stalled after a broker upgrade",
            summary="Consumers stopped reading when brokers upgraded.",
            services=["kafka"],
            factors=[("dependency", "The client library did not retry metadata fetches")],
        )
        started = time.perf_counter()
        while search(responder, "metadata fetches")["total"] == 0:
            assert time.perf_counter() - started < 1.0, "not searchable within a second"
            time.sleep(0.02)
    finally:
        stop_thread(app)


@pytest.mark.usefixtures("search_backend")
def test_an_edit_after_publishing_reaches_the_index(app: Flask, responder: Caller) -> None:
    pm = published(
        responder, title="Cache stampede", summary="The cache expired at once.", services=["web"], factors=[]
    )
    index_now(app)
    assert search(responder, "stampede")["total"] == 1
    renamed = responder.patch(f"/api/incidents/{pm['incident_id']}", {"summary": "Every key expired at midnight."})
    assert renamed.status_code == 200, renamed.get_json()
    index_now(app)
    assert search(responder, "midnight")["total"] == 1


@pytest.mark.usefixtures("search_backend")
def test_reindex_rebuilds_aside_and_check_finds_and_repairs_what_differs(app: Flask, responder: Caller) -> None:
    for n in range(3):
        declare(responder, title=f"Disk full on host {n}", summary="The log volume filled up.")
    index_now(app)
    runner = app.test_cli_runner()
    rebuilt = runner.invoke(args=["search", "reindex"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Indexed 3 incidents." in rebuilt.output
    assert search(responder, "log volume")["total"] == 3
    # The index loses one document and holds a stale other: check says so, and repairs both.
    engine = service.engine_of(app)
    with app.app_context():
        first, second = service.documents_of(get_session(), [1, 2])
    engine.write([], [first.key])
    engine.write([type(second)(**{**second.__dict__, "title": "stale", "digest": "old"})], [])
    reported = runner.invoke(args=["search", "check", "--no-repair"])
    assert reported.exit_code == 1
    assert "1 missing: 1" in reported.output and "1 stale: 2" in reported.output
    repaired = runner.invoke(args=["search", "check"])
    assert repaired.exit_code == 0 and "(repaired)" in repaired.output
    assert "The index matches the database." in runner.invoke(args=["search", "check"]).output
    assert search(responder, "log volume")["total"] == 3


def test_a_rebuild_killed_halfway_leaves_search_working(app: Flask, responder: Caller, search_backend: str) -> None:
    declare(responder, title="Queue depth alarm", summary="The queue depth alarm fired.")
    index_now(app)
    engine = service.engine_of(app)

    def dying() -> Any:
        yield from service.documents_of(get_session(), [1])
        raise KeyboardInterrupt  # the operator's Ctrl-C, or a kill, halfway

    with app.app_context(), pytest.raises(KeyboardInterrupt):
        engine.rebuild(dying())
    assert search(responder, "queue depth")["total"] == 1
    if search_backend == "whoosh":
        root = Path(app.config["SEARCH_INDEX"])
        assert len(list(root.glob("generation-*"))) == 1  # the half-built one is gone


def test_a_searcher_is_reopened_not_refreshed_so_a_merge_never_doubles_hits(tmp_path: Path) -> None:
    """whoosh-reloaded 2.7.5: Searcher.refresh() after a merging commit returns the merged segments'
    documents twice (55 distinct of 109 hits). The index folder must open a new searcher instead."""
    folder = IndexFolder(tmp_path)
    small = Schema(key=ID(unique=True, stored=True), text=TEXT)
    name = "generation-test"
    (tmp_path / name).mkdir()
    ix = whoosh_index.create_in(str(tmp_path / name), small)
    (tmp_path / "CURRENT").write_text(name)
    writer = ix.writer()
    for n in range(50):
        writer.add_document(key=f"d{n}", text="alpha")
    writer.commit()
    for n in range(50, 54):
        writer = ix.writer()
        writer.add_document(key=f"d{n}", text="alpha")
        writer.commit()
    with folder.searcher() as before:
        assert before.doc_count() == 54
    writer = folder.current().writer()
    writer.add_document(key="d54", text="alpha")
    writer.commit()  # MERGE_SMALL merges every segment into one
    with folder.searcher() as after:
        keys = [hit["key"] for hit in after.search(Every(), limit=None)]
    assert len(keys) == len(set(keys)) == 55


@pytest.mark.usefixtures("search_backend")
def test_similar_post_mortems_come_to_the_incident_and_to_a_description(app: Flask, responder: Caller) -> None:
    pool = published(
        responder,
        title="Checkout 502s from an exhausted connection pool",
        summary="Card payments failed with 502 when the database connection pool ran out.",
        services=["checkout"],
        factors=[("design decision", "The connection pool was shared by checkout and search")],
    )
    published(
        responder,
        title="Edge certificate expired",
        summary="Browsers refused the site: its TLS certificate expired.",
        services=["edge"],
        factors=[("detection", "No alert watched certificate expiry")],
    )
    now = declare(
        responder,
        title="Checkout errors: connection pool exhausted",
        summary="Payments fail; the pool has no free connections.",
        services=["checkout"],
    )
    index_now(app)
    similar = responder.get(f"/api/incidents/{now['id']}/similar").get_json()["similar"]
    assert [hit["id"] for hit in similar][:1] == [pool["id"]]
    assert all(hit["type"] == "postmortem" and hit["incident_id"] != now["id"] for hit in similar)
    described = responder.post("/api/similar", {"text": "connection pool ran out, 502 on payments"}).get_json()
    assert described["similar"][0]["id"] == pool["id"]
    assert responder.post("/api/similar", {"text": ""}).get_json()["similar"] == []
    assert responder.post("/api/similar", {"txt": "x"}).status_code == 400
    assert responder.get("/api/incidents/999999/similar").status_code == 404


@pytest.mark.usefixtures("search_backend")
def test_an_organisations_synonyms_extend_the_built_in_ones(app: Flask, tmp_path: Path) -> None:
    extra = tmp_path / "synonyms.txt"
    extra.write_text("# ours\nledger, general journal\n")
    configured = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SEARCH_INDEX": str(tmp_path / "other-index"),
            "SEARCH_SYNONYMS": str(extra),
            "SEARCH_BACKEND": app.config["SEARCH_BACKEND"],
        }
    )
    engine = service.engine_of(configured)
    assert isinstance(engine, PostgresEngine if app.config["SEARCH_BACKEND"] == "postgres" else WhooshEngine)
    assert ("gener", "journal") in engine.synonyms.alternatives("ledger")  # stemmed, as the index is
    assert ("certif",) in engine.synonyms.alternatives("cert")
    extra.write_text("lonely\n")
    with pytest.raises(ValueError, match=r"synonyms\.txt:1"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "SEARCH_SYNONYMS": str(extra)})
    with pytest.raises(ValueError, match="KINTSUGI_SEARCH_BACKEND"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "SEARCH_BACKEND": "elastic"})
    with pytest.raises(ValueError, match="needs a PostgreSQL"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "SEARCH_BACKEND": "postgres", "DATABASE_URL": "sqlite://"})


@pytest.mark.usefixtures("search_backend")
def test_removing_and_editing_documents_forgets_their_words(app: Flask, responder: Caller) -> None:
    first = declare(responder, title="Zeppelin hangar flooded", summary="Rain flooded the hangar.")
    declare(responder, title="Hangar doors jammed", summary="The doors of the hangar jammed.")
    index_now(app)
    engine = service.engine_of(app)
    assert search(responder, "hangar")["total"] == 2
    with app.app_context():
        (document,) = service.documents_of(get_session(), [first["id"]])
    engine.write([type(document)(**{**document.__dict__, "title": "Airship shed", "summary": "Rain came in."})], [])
    assert search(responder, "zeppelin")["total"] == 0
    assert search(responder, "airship")["total"] == 1
    # A word no document holds any more is not offered as a correction, and a removed one is gone.
    assert search(responder, "zepelin")["suggestion"] is None
    engine.write([], [document.key])
    assert search(responder, "airship")["total"] == 0
    assert search(responder, "hangar")["total"] == 1
    assert set(engine.digests()) == {f"incident:{first['id'] + 1}"}


@pytest.mark.usefixtures("search_backend")
def test_an_imported_report_is_found_with_the_identifier_it_came_with(
    app: Flask, responder: Caller, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "pm-2019-004.md").write_text(
        "---\nid: PM-2019-004\ntitle: Ledger replication lag\ncompany: Acme\n---\n\n"
        "## Summary\n\nThe ledger replica fell hours behind after a bulk backfill.\n"
    )
    (folder / "no-front-matter.md").write_text(
        "# Queue poisoned\n\n## Summary\n\nOne message crashed every consumer.\n"
    )
    result = app.test_cli_runner().invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    index_now(app)
    ledger = search(responder, "ledger replica backfill")["hits"]
    assert [(h["title"], h["type"], h["source_id"]) for h in ledger][:1] == [
        ("Ledger replication lag", "postmortem", "PM-2019-004")
    ]
    assert search(responder, "poisoned consumer")["hits"][0]["source_id"] == "no-front-matter"
