"""The blameless check: language that judges people, imagines another past, or asks people to try harder.

Pure functions over text. A finding names the span it is about (start and end offsets in code
points), the rule, why it matters and a reframing. Neutral facts that name people as actors
("Ana rolled back the deploy at 14:10") and systems that failed ("the standby failed to fail
over") are not findings: the check fires on judgement, not on people or failures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One stretch of text the blameless check flags, with why and a better question to ask."""

    start: int
    end: int
    rule: str
    message: str
    suggestion: str

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain JSON-ready values."""
        return asdict(self)


COUNTERFACTUAL = "counterfactual"
BLAME = "blame"
TRY_HARDER = "try-harder"

_WHY = {
    COUNTERFACTUAL: (
        "Counterfactuals describe a past that did not happen. They judge with hindsight what people "
        "could not know then, and hide why their actions made sense at the time.",
        "Describe what happened and ask: why did it make sense at the time?",
    ),
    BLAME: (
        "This judges a person instead of explaining the conditions they worked in. Blame makes people "
        "share less next time, and the conditions stay in place.",
        "Ask: what made this easy to get wrong? What did the system, tools or process allow?",
    ),
    TRY_HARDER: (
        "Asking people to try harder is not a countermeasure: attention runs out, especially at 3 a.m. "
        "The same conditions will produce the same outcome.",
        "Ask: what would make this impossible to get wrong? (a check, a guard rail, automation, a default)",
    ),
}

# People as a sentence's subject: pronouns and roles. Named people come from the caller.
_PERSON_WORDS = (
    r"he|she|someone|somebody|the (?:on-?call(?: engineer)?|engineer|operator|developer|dev|"
    r"admin|administrator|dba|sre|intern|responder|author|reviewer|team member|new hire|contractor)"
)

# Who a counterfactual imagines acting otherwise.
_WHO = r"(?:we|i|you|they|he|she|someone|anyone|somebody|anybody|the \w+)"

_COUNTERFACTUAL_PATTERNS = [
    # Not "might have" or "must have": those weigh evidence about what did happen.
    r"\b(?:would|could|should|ought to)(?:\s+not|n't)?\s+have\b",
    r"\b(?:would|could|should)(?:n't)?'ve\b",
    r"\bif only\b",
    r"(?:^|(?<=[.;:!?\n])|(?<=,))\s*had\s+" + _WHO + r"\s+(?:not\s+|only\s+)?\w+",
    r"\bif\s+" + _WHO + r"\s+(?:had|hadn't|had not)\s+(?:not\s+|only\s+)?\w+(?:ed|en|wn|ne|ught|ht)\b",
]

_BLAME_PATTERNS = [
    r"\b(?:human|operator|pilot|engineer) errors?\b",
    r"\bcareless(?:ly|ness)?\b",
    r"\bnegligen(?:t|tly|ce)\b",
    r"\b(?:sloppy|sloppiness|lazy|laziness|incompeten(?:t|ce)|reckless(?:ly|ness)?|irresponsib(?:le|ly|ility))\b",
    r"\b(?:inattentive|inattention|stupid(?:ity)?|dumb mistake|rookie mistake|idiot(?:ic)?)\b",
    r"\b(?:his|her|their|my|your)\s+(?:own\s+)?(?:fault|mistake|blunder|screw-?up)\b",
    r"\bfault of\b",
    r"\b(?:to blame|blamed?|blaming|culprits?|scapegoat)\b",
    r"\b(?:forgot|forgotten|forgetting)\s+to\b",
    r"\bdidn't bother\b|\bdid not bother\b",
    r"\b(?:messed|screwed|botched|fumbled) up\b|\b(?:botched|fumbled)\b",
    r"\bnot paying attention\b|\bwasn't paying attention\b|\bwas not paying attention\b",
    r"\bshould(?:n't| not)? (?:know|have known) better\b",
]

_TRY_HARDER_PATTERNS = [
    r"\b(?:be|being|to be)\s+(?:more\s+|extra\s+)?(?:careful|cautious|vigilant|diligent|attentive|mindful)\b",
    r"\bpay(?:ing)?\s+(?:more|closer|better|extra)\s+attention\b",
    r"\bdouble[- ]?check(?:s|ed|ing)?\b",
    r"\btriple[- ]?check(?:s|ed|ing)?\b",
    r"\btry harder\b|\btake more care\b|\bmore care\b",
    r"\bremind (?:everyone|people|engineers|the team|staff|all)\b",
    r"\b(?:not|never) (?:make|repeat) (?:the same|this|that) mistake\b",
    r"\bremember to\b",
]


# After a person: what makes them the cause, or the one who failed.
_AFTER_PERSON = re.compile(
    r"(?:'s)?\s+(?:caused|broke|triggered|was responsible for)\b"
    r"|\s+(?:failed|neglected|omitted)\s+to\b"
    r"|\s+(?:ignored|neglected|overlooked|missed)\b"
    r"|'s\s+(?:fault|mistake|error|blunder|negligence|carelessness)\b",
    re.IGNORECASE,
)
# Before a person: (pattern before, pattern after the person, rule).
_AROUND_PERSON = [
    (r"\b(?:caused|triggered|broken|started) by\s+", "", BLAME),
    (r"\b(?:because|since) of\s+", "", BLAME),
    (r"\broot cause (?:was|is)\s+", "", BLAME),
    (r"(?:^|(?<=[.;:!?\n])|(?<=,))\s*had\s+", r"\s+(?:not\s+|only\s+)?\w+", COUNTERFACTUAL),
    (r"\bif\s+", r"\s+(?:had|hadn't|had not)\b", COUNTERFACTUAL),
]
_AROUND_COMPILED = [
    (re.compile(before, re.IGNORECASE), re.compile(after, re.IGNORECASE), rule)
    for before, after, rule in _AROUND_PERSON
]


@lru_cache(maxsize=8)
def _person_regex(names: tuple[str, ...]) -> re.Pattern[str]:
    """People: the given names (longest first, so a full name wins), pronouns and roles."""
    alternatives = [re.escape(n) for n in sorted(names, key=len, reverse=True)] + [_PERSON_WORDS]
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


def _named_spans(text: str, names: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """A person as the cause or the one who failed, and another past for a person."""
    person = _person_regex(names)
    spans = []
    for mention in person.finditer(text):
        cause = _AFTER_PERSON.match(text, mention.end())
        if cause:
            spans.append((mention.start(), cause.end(), BLAME))
    for before, after, rule in _AROUND_COMPILED:
        for lead in before.finditer(text):
            who = person.match(text, lead.end())
            tail = after.match(text, who.end()) if who else None
            if who and tail:
                spans.append((lead.start(), tail.end(), rule))
    return spans


def _compile(patterns: Sequence[str], rule: str) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(p, re.IGNORECASE), rule) for p in patterns]


_FIXED_RULES = (
    _compile(_COUNTERFACTUAL_PATTERNS, COUNTERFACTUAL)
    + _compile(_BLAME_PATTERNS, BLAME)
    + _compile(_TRY_HARDER_PATTERNS, TRY_HARDER)
)


def check_language(text: str, *, people: Iterable[str] = ()) -> list[Finding]:
    """Every blameless finding in the text, in order; people are names that count as persons."""
    spans = _named_spans(text, tuple(_names_and_first_names(people)))
    spans += [(m.start(), m.end(), rule) for pattern, rule in _FIXED_RULES for m in pattern.finditer(text)]
    trimmed = []
    for start, end, rule in spans:
        # Leading whitespace from a clause-start anchor is not part of the finding.
        while start < end and text[start].isspace():
            start += 1
        if start < end:
            trimmed.append((start, end, rule))
    return [Finding(start, end, rule, *_WHY[rule]) for start, end, rule in _without_overlaps(trimmed)]


def _names_and_first_names(people: Iterable[str]) -> list[str]:
    found: set[str] = set()
    for person in people:
        person = person.strip()
        if not person or "@" in person:
            continue
        found.add(person)
        first = person.split()[0]
        if len(first) >= 2:
            found.add(first)
    return sorted(found)


def _without_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep the earliest, then longest, of overlapping spans: one finding per stretch of text."""
    kept: list[tuple[int, int, str]] = []
    for start, end, rule in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end, rule))
    return kept
