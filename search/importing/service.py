"""Import one file: read it, translate it, and make the one domain call that records it (which commits)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from incidents.actors import Sender
from incidents.errors import DomainError
from incidents.past_incidents import record_past_incident

from .files import read_text
from .reader import read_postmortem
from .records import Problem
from .translate import Settings, past_incident

# Who records an import on the timeline and in the review's history: the import itself, a sender acting
# for the report's authors (no person of this Kintsugi wrote it, and the command's user is no account).
IMPORTER = Sender("Import")


@dataclass
class FileReport:
    """What became of one file, and every problem met in it."""

    path: Path
    outcome: str  # imported, updated, unchanged, refused (with "would " before them in a dry run)
    title: str = ""
    incident_id: int | None = None
    rows: int = 0
    rows_placed: int = 0
    factors: int = 0
    action_items: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.outcome == "refused"


def import_file(
    session: Session, path: Path, *, settings: Settings, dry_run: bool = False, default_zone: str = "UTC"
) -> FileReport:
    """Import one file in one transaction; a refusal (unreadable, or a rule of the domain) changes nothing."""
    text = read_text(path)
    if text.text is None:
        return FileReport(path, "refused", problems=[Problem("file", text.refused, refused=True)])
    doc = read_postmortem(path.name, text.text, default_zone=default_zone)
    report = FileReport(
        path,
        "refused",
        title=doc.title,
        rows=len(doc.timeline),
        rows_placed=doc.timeline_rows_placed,
        factors=len(doc.factors),
        action_items=len(doc.action_items),
        problems=doc.problems,
    )
    if any(problem.refused for problem in doc.problems):
        return report
    record = past_incident(doc, settings)
    try:
        recorded = record_past_incident(session, actor=IMPORTER, record=record, dry_run=dry_run)
    except DomainError as exc:
        where = f"field {exc.field}" if exc.field else "file"
        report.problems.append(Problem(where, f"refused: {exc.message}", refused=True))
        return report
    outcome = "imported" if recorded.created else "updated" if recorded.changed else "unchanged"
    report.outcome = f"would be {outcome}" if dry_run else outcome
    report.incident_id = None if dry_run else recorded.incident_id
    return report
