"""Import a folder of Markdown post-mortems into a scratch SQLite database and print what became of it.

By default the shared corpus of public post-mortems (../shared/corpus/public-postmortems beside the
checkout); any folder or files can be named instead. Prints the files imported and refused, the
timeline rows placed at an instant, the action items kept, the most common problems, and the time
taken; then imports again to show that nothing is duplicated.

    .venv/bin/python benchmarks/import_corpus.py
    .venv/bin/python benchmarks/import_corpus.py path/to/postmortems --report
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from app import create_app
from incidents.database import engine_of, get_session
from incidents.models import Incident, TimelineEntry
from incidents.postmortems.models import ActionItem, Postmortem, ReviewStatus
from incidents.tables import all_tables

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "public-postmortems"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[CORPUS])
    parser.add_argument("--report", action="store_true", help="print the full import report too")
    args = parser.parse_args()
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        sys.exit(f"not found: {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder}/import.db"})
        all_tables().create_all(engine_of(app))
        runner = app.test_cli_runner()
        started = time.perf_counter()
        result = runner.invoke(args=["import", *map(str, args.paths)])
        took = time.perf_counter() - started
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        report = result.stdout
        if args.report:
            print(report)
        counts = _counts(app)
        again = runner.invoke(args=["import", *map(str, args.paths)])
        counts_again = _counts(app)
    incidents, published, _entries, items = counts
    print(report.strip().splitlines()[-2])
    print(report.strip().splitlines()[-1])
    print(f"Imported in {took:.1f} s; {incidents} incidents, {published} published post-mortems, {items} action items.")
    problems = Counter(
        re.sub(r"\d+", "N", line.split(":", 1)[0].strip(" -"))
        + ":"
        + re.sub(r"'.*?'|\d+", "…", line.split(":", 1)[1])[:70]
        for line in report.splitlines()
        if line.startswith("  - ")
    )
    print("Most common problems:")
    for problem, count in problems.most_common(15):
        print(f"  {count:4}  {problem}")
    print("Importing again: " + again.stdout.strip().splitlines()[-2])
    print(f"Incidents, published post-mortems, timeline entries, action items: {counts}, then {counts_again}.")


def _counts(app: Any) -> tuple[int, int, int, int]:
    with app.app_context():
        session = get_session()

        def count(query: Any) -> int:
            return int(session.scalar(query) or 0)

        return (
            count(select(func.count()).select_from(Incident)),
            count(select(func.count()).select_from(Postmortem).where(Postmortem.status == ReviewStatus.PUBLISHED)),
            count(select(func.count()).select_from(TimelineEntry)),
            count(select(func.count()).select_from(ActionItem)),
        )


if __name__ == "__main__":
    main()
