"""Speed of the library's search at scale: a generated library from the shared corpus's vocabulary.

Builds N post-mortem documents (default 10,000) whose words are drawn from the public post-mortems
of ../shared/corpus (titles from their titles' words, summaries and bodies from their sentences,
services, teams, tags, factor categories, severities and years spread over the library), and:

- indexes them as `flask search reindex` does (a new generation, then swapped in): documents/s;
- asks the relevance benchmark's 66 queries through GET /api/search (highlights and facets, as the
  page asks), twice each after a warm-up: p50 / p95;
- asks the same queries of the bare engine (Whoosh's own parse and search of the top ten, with
  highlights, no access filter, synonyms, facets or JSON) and prints our overhead as a ratio (under
  1 when our layer is faster: it ranks term at a time, search/whoosh_ranking.py, where Whoosh's
  searcher walks its matchers document by document);
- asks POST /api/similar with 30 incident descriptions: p95;
- publishes 20 post-mortems through the API with the outbox worker thread running, and times each
  from the publishing request's answer to the moment a search finds it: p95.

Targets: query p95 under 100 ms, similar p95 under 150 ms, freshness under 1 s, overhead at most
1.5 times the bare engine.

    .venv/bin/python benchmarks/bench_search.py
    .venv/bin/python benchmarks/bench_search.py --documents 10000
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_relevance import queries as relevance_queries
from whoosh import highlight

from app import create_app
from incidents.accounts.service import create_api_token, create_user
from incidents.database import engine_of, get_session
from incidents.models import Role
from incidents.outbox.worker import start_thread, stop_thread
from incidents.tables import all_tables
from search import service
from search.documents import SearchDocument

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "shared" / "corpus" / "public-postmortems"
CATEGORIES = ["design decision", "detection", "remediation", "process", "dependency", "tooling", "communication"]


class Vocabulary:
    """Words and sentences of the corpus, to draw documents from."""

    def __init__(self, folder: Path) -> None:
        self.titles: list[str] = []
        self.sentences: list[str] = []
        self.keywords: list[str] = []
        for path in sorted(folder.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            front, _, body = text.partition("\n---\n")
            title = re.search(r"^title: (.+)$", front, re.M)
            if title:
                self.titles.append(title.group(1).strip())
            self.keywords += re.findall(r"^- (.+)$", front, re.M)
            self.sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s.split()) > 5]
        self.title_words = [w for t in self.titles for w in t.split() if w.isalpha()]

    def document(self, rng: random.Random, n: int, services: list[str], teams: list[str]) -> SearchDocument:
        """The n-th generated post-mortem."""
        started = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(7 * 365 * 24))
        factors = rng.sample(self.sentences, 3)
        return SearchDocument(
            key=f"incident:{1_000_000 + n}",
            type="postmortem",
            incident_id=1_000_000 + n,
            postmortem_id=1_000_000 + n,
            title=" ".join(rng.sample(self.title_words, rng.randint(4, 9))),
            summary=" ".join(rng.sample(self.sentences, 4)),
            impact=" ".join(rng.sample(self.sentences, 2)),
            factors="\n".join(factors),
            lessons=" ".join(rng.sample(self.sentences, 2)),
            countermeasures="\n".join(rng.sample(self.sentences, 2)),
            body=" ".join(rng.sample(self.sentences, 14)),
            alerts="",
            services=tuple(rng.sample(services, rng.randint(1, 2))),
            teams=(rng.choice(teams),),
            tags=tuple(rng.sample(self.keywords, 3)),
            categories=tuple(rng.sample(CATEGORIES, 2)),
            severity=f"SEV{rng.randint(1, 5)}",
            year=started.year,
            date=started,
            published_at=started + timedelta(days=5),
            restricted=rng.random() < 0.05,
            reader_ids=(),
            source_id=None,
            digest=f"bench-{n}",
        )


def published(client: Any, auth: dict[str, str], *, title: str, summary: str) -> None:
    """Declare, resolve, review and publish a post-mortem through the API, as a team would."""

    def call(method: str, path: str, body: Any, status: int = 200) -> Any:
        answer = client.open(path, method=method, json=body, headers=auth)
        assert answer.status_code == status, (path, answer.get_json())
        return answer.get_json()

    incident = call("POST", "/api/incidents", {"title": title, "severity": "SEV3", "summary": summary}, 201)
    call("PATCH", f"/api/incidents/{incident['id']}", {"status": "resolved"})
    pm = call("POST", f"/api/incidents/{incident['id']}/postmortem", {}, 201)
    versions = {s["key"]: s["version"] for s in pm["sections"]}
    for key, body in (("summary", summary), ("impact", "Orders waited."), ("detection", "An alert paged.")):
        call("PUT", f"/api/postmortems/{pm['id']}/sections/{key}", {"body": body, "version": versions[key]})
    item = {"title": "Alert on consumer lag", "owner_team": "platform", "due_on": "2027-01-15"}
    call("POST", f"/api/postmortems/{pm['id']}/action-items", item, 201)
    call("POST", f"/api/postmortems/{pm['id']}/publish", {})


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(count: int, call: Callable[[int], Any]) -> list[float]:
    samples = []
    for n in range(count):
        started = time.perf_counter()
        call(n)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def line(label: str, samples: list[float], target: float | None) -> tuple[float, float]:
    p50, p95 = percentiles(samples)
    verdict = "" if target is None else ("  (ok)" if p95 < target else "  (OVER TARGET)")
    print(f"{label:44} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   ({len(samples)}){verdict}")
    return p50, p95


@dataclass
class Library:
    """What a speed run draws from: its arguments, the corpus's words, and the services, teams and
    queries of the generated library (the same for every engine)."""

    arguments: argparse.Namespace
    words: Vocabulary
    rng: random.Random
    services: list[str]
    teams: list[str]
    queries: list[str]

    @classmethod
    def from_arguments(cls, description: str, documents: int) -> Library:
        """Read --documents (default `documents`) and the corpus; exit when there is no corpus."""
        parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--documents", type=int, default=documents)
        arguments = parser.parse_args()
        if not CORPUS.exists():
            sys.exit(f"no corpus at {CORPUS}")
        words = Vocabulary(CORPUS)
        rng = random.Random(7)
        services = [f"{w.lower()}-svc" for w in rng.sample(words.title_words, 40)]
        teams = [f"team-{w.lower()}" for w in rng.sample(words.title_words, 12)]
        return cls(arguments, words, rng, services, teams, [q["q"] for q in relevance_queries()])

    def documents(self) -> Iterator[SearchDocument]:
        """The generated post-mortems, as many as --documents asks."""
        for n in range(self.arguments.documents):
            yield self.words.document(self.rng, n, self.services, self.teams)


def through_the_api(client: Any, auth: dict[str, str], queries: list[str]) -> tuple[float, float]:
    """Time every query through GET /api/search, twice, after a warm-up: p50 and p95."""

    def api(n: int) -> None:
        answer = client.get("/api/search", query_string={"q": queries[n % len(queries)]}, headers=auth)
        assert answer.status_code == 200, answer.get_json()

    for n in range(10):
        api(n)
    return line("search through the API (fragments, facets)", timed(2 * len(queries), api), 100)


def against_the_bare_engine(ours: tuple[float, float], bare: Callable[[int], Any], queries: int) -> None:
    """Time the bare engine on the same queries, and print our overhead as a ratio."""
    for n in range(10):
        bare(n)
    engine_only = line("the bare engine, same queries (top 10)", timed(2 * queries, bare), None)
    print(f"{'our overhead':44} {ours[0] / engine_only[0]:.2f}x at p50, {ours[1] / engine_only[1]:.2f}x at p95")


def similar_and_fresh(
    app: Any, client: Any, auth: dict[str, str], descriptions: list[str], services: list[str]
) -> None:
    """Time POST /api/similar for each description, then publish 20 post-mortems with the outbox worker
    running and time each from the publishing answer to the moment a search finds it."""

    def similar(n: int) -> None:
        body = {"text": descriptions[n], "services": [services[n % len(services)]]}
        answer = client.post("/api/similar", json=body, headers=auth)
        assert answer.status_code == 200, answer.get_json()

    line("similar post-mortems (POST /api/similar)", timed(len(descriptions), similar), 150)
    start_thread(app)
    waits = []
    try:
        for n in range(20):
            marker = f"freshmarker{n}x"
            published(client, auth, title=f"Queue stall {marker}", summary=f"Consumers stalled; {marker}.")
            began = time.perf_counter()
            while client.get("/api/search", query_string={"q": marker}, headers=auth).get_json()["total"] == 0:
                if time.perf_counter() - began > 30:
                    raise SystemExit(f"{marker} not searchable after 30 s")
                time.sleep(0.005)
            waits.append((time.perf_counter() - began) * 1000)
    finally:
        stop_thread(app)
    line("publish to searchable (worker thread)", waits, 1000)


def main() -> None:
    library = Library.from_arguments(__doc__ or "", 10_000)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{folder}/library.db",
                "SEARCH_INDEX": f"{folder}/search",
                "OUTBOX_POLL_SECONDS": 60,
            }
        )
        all_tables().create_all(engine_of(app))
        with app.app_context():
            session = get_session()
            user = create_user(session, email="bench@example.com", name="Bench", role=Role.RESPONDER)
            _, token = create_api_token(session, user_id=user.id)
        engine = service.engine_of(app)

        started = time.perf_counter()
        with app.app_context():
            count = engine.rebuild(library.documents())
        took = time.perf_counter() - started
        print(f"indexed {count:,} generated post-mortems in {took:.1f} s: {count / took:,.0f} documents/s")

        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}

        ours = through_the_api(client, auth, library.queries)

        bare_parser = engine._parsers[False]  # the same parse, without synonyms, access, facets or JSON

        def bare(n: int) -> None:
            with engine.folder.searcher() as searcher:
                results = searcher.search(bare_parser.parse(library.queries[n % len(library.queries)]), limit=10)
                results.formatter = highlight.HtmlFormatter(tagname="mark")
                for hit in results:
                    hit.highlights("summary", top=1)

        against_the_bare_engine(ours, bare, len(library.queries))
        similar_and_fresh(app, client, auth, library.rng.sample(library.words.sentences, 30), library.services)


if __name__ == "__main__":
    main()
