"""The blameless check's labelled sentences (tests/data/blameless_corpus.txt) and its scores on them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from incidents.postmortems.blameless import check_language

CORPUS = Path(__file__).resolve().parent / "data" / "blameless_corpus.txt"


@dataclass(frozen=True)
class Scores:
    """How the check did on the corpus: flagged sentences against expected ones."""

    true_positives: int
    false_positives: int
    false_negatives: int
    wrong_rule: list[str]
    false_alarms: list[str]
    misses: list[str]

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


def load() -> tuple[list[str], list[tuple[str, str]]]:
    """The people named in the corpus and its (expected rule, sentence) pairs."""
    people: list[str] = []
    cases: list[tuple[str, str]] = []
    for line in CORPUS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("people:"):
            people = [p.strip() for p in line.removeprefix("people:").split(",")]
            continue
        rule, sentence = (part.strip() for part in line.split("|", 1))
        cases.append((rule, sentence))
    return people, cases


def score() -> Scores:
    """Run the check over every sentence: a sentence counts once, flagged or not."""
    people, cases = load()
    tp = fp = fn = 0
    wrong_rule: list[str] = []
    false_alarms: list[str] = []
    misses: list[str] = []
    for expected, sentence in cases:
        rules = {f.rule for f in check_language(sentence, people=people)}
        if expected == "neutral":
            if rules:
                fp += 1
                false_alarms.append(sentence)
        elif not rules:
            fn += 1
            misses.append(sentence)
        else:
            tp += 1
            if expected not in rules:
                wrong_rule.append(sentence)
    return Scores(tp, fp, fn, wrong_rule, false_alarms, misses)
