"""Relevance of the library's search: responder queries over the shared corpus of public post-mortems.

Imports the corpus (../shared/corpus/public-postmortems, 242 reports) into a scratch database with
`flask import`, lets the outbox index it, then asks every query of relevance_queries.toml (causes,
services, misspellings, written from titles and keywords) and relevance_symptom_queries.toml
(symptoms, written by someone who had not seen the titles) through GET /api/search, and prints
each query's rank of its first expected report, then MRR (mean reciprocal rank of the first
expected report, 0 past the first 50) and recall@10 (the share of expected reports in the top 10),
by kind of query and overall, for each engine: Whoosh (over SQLite) and PostgreSQL's full text (in a
scratch database beside KINTSUGI_BENCH_DATABASE_URL's, default the local server's `test`). Target:
MRR at least 0.85, recall@10 at least 0.9.

    .venv/bin/python benchmarks/bench_relevance.py
    .venv/bin/python benchmarks/bench_relevance.py --engine postgres --corpus path/to/folder --misses
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import tomllib
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import postgres_databases

from app import create_app
from incidents.accounts.service import create_api_token, create_user
from incidents.database import engine_of, get_session
from incidents.models import Role
from incidents.outbox.worker import Worker
from incidents.tables import all_tables
from search import postgres_tables

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "shared" / "corpus" / "public-postmortems"
QUERY_FILES = (HERE / "relevance_queries.toml", HERE / "relevance_symptom_queries.toml")
DEPTH = 50


def queries() -> list[dict[str, Any]]:
    """Every query of the query files that exist."""
    found = []
    for path in QUERY_FILES:
        if path.exists():
            found.extend(tomllib.loads(path.read_text(encoding="utf-8"))["query"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--misses", action="store_true", help="print the top 5 of every query that missed")
    parser.add_argument("--engine", choices=["whoosh", "postgres", "both"], default="both")
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"no corpus at {args.corpus}")
    summaries = []
    for engine in ("whoosh", "postgres") if args.engine == "both" else (args.engine,):
        print(f"== {engine} ==")
        summaries.append((engine, run(engine, args.corpus, show_misses=args.misses)))
    for engine, summary in summaries:
        print(f"{engine:8} {summary}")


def run(engine: str, corpus: Path, *, show_misses: bool) -> str:
    """Import the corpus into a fresh library searched by this engine and score every query."""
    databases = postgres_databases(1) if engine == "postgres" else nullcontext([])
    with tempfile.TemporaryDirectory() as folder, databases as urls:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": urls[0] if urls else f"sqlite:///{folder}/library.db",
                "SEARCH_INDEX": f"{folder}/search",
                "SEARCH_BACKEND": engine,
            }
        )
        all_tables().create_all(engine_of(app))
        if urls:
            with engine_of(app).begin() as connection:
                postgres_tables.create(connection)
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["import", str(corpus)])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        imported = time.perf_counter()
        Worker(app).run(threading.Event(), threading.Event(), stop_when_empty=True)
        indexed = time.perf_counter()
        with app.app_context():
            session = get_session()
            reader = create_user(session, email="reader@example.com", name="Reader", role=Role.ADMIN)
            _, token = create_api_token(session, user_id=reader.id)
        client = app.test_client()
        print(f"imported the corpus in {imported - started:.1f} s, indexed it in {indexed - imported:.1f} s")
        summary = score(client, token, queries(), show_misses=show_misses)
        engine_of(app).dispose()
        return summary


def score(client: Any, token: str, asked: list[dict[str, Any]], *, show_misses: bool) -> str:
    """Ask every query; print its rank, then MRR and recall@10 by kind and overall; the overall line."""
    by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for query in asked:
        answer = client.get(
            "/api/search", query_string={"q": query["q"], "limit": DEPTH}, headers={"Authorization": f"Bearer {token}"}
        ).get_json()
        ranked = [hit["source_id"] for hit in answer["hits"]]
        expected = set(query["expected"])
        rank = next((n for n, source in enumerate(ranked, start=1) if source in expected), None)
        recall = len(expected & set(ranked[:10])) / len(expected)
        by_kind[query.get("kind", "other")].append((1 / rank if rank else 0.0, recall))
        print(f"{rank or '-':>3}  {query.get('kind', ''):8} {query['q']}")
        if show_misses and rank != 1:
            for hit in answer["hits"][:5]:
                print(f"       {hit['source_id'][:8] if hit['source_id'] else '?':8}  {hit['title'][:90]}")
    everything = [pair for pairs in by_kind.values() for pair in pairs]
    for kind, pairs in [*sorted(by_kind.items()), ("all", everything)]:
        mrr = sum(r for r, _ in pairs) / len(pairs)
        recall = sum(c for _, c in pairs) / len(pairs)
        verdict = "ok" if mrr >= 0.85 and recall >= 0.9 else "UNDER TARGET"
        line = f"{kind:8} {len(pairs):3} queries   MRR {mrr:.3f}   recall@10 {recall:.3f}   ({verdict})"
        print(line)
    return line


if __name__ == "__main__":
    main()
