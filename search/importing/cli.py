"""`flask import PATH...`: Markdown post-mortems as closed incidents with published reviews, with a report."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from incidents.database import get_session
from incidents.settings import factor_categories, severity_scale

from .files import files_to_read
from .records import Problem
from .service import FileReport, import_file
from .timezones import zone_info, zone_named
from .translate import Settings


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--restricted", is_flag=True, help="Only admins (and people given a role) see the incidents.")
@click.option("--dry-run", is_flag=True, help="Read everything and print the report; write nothing.")
@click.option("--severity", help="The severity of a report that states none (default: the middle of the scale).")
@click.option(
    "--timezone", "zone", default="UTC", show_default=True, help="The zone of times a report states none for."
)
@with_appcontext
def import_command(paths: tuple[Path, ...], restricted: bool, dry_run: bool, severity: str | None, zone: str) -> None:
    """Import Markdown post-mortems: files named (any extension) and folders' *.md and *.markdown files.

    Each becomes a closed incident with a published post-mortem; importing the same report again
    updates it. Ends with a report of every file and field that could not be read, and why.
    """
    scale = severity_scale()
    chosen = severity or scale[len(scale) // 2]
    match = {s.lower(): s for s in scale}.get(chosen.strip().lower())
    if match is None:
        raise click.BadParameter(f"must be one of {', '.join(scale)}", param_hint="--severity")
    named = zone_named(zone) or zone
    try:
        zone_info(named)
    except (KeyError, ValueError):
        raise click.BadParameter(f"unknown time zone {zone!r}", param_hint="--timezone") from None
    settings = Settings(tuple(scale), tuple(factor_categories()), match, restricted=restricted)
    files = files_to_read(paths)
    if not files:
        raise click.UsageError("no *.md or *.markdown files in the folders given")
    session = get_session()
    reports = []
    for number, path in enumerate(files, start=1):
        try:
            report = import_file(session, path, settings=settings, dry_run=dry_run, default_zone=named)
        except (SQLAlchemyError, ValueError, RecursionError) as exc:
            # A fault of ours, not of the file: say so and go on with the others.
            session.rollback()
            report = FileReport(path, "refused", problems=[Problem("file", f"not imported: {exc!r:.300}", True)])
        reports.append(report)
        click.echo(f"[{number}/{len(files)}] {report.outcome:<18} {path}{_counts(report)}", err=True)
    click.echo(render_report(reports, dry_run=dry_run))
    if all(report.refused for report in reports):
        raise click.exceptions.Exit(1)


def _counts(report: FileReport) -> str:
    if report.refused:
        return ""
    return (
        f" ({report.rows_placed}/{report.rows} timeline rows placed, {report.factors} factors,"
        f" {report.action_items} action items)"
    )


def render_report(reports: list[FileReport], *, dry_run: bool) -> str:
    """The closing report: every file with a problem and why, then the totals."""
    lines = ["", "Import report" + (" (dry run: nothing was written)" if dry_run else ""), ""]
    for report in reports:
        if not report.problems:
            continue
        lines.append(f"{report.path}: {report.outcome}")
        lines.extend(f"  - {problem}" for problem in report.problems)
    if len(lines) == 3:
        lines.append("Every field of every file was read.")
    outcomes: dict[str, int] = {}
    for report in reports:
        outcomes[report.outcome] = outcomes.get(report.outcome, 0) + 1
    rows = sum(r.rows for r in reports)
    placed = sum(r.rows_placed for r in reports if not r.refused)
    items = sum(r.action_items for r in reports if not r.refused)
    lines += [
        "",
        f"{len(reports)} files: " + ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items())) + ".",
        f"Timeline rows placed at their instant: {placed} of {rows}; action items kept: {items}.",
    ]
    return "\n".join(lines)
