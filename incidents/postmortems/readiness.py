"""What stands between a post-mortem and publishing, each problem with the place it is about.

A required section counts as written only when a person wrote something beyond what the pre-fill
put there and what the prompt asks: a post-mortem must not publish its own questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import ActionPriority, Postmortem, PostmortemSection
from .times import UNKNOWN, comparable

_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE = re.compile(r"(?<=[.?!])\s+")


@dataclass(frozen=True)
class Problem:
    """One thing to put right before publishing; where: "section:<key>", "item:<id>" or "action-items"."""

    where: str
    message: str


def publishing_problems(postmortem: Postmortem) -> list[Problem]:
    """Every problem, sections first in template order, then action items."""
    problems = [
        Problem(f"section:{s.key}", _unwritten(s)) for s in postmortem.sections if s.required and not person_wrote(s)
    ]
    for item in postmortem.action_items:
        kind = "countermeasure" if item.priority is ActionPriority.COUNTERMEASURE else "idea"
        if item.owner_id is None and not item.owner_team:
            problems.append(Problem(f"item:{item.id}", f"{kind} “{item.title}” has no owner"))
        if item.due_on is None:
            problems.append(Problem(f"item:{item.id}", f"{kind} “{item.title}” has no due date"))
    if not any(i.priority is ActionPriority.COUNTERMEASURE for i in postmortem.action_items):
        problems.append(Problem("action-items", "there is no countermeasure yet"))
    return problems


def _unwritten(section: PostmortemSection) -> str:
    if not section.body.strip():
        return f"“{section.title}” is required and empty"
    return f"“{section.title}” is required and holds only the pre-filled text and its prompt"


def person_wrote(section: PostmortemSection) -> bool:
    """Whether the body holds a line that is neither the pre-fill's nor the prompt's."""
    given = {_line(line) for line in (section.prefill or "").splitlines()}
    given |= {_line(sentence) for sentence in _SENTENCE.split(section.prompt)}
    given |= {_line(section.prompt), "", _line(UNKNOWN)}
    return any(_line(line) not in given for line in section.body.splitlines())


def _line(text: str) -> str:
    """A line as compared: without list markers, spacing, case, closing punctuation or times' words."""
    line = _MARKER.sub("", comparable(text)).strip().casefold()
    return re.sub(r"\s+", " ", line).strip(" .:;,?!—-_*")
