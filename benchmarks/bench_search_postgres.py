"""Speed of the library's search on PostgreSQL's full text (KINTSUGI_SEARCH_BACKEND=postgres), at the
scale a shared deployment reaches: N generated post-mortems (default 50,000) from the shared corpus's
vocabulary, the same generator and queries as bench_search.py (Whoosh), in a scratch database beside
KINTSUGI_BENCH_DATABASE_URL's (default the local server's `test`). Prints:

- indexing as `flask search reindex` does (one transaction): documents/s and the full reindex time;
- the relevance benchmark's 66 queries through GET /api/search (fragments and facets), twice each
  after a warm-up: p50 / p95;
- the same queries of the bare engine (one SQL statement: the words ORed, ts_rank, the top ten,
  ts_headline on them; no access, synonyms, facets, spelling or JSON), and our overhead as a ratio;
- POST /api/similar with 30 descriptions: p95;
- 20 post-mortems published through the API with the outbox worker thread running, each timed from
  the publishing request's answer to the moment a search finds it: p95.

Targets: query p95 under 100 ms, similar p95 under 150 ms, freshness under 1 s, overhead at most
1.5 times the bare engine.

    .venv/bin/python benchmarks/bench_search_postgres.py
    .venv/bin/python benchmarks/bench_search_postgres.py --documents 10000
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_search import Library, against_the_bare_engine, similar_and_fresh, through_the_api
from scratch import postgres_databases
from sqlalchemy import text

from app import create_app
from incidents.accounts.service import create_api_token, create_user
from incidents.database import engine_of, get_session
from incidents.models import Role
from incidents.tables import all_tables
from search import postgres_tables, service
from search.query import analyzer

BARE = text(
    """
    SELECT key, ts_headline('english', summary, q) FROM (
        SELECT key, summary, q FROM search_documents, CAST(:q AS tsquery) AS q
        WHERE lexemes @@ q ORDER BY ts_rank(lexemes, q) DESC LIMIT 10
    ) top
    """
)


def main() -> None:
    library = Library.from_arguments(__doc__ or "", 50_000)
    with postgres_databases(1) as (url,):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": url,
                "SEARCH_BACKEND": "postgres",
                "OUTBOX_POLL_SECONDS": 60,
            }
        )
        database = engine_of(app)
        all_tables().create_all(database)
        with database.begin() as connection:
            postgres_tables.create(connection)
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
        with database.begin() as connection:
            connection.execute(text("ANALYZE search_documents"))
            connection.execute(text("ANALYZE search_lexemes"))

        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}

        ours = through_the_api(client, auth, library.queries)
        analyze = analyzer()
        bare_queries = [
            " | ".join(f"'{t.text}'" for t in analyze(q.replace("'", " "))) or "''" for q in library.queries
        ]

        def bare(n: int) -> None:
            with database.connect() as connection:
                connection.execute(BARE, {"q": bare_queries[n % len(bare_queries)]}).all()

        against_the_bare_engine(ours, bare, len(library.queries))
        similar_and_fresh(app, client, auth, library.rng.sample(library.words.sentences, 30), library.services)
        database.dispose()


if __name__ == "__main__":
    main()
