"""Which part of a post-mortem a heading names, by the synonyms teams use for it."""

from __future__ import annotations

import re

# Part -> the headings that name it, normalised (lowercase, words only). The parts are the sections
# of the "Written report" template, and factors, actions and stats, which become records.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "summary": (
        "summary",
        "overview",
        "executive summary",
        "incident summary",
        "tl dr",
        "tldr",
        "abstract",
        "description",
        "incident description",
        "what happened",
        "background",
        "context",
        "details",
        "incident details",
        "narrative",
        "the incident",
        "introduction",
        "issue summary",
        "problem",
        "problem statement",
    ),
    "impact": (
        "impact",
        "customer impact",
        "user impact",
        "business impact",
        "impact assessment",
        "scope",
        "scope and impact",
        "impact and scope",
        "affected services",
        "who was affected",
        "severity and impact",
        "impact and severity",
    ),
    "detection": ("detection", "how was it detected", "how we found out", "discovery", "how it was discovered"),
    "timeline": (
        "timeline",
        "incident timeline",
        "timeline of events",
        "chronology",
        "sequence of events",
        "events",
        "timeline utc",
        "detailed timeline",
    ),
    "factors": (
        "contributing factors",
        "contributing factor",
        "root cause",
        "root causes",
        "root cause analysis",
        "root cause s",
        "rca",
        "causes",
        "cause",
        "causes and contributing factors",
        "why did it happen",
        "why it happened",
        "trigger",
        "triggers",
        "five whys",
        "5 whys",
        "underlying cause",
        "technical details",
    ),
    "resolution": (
        "resolution",
        "recovery",
        "mitigation",
        "resolution and recovery",
        "how it was resolved",
        "how was it resolved",
        "fix",
        "the fix",
        "response",
        "incident response",
    ),
    "lessons": (
        "lessons learned",
        "lessons learnt",
        "lessons",
        "learnings",
        "key learnings",
        "takeaways",
        "key takeaways",
        "what we learned",
        "what did we learn",
        "reflections",
    ),
    "went_well": ("what went well", "things that went well", "went well", "what worked", "what went right"),
    "went_wrong": (
        "what went wrong",
        "things that went wrong",
        "what went badly",
        "what was hard",
        "what didn t go well",
        "what did not go well",
        "what could be improved",
        "challenges",
    ),
    "lucky": ("where we got lucky", "what we got lucky", "lucky", "where we were lucky"),
    "actions": (
        "action items",
        "action item",
        "actions",
        "remediation",
        "remediations",
        "remediation items",
        "follow ups",
        "follow up",
        "followups",
        "follow up actions",
        "next steps",
        "corrective actions",
        "corrective and preventative measures",
        "preventive actions",
        "preventative actions",
        "countermeasures",
        "todo",
        "to do",
        "tasks",
        "improvements",
        "action plan",
        "what we are doing about it",
        "what we re doing about it",
        "prevention",
        "future work",
    ),
    "stats": ("stats", "statistics", "metrics", "key metrics", "incident metrics", "numbers", "facts"),
    "stakeholders": ("attendees", "participants", "people", "people involved", "stakeholders", "responders", "authors"),
}
_BY_NAME = {name: part for part, names in SYNONYMS.items() for name in names}


def normalised(heading: str) -> str:
    """A heading's words in lowercase: numbering, emoji, punctuation and "(all times UTC)" dropped."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", heading.lower())
    text = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[ivx]+\.)\s+", "", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


def part_of(heading: str) -> str | None:
    """The part a heading names (summary, timeline, factors, actions, ...), or None for an unknown heading."""
    name = normalised(heading)
    if name in _BY_NAME:
        return _BY_NAME[name]
    # "Timeline (all times in UTC)" was handled above; "Incident timeline and response" by its start.
    for length in (3, 2):
        words = name.split()
        if len(words) > length and " ".join(words[:length]) in _BY_NAME:
            return _BY_NAME[" ".join(words[:length])]
    return None
