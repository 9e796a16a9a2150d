"""`flask search`: rebuild the index from the database, and check it."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from incidents.database import get_session
from incidents.library import incident_count

from . import service

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the index from the database beside the one in use, then swap it in (search goes on)."""
    session = get_session()
    total = incident_count(session)
    with click.progressbar(length=total, label="Indexing incidents") as bar:
        count = service.rebuild(session, progress=bar.update)
    click.echo(f"Indexed {count:,} incidents.")


@search_cli.command("check")
@click.option("--repair/--no-repair", default=True, help="Write what is missing or stale (default).")
def check(repair: bool) -> None:
    """Report documents missing from the index, stale in it, or of incidents gone; repair them."""
    report = service.check(get_session(), repair=repair)
    click.echo(f"Checked {report.checked:,} incidents.")
    for label, found in (("missing", report.missing), ("stale", report.stale), ("extra", report.extra)):
        if found:
            shown = ", ".join(str(x) for x in found[:20]) + (" …" if len(found) > 20 else "")
            click.echo(f"{len(found):,} {label}{' (repaired)' if repair else ''}: {shown}")
    if report.clean:
        click.echo("The index matches the database.")
    elif not repair:
        raise SystemExit(1)
