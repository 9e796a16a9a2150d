"""The blameless check's precision and recall on the labelled corpus, its findings on real post-mortems, and its speed.

    .venv/bin/python benchmarks/bench_blameless.py

The labelled corpus is tests/data/blameless_corpus.txt. When ../shared/corpus/public-postmortems
is there, it also runs over those real public post-mortem summaries and prints every finding with
its context, for a person to judge.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from blameless_corpus import load, score

from incidents.postmortems.blameless import check_language

REAL = ROOT.parent / "shared" / "corpus" / "public-postmortems"


def main() -> None:
    """Print the scores, the real-corpus findings and the timing."""
    people, cases = load()
    result = score()
    print(f"labelled corpus: {len(cases)} sentences ({sum(r == 'neutral' for r, _ in cases)} neutral)")
    print(
        f"precision {result.precision:.3f}  recall {result.recall:.3f}  "
        f"(true positives {result.true_positives}, false alarms {result.false_positives}, "
        f"misses {result.false_negatives})"
    )
    for sentence in result.false_alarms:
        print(f"  false alarm: {sentence}")
    for sentence in result.misses:
        print(f"  missed: {sentence}")
    if REAL.is_dir():
        files = sorted(REAL.glob("*.md"))
        findings = 0
        for path in files:
            body = path.read_text().split("---", 2)[-1]
            for f in check_language(body):
                findings += 1
                context = body[max(0, f.start - 50) : f.end + 30].replace("\n", " ")
                print(f"  [{f.rule}] {path.stem[:8]}: …{context}…")
        print(f"real post-mortems: {len(files)} summaries, {findings} findings (listed above)")
    text = " ".join(sentence for _, sentence in cases)
    while len(text) < 50_000:
        text += " " + text
    text = text[:50_000]
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        check_language(text, people=people + [f"Person {n}" for n in range(300)])
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"50,000 characters with 306 known names: median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()
