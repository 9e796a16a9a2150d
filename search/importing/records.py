"""What reading one Markdown post-mortem gives: plain values, and every problem met on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Problem:
    """Something in a file that could not be read, or was read with a caveat; `where` names the field."""

    where: str
    message: str
    refused: bool = False  # the whole file was refused for it

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class TimelineRow:
    """A row of the document's timeline: its instant in UTC when one could be read, and what it says."""

    text: str
    written: str
    occurred_at: datetime | None
    key_time: str | None = None  # "detected_at" or "mitigated_at" when the row says so ("**Detection:**")


@dataclass(frozen=True)
class ImportedActionItem:
    """An action item as written: its title, and its owner, due date, status and ticket when stated."""

    title: str
    owner: str | None = None
    due_on: date | None = None
    status: str = "open"  # open, in_progress, done, wont_do
    ticket_url: str | None = None


@dataclass
class ImportedPostmortem:
    """One document, read: metadata, sections by template key, timeline, factors and action items."""

    source_id: str
    file_name: str
    title: str = ""
    summary: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    timeline: list[TimelineRow] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    action_items: list[ImportedActionItem] = field(default_factory=list)
    started_at: datetime | None = None
    start_basis: str = ""  # how the start was found, for the report and the timeline
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    zone: str | None = None  # the zone the document states, as an IANA name
    severity: str | None = None
    company: str | None = None
    products: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    time_to_detect: int | None = None  # seconds
    time_to_recover: int | None = None
    downtime: int | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, where: str, message: str) -> None:
        """Note a problem met while reading."""
        self.problems.append(Problem(where, message))

    @property
    def timeline_rows_placed(self) -> int:
        return sum(1 for row in self.timeline if row.occurred_at is not None)
