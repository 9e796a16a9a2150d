"""Benchmark of Markdown rendering on text built to stall it: every shape of markdown_stress.py.

Renders each pathological shape at 50,000 characters (the longest text Kintsugi keeps) through the
one rendering function, parse and sanitize, five times, and prints the best and the worst time
and whether the text was shown as written (nesting or growth past the bounds). Target: every shape
under 100 ms. A page never renders at all: each text is rendered once, when it is saved.

    .venv/bin/python benchmarks/bench_markdown.py
    .venv/bin/python benchmarks/bench_markdown.py --length 50000 --repeat 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from markdown_stress import stress_set

from incidents.rendering import render_markdown

TARGET_MS = 100.0
PROSE = "The pool was shared by checkout and search; **nobody** knew. See [the runbook](https://wiki.example/r).\n\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    shapes = {"(ordinary prose)": (PROSE * (args.length // len(PROSE) + 1))[: args.length], **stress_set(args.length)}
    render_markdown("warm *up*")
    worst_of_all = 0.0
    for name, text in shapes.items():
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            html = str(render_markdown(text))
            timings.append((time.perf_counter() - started) * 1000)
        worst_of_all = max(worst_of_all, min(timings))
        shown = "shown as written" if "unrendered" in html else f"{len(html):,} characters of HTML"
        verdict = "ok" if min(timings) < TARGET_MS else "OVER TARGET"
        print(f"{name:28} best {min(timings):7.2f} ms   worst {max(timings):7.2f} ms   {shown:28} ({verdict})")
    print(f"{len(shapes) - 1} shapes of {args.length:,} characters; the slowest took {worst_of_all:.2f} ms at best")


if __name__ == "__main__":
    main()
