"""Searching the library: published post-mortems and incidents, ranked, with responder vocabulary,
typos, expert syntax, highlights, facets, sorting and pages; odd queries answered, never a 500."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import Caller, declare, make_user, sign_in
from flask import Flask
from library import index_now, published

# Every test here runs against each engine the run offers (see conftest.pytest_generate_tests).
pytestmark = pytest.mark.usefixtures("search_backend")


@pytest.fixture
def library(app: Flask, responder: Caller) -> dict[str, Any]:
    """Four published post-mortems and two incidents without one, indexed."""
    found = {
        "pool": published(
            responder,
            title="Checkout 502s from an exhausted connection pool",
            summary="Card payments failed with 502 for 40 minutes after a deploy doubled retries.",
            services=["checkout"],
            factors=[("design decision", "The connection pool was shared by checkout and search")],
            surprises="Nobody knew the pool was shared across services.",
            started_at="2025-06-01T10:00:00+00:00",
        ),
        "cert": published(
            responder,
            title="Edge certificate expired",
            summary="Browsers refused api.example.com: its TLS certificate had expired overnight.",
            services=["edge"],
            factors=[("detection", "No alert watched certificate expiry dates")],
            countermeasure="Alert thirty days before any certificate expires",
            started_at="2026-02-01T03:00:00+00:00",
        ),
        "k8s": published(
            responder,
            title="Kubernetes nodes evicted the payment pods",
            summary="Memory pressure on the cluster evicted pods of the payments service.",
            services=["payments"],
            factors=[("tooling", "Pod memory limits were copied from staging")],
            severity="SEV1",
            started_at="2026-04-05T08:00:00+00:00",
        ),
        "db": published(
            responder,
            title="Orders database failover took twenty minutes",
            summary="The primary database crashed and the replica was promoted slowly.",
            services=["orders"],
            factors=[("remediation", "Failover needed a manual step nobody had practised")],
            started_at="2026-05-05T08:00:00+00:00",
        ),
    }
    found["open"] = declare(
        responder, title="Search results are stale", summary="The indexer queue is backed up behind a poison message."
    )
    found["dns"] = declare(
        responder, title="Resolver timeouts in eu-west", summary="Lookups of internal names time out."
    )
    index_now(app)
    return found


def search(caller: Caller, **params: Any) -> dict[str, Any]:
    response = caller.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def titles(answer: dict[str, Any]) -> list[str]:
    return [hit["title"] for hit in answer["hits"]]


def test_a_published_post_mortem_is_found_by_its_contributing_factor_and_answers_in_full(
    responder: Caller, library: dict[str, Any]
) -> None:
    answer = search(responder, q="shared pool")
    first = answer["hits"][0]
    assert first["title"] == "Checkout 502s from an exhausted connection pool"
    assert first["type"] == "postmortem" and first["id"] == library["pool"]["id"]
    assert first["postmortem_id"] == library["pool"]["id"] and first["incident_id"] == library["pool"]["incident_id"]
    assert first["url"] == f"/postmortems/{library['pool']['id']}/document"
    assert first["services"] == ["checkout"] and first["severity"] == "SEV2"
    assert first["published_at"] and first["source_id"] is None and first["score"] > 0
    assert any("<mark>pool</mark>" in h or "<mark>shared</mark>" in h for h in first["highlights"]), first
    assert set(answer) == {"total", "hits", "facets", "suggestion"}


def test_an_incident_is_found_by_a_word_of_its_summary(responder: Caller, library: dict[str, Any]) -> None:
    answer = search(responder, q="poison")
    assert titles(answer) == ["Search results are stale"]
    hit = answer["hits"][0]
    assert hit["type"] == "incident" and hit["id"] == library["open"]["id"] and hit["postmortem_id"] is None
    assert hit["url"] == f"/incidents/{library['open']['id']}"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("cert", "Edge certificate expired"),
        ("certs expiring", "Edge certificate expired"),
        ("k8s eviction", "Kubernetes nodes evicted the payment pods"),
        ("db failover", "Orders database failover took twenty minutes"),
        ("5xx checkout", "Checkout 502s from an exhausted connection pool"),
        ("oom pods", "Kubernetes nodes evicted the payment pods"),
    ],
)
def test_responder_vocabulary_and_stems_find_the_right_report_first(
    responder: Caller, library: dict[str, Any], typed: str, expected: str
) -> None:
    assert titles(search(responder, q=typed))[:1] == [expected]


def test_a_misspelling_suggests_the_word_and_finds_it_fuzzily(responder: Caller, library: dict[str, Any]) -> None:
    answer = search(responder, q="certificat exipred")
    assert answer["suggestion"] == "certificate expired"
    assert titles(answer)[:1] == ["Edge certificate expired"]


def test_a_misspelt_word_beside_known_ones_is_searched_as_the_word_it_nearly_is(
    responder: Caller, library: dict[str, Any]
) -> None:
    answer = search(responder, q="certificat expired")
    assert answer["suggestion"] == "certificate expired"
    assert titles(answer)[:1] == ["Edge certificate expired"]
    # An expert's query is searched as typed: the suggestion comes only when it finds nothing.
    exact = search(responder, q='"certificat expired"')
    assert exact["total"] == 0 and exact["suggestion"] == '"certificate expired"'


def test_an_expert_query_with_a_field_and_a_phrase_needs_both(responder: Caller, library: dict[str, Any]) -> None:
    assert titles(search(responder, q='service:checkout "connection pool"')) == [
        "Checkout 502s from an exhausted connection pool"
    ]
    assert search(responder, q='service:edge "connection pool"')["total"] == 0
    assert titles(search(responder, q="factor:staging")) == ["Kubernetes nodes evicted the payment pods"]


def test_facets_count_and_filter(responder: Caller, library: dict[str, Any]) -> None:
    everything = search(responder, q="")
    assert everything["total"] == 6
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in everything["facets"].items()}
    assert facets["type"] == {"postmortem": 4, "incident": 2}
    assert facets["severity"]["SEV1"] == 1 and facets["service"]["checkout"] == 1
    assert facets["category"] == {"design decision": 1, "detection": 1, "tooling": 1, "remediation": 1}
    assert facets["year"] == {"2025": 1, "2026": 5}
    assert titles(search(responder, q="", type="postmortem", year="2025")) == [
        "Checkout 502s from an exhausted connection pool"
    ]
    assert search(responder, q="", service="checkout,edge")["total"] == 2
    assert search(responder, q="", category="detection")["total"] == 1


def test_sort_by_date_and_pages(responder: Caller, library: dict[str, Any]) -> None:
    newest = titles(search(responder, q="", type="postmortem", sort="date"))
    assert newest == [  # published one after another, the last first
        "Orders database failover took twenty minutes",
        "Kubernetes nodes evicted the payment pods",
        "Edge certificate expired",
        "Checkout 502s from an exhausted connection pool",
    ]
    first = search(responder, q="", sort="date", limit=4, page=1)
    second = search(responder, q="", sort="date", limit=4, page=2)
    assert first["total"] == second["total"] == 6
    assert len(first["hits"]) == 4 and len(second["hits"]) == 2
    assert not set(titles(first)) & set(titles(second))
    assert responder.get("/api/search", query_string={"limit": 51}).status_code == 400
    assert responder.get("/api/search", query_string={"sort": "loudest"}).status_code == 400


ODD_QUERIES = [
    "",
    "x" * 10_000,
    "pool " * 3_000,
    "*",
    "a*",
    "?",
    '"unbalanced quote',
    "((( pool",
    "pool )))",
    "nosuchfield:pool",
    "service:",
    ":",
    "AND OR NOT",
    "NOT pool",
    "title:[a TO z]",
    "pool^1000000",
    "pool~5",
    "\x00\x01\x02pool\x7f",
    "\u202epool\u202c",
    "пул соединений",
    "接続プール",
    "مجموعة الاتصال",
    "🔥🔥🔥",
    "<script>alert(1)</script>",
    "'; DROP TABLE incidents; --",
]


@pytest.mark.parametrize("odd", ODD_QUERIES)
def test_an_odd_query_answers_quickly_and_never_with_an_error(
    responder: Caller, library: dict[str, Any], odd: str
) -> None:
    started = time.perf_counter()
    response = responder.get("/api/search", query_string={"q": odd})
    assert time.perf_counter() - started < 2.0
    assert response.status_code == 200, response.get_json()
    for hit in response.get_json()["hits"]:
        assert "<script" not in " ".join(hit["highlights"])


@pytest.mark.parametrize("raw", ["q=%ED%A0%80", "q=%FF%FE", "q=%C0%AF", "q=pool&q=", "q=%25%25%25"])
def test_bytes_that_are_not_utf8_in_the_query_string_answer_too(
    responder: Caller, library: dict[str, Any], raw: str
) -> None:
    assert responder.get(f"/api/search?{raw}").status_code == 200


def test_the_search_page_answers_the_box_in_every_header(app: Flask, library: dict[str, Any]) -> None:
    make_user(app, "kim@example.com")
    browser = app.test_client()
    sign_in(browser, "kim@example.com")
    home = browser.get("/").get_data(as_text=True)
    assert 'action="/search"' in home
    page = browser.get("/search?q=shared+pool").get_data(as_text=True)
    assert "Checkout 502s from an exhausted connection pool" in page and "<mark>" in page
    assert f'href="/postmortems/{library["pool"]["id"]}/document"' in page
    typo = browser.get("/search?q=certificat").get_data(as_text=True)
    assert "Did you mean" in typo and "certificate" in typo
    for odd in ("limit=0", "page=-1", "sort=x", "q=" + "%22" * 10, "nosuch=1"):
        assert browser.get(f"/search?{odd}").status_code == 200, odd


def test_a_highlight_shows_the_text_as_written_and_only_its_marks_as_markup(app: Flask, responder: Caller) -> None:
    published(
        responder,
        title="Template rendered raw markup",
        summary='The banner showed <b>bold</b> & <script>alert("x")</script> beside the zeppelin notice.',
        services=["web"],
        factors=[],
    )
    index_now(app)
    (hit,) = search(responder, q="zeppelin")["hits"]
    shown = " ".join(hit["highlights"])
    assert "<mark>zeppelin</mark>" in shown
    assert "&lt;script&gt;" in shown and "<script" not in shown and "<b>" not in shown


def test_in_a_large_library_a_match_holds_one_of_the_rarer_words(
    app: Flask, responder: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "gateway" is in three documents and "timeout" in two: with a bound of two, "gateway" is common
    # and only ranks what "timeout" found. A tiny bound makes this library "large".
    monkeypatch.setattr("search.narrowing.NARROWED_TO", 2)
    for n, words in enumerate(["gateway timeout", "gateway", "gateway", "timeout"]):
        declare(responder, title=f"Incident {n}", summary=f"The {words} was seen.")
    declare(responder, title="Unrelated", summary="Nothing in common.")
    index_now(app)
    answer = search(responder, q="gateway timeout")
    assert answer["total"] == 2
    assert [hit["title"] for hit in answer["hits"]] == ["Incident 0", "Incident 3"]
    assert sum(f["count"] for f in answer["facets"]["severity"]) == 2
    seen = [search(responder, q="gateway timeout", limit=1, page=page)["hits"] for page in (1, 2, 3)]
    assert [[hit["title"] for hit in hits] for hits in seen] == [["Incident 0"], ["Incident 3"], []]
    # Sorted by date, the same documents match.
    assert search(responder, q="gateway timeout", sort="date")["total"] == 2
    # An expert's query is matched as written.
    assert search(responder, q="gateway OR timeout")["total"] == 4


def test_when_every_word_is_common_a_match_holds_them_all_each_with_its_synonyms(
    app: Flask, responder: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("search.narrowing.NARROWED_TO", 1)
    summaries = {
        "Slow db": "The db was slow.",
        "Database latency": "The database latency grew.",
        "Database fine": "The database was fine.",
        "Cache latency": "The latency of the cache grew.",
        "Unrelated": "Nothing in common.",
    }
    for title, summary in summaries.items():
        declare(responder, title=title, summary=summary)
    index_now(app)
    answer = search(responder, q="database latency")
    assert answer["total"] == 2
    assert {hit["title"] for hit in answer["hits"]} == {"Slow db", "Database latency"}
    # Without the bound, any of the words (or their synonyms) matches.
    monkeypatch.setattr("search.narrowing.NARROWED_TO", 1_000)
    assert search(responder, q="database latency")["total"] == 4


def test_every_match_is_on_one_page_when_only_a_shortlist_is_scored_word_by_word(
    app: Flask, responder: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL scores word by word only a shortlist of many matches: the pages still hold each once.
    monkeypatch.setattr("search.postgres_engine.SHORTLIST", 1)
    for n, words in enumerate(["gateway", "gateway gateway timeout", "timeout", "gateway", "timeout"]):
        declare(responder, title=f"Incident {n}", summary=f"The {words} was seen.")
    declare(responder, title="Unrelated", summary="Nothing in common.")
    index_now(app)
    seen = []
    for page in (1, 2, 3, 4):
        answer = search(responder, q="gateway timeout", limit=2, page=page)
        assert answer["total"] == 5
        seen += [hit["title"] for hit in answer["hits"]]
    assert len(seen) == len(set(seen)) == 5
    assert seen[0] == "Incident 1"


def test_a_phrase_asked_of_every_word_is_found_in_any_field(responder: Caller, library: dict[str, Any]) -> None:
    # `body:` means every word of the report, the title's included.
    answer = search(responder, q='body:"exhausted connection"')
    assert [hit["id"] for hit in answer["hits"]] == [library["pool"]["id"]]
    assert search(responder, q='title:"connection exhausted"')["total"] == 0
