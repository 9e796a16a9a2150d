"""`flask import` end to end, on the test database (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from incidents.database import get_session
from incidents.events import subscribe
from incidents.models import Incident, LabelKind, Source, Status, TimelineEntry, Visibility
from incidents.outbox.models import OUTBOX_TABLE
from incidents.postmortems.models import ActionItem, ActionStatus, ContributingFactor, Postmortem, ReviewStatus

# Every test here runs against each engine the run offers (see conftest.pytest_generate_tests).
pytestmark = pytest.mark.usefixtures("search_backend")

IN_CET = """# Cluster ran out of IP addresses

## Summary

Scaling the cluster used up the subnets' addresses.

## Timeline

| Date and Time in CET | Event |
|:---------------------|-------|
| 2019-11-29 12:00     | Scaled the cluster from 7 to 10 nodes |
| 2019-11-30 08:24     | **Detection:** warning from AWS about free addresses |
| Date and Time in CET | Event |
| 2019-12-03 --:--     | Surge of new deployments |
| 2019-12-05 07:00     | **Recovery:** all systems verified operational |

## Contributing Factors

- No monitoring of subnet capacity.
- One autoscaling group across zones.

## Action Items

- Monitor subnet capacity (owner: ana@example.com, due 2020-01-15)
- Separate autoscaling groups per zone @platform

## Lessons Learned

Capacity limits of the network are ours to watch.

## Stats

- Category: Kubernetes
- Time to detection: 20 hours 24 minutes
- Time to recovery: 6 days
"""

IN_PST_WITH_FRONT_MATTER = """---
uuid: 7d1c0f00-checkout
title: Checkout errors after a client upgrade
company: Example Corp
product: checkout
keywords: [payments, timeout]
url: https://status.example.com/incidents/42
severity: SEV2
---
## Overview
Checkout failed for 12% of customers.

## Timeline
All times are PST.

- 2021-07-06 09:58 deploy of payments-client 4.2.0
- 2021-07-06 10:04 error rate alert fired
- 2021-07-06 10:45~ rollback finished
- 2021-07-06 HH:mm a row left from the template

## Root Causes
The client's default timeout changed between minor versions.

## Follow-ups
| Action | Owner | Due |
|---|---|---|
| Set explicit timeouts | @jdoe | 2021-08-01 |
"""

NO_DATE = """# A cache went stale

## What happened
The cache kept serving old prices.
"""


def write_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "postmortems"
    folder.mkdir()
    (folder / "PM2019-009 - IP starvation.md").write_text(IN_CET)
    (folder / "checkout.markdown").write_text(IN_PST_WITH_FRONT_MATTER)
    (folder / "stale-cache.md").write_text(NO_DATE)
    (folder / "broken.md").write_bytes(b"\x00\x01\x02binary")
    (folder / "empty.md").write_text("")
    (folder / "bad-yaml.md").write_text("---\ntitle: [unclosed\nid: bad-1\n---\n# Queue stalled\n\n## Summary\nx\n")
    (folder / "notes.txt").write_text("# never read: not Markdown by its name\n")
    return folder


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["import", *args])


def counts(app: Flask) -> tuple[int, int, int, int, int]:
    with app.app_context():
        session = get_session()
        return (
            session.scalar(select(func.count()).select_from(Incident)) or 0,
            session.scalar(select(func.count()).select_from(Postmortem)) or 0,
            session.scalar(select(func.count()).select_from(TimelineEntry)) or 0,
            session.scalar(select(func.count()).select_from(ActionItem)) or 0,
            session.scalar(select(func.count()).select_from(OUTBOX_TABLE)) or 0,
        )


@pytest.fixture
def events(app: Flask) -> list[str]:
    """The event types the import writes to the outbox, through a subscribed handler."""
    seen: list[str] = []
    for event_type in ("incident.declared", "incident.changed", "postmortem.published", "timeline.entries_recorded"):
        subscribe(app, event_type, "test.recorder", lambda event: None)
        seen.append(event_type)
    return seen


def test_a_folder_imports_as_closed_incidents_with_published_postmortems(
    app: Flask, tmp_path: Path, events: list[str]
) -> None:
    result = run(app, str(write_folder(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "[1/6]" in result.output and "[6/6]" in result.output  # a line per file; notes.txt is no Markdown
    with app.app_context():
        session = get_session()
        incidents = {i.title: i for i in session.scalars(select(Incident))}
        assert set(incidents) == {
            "Cluster ran out of IP addresses",
            "Checkout errors after a client upgrade",
            "A cache went stale",
            "Queue stalled",
        }
        for incident in incidents.values():
            assert incident.status is Status.CLOSED and incident.visibility is Visibility.OPEN
            postmortem = session.scalar(select(Postmortem).where(Postmortem.incident_id == incident.id))
            assert postmortem is not None and postmortem.status is ReviewStatus.PUBLISHED

        cet = incidents["Cluster ran out of IP addresses"]
        assert cet.started_at == datetime(2019, 11, 29, 11, 0, tzinfo=UTC)
        assert cet.detected_at == datetime(2019, 11, 30, 7, 24, tzinfo=UTC)
        assert cet.mitigated_at == datetime(2019, 12, 5, 6, 0, tzinfo=UTC)
        assert cet.resolved_at is None  # the report does not say: not invented
        rows = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == cet.id, TimelineEntry.kind != "status_change")
            .order_by(TimelineEntry.occurred_at)
        ).all()
        assert [(e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.source, e.actor_name) for e in rows] == [
            ("2019-11-29 11:00", Source.IMPORT, "Import"),
            ("2019-11-30 07:24", Source.IMPORT, "Import"),
            ("2019-12-05 06:00", Source.IMPORT, "Import"),
        ]
        declared = session.scalar(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == cet.id, TimelineEntry.external_id.is_not(None))
            .where(TimelineEntry.kind == "status_change")
        )
        assert declared is not None and declared.external_id == "PM2019-009 - IP starvation"
        assert declared.text.startswith("Import: declared a SEV3 incident from the imported report")
        postmortem = session.scalar(select(Postmortem).where(Postmortem.incident_id == cet.id))
        assert postmortem is not None
        assert postmortem.section("timeline").body.startswith("| Date and Time in CET")  # type: ignore[union-attr]
        assert "Capacity limits" in postmortem.section("lessons").body  # type: ignore[union-attr]
        assert [
            f.text
            for f in session.scalars(
                select(ContributingFactor).where(ContributingFactor.postmortem_id == postmortem.id)
            )
        ] == [
            "No monitoring of subnet capacity.",
            "One autoscaling group across zones.",
        ]
        items = {i.title: i for i in postmortem.action_items}
        assert set(items) == {"Monitor subnet capacity", "Separate autoscaling groups per zone"}
        # Nobody of that email has an account here: the owner is kept as written.
        assert items["Monitor subnet capacity"].owner_team == "ana@example.com"
        assert items["Monitor subnet capacity"].due_on.isoformat() == "2020-01-15"  # type: ignore[union-attr]
        assert items["Separate autoscaling groups per zone"].owner_team == "@platform"
        assert items["Separate autoscaling groups per zone"].due_on is None  # no date made up
        assert postmortem.agreed_time_to_detect_seconds == 20 * 3600 + 24 * 60
        assert postmortem.agreed_time_to_resolve_seconds == 6 * 86400
        assert cet.label_values(LabelKind.TAG) == ["Kubernetes"]

        pst = incidents["Checkout errors after a client upgrade"]
        assert pst.severity == "SEV2" and pst.started_at == datetime(2021, 7, 6, 16, 58, tzinfo=UTC)
        assert pst.label_values(LabelKind.TEAM) == ["Example Corp"]
        assert pst.label_values(LabelKind.SERVICE) == ["checkout"]
        assert pst.label_values(LabelKind.TAG) == ["payments", "timeout"]
        assert pst.reference_timezone == "America/Los_Angeles"
        pst_rows = session.scalars(
            select(TimelineEntry).where(TimelineEntry.incident_id == pst.id, TimelineEntry.kind == "note")
        ).all()
        assert sorted(e.occurred_at.strftime("%H:%M") for e in pst_rows) == ["16:58", "17:04", "17:45"]
        evidence = session.scalar(
            select(TimelineEntry).where(TimelineEntry.incident_id == pst.id, TimelineEntry.kind == "evidence")
        )
        assert evidence is not None and evidence.evidence_url == "https://status.example.com/incidents/42"

        stale = incidents["A cache went stale"]
        assert stale.label_values(LabelKind.TAG) == ["date-unknown"]

        recorded = select(OUTBOX_TABLE.c.event_type).where(OUTBOX_TABLE.c.handler == "test.recorder")
        outbox = session.execute(recorded).scalars().all()
        assert set(outbox) == set(events) and outbox.count("incident.declared") == 4
        assert outbox.count("postmortem.published") == 4


def test_the_report_names_every_file_and_field_it_could_not_read(app: Flask, tmp_path: Path) -> None:
    result = run(app, str(write_folder(tmp_path)))
    report = result.stdout
    assert "broken.md: refused\n  - file: a binary file, not Markdown text" in report
    assert "empty.md: refused\n  - file: the file is empty" in report
    assert "bad-yaml.md: imported\n  - front matter: not valid YAML" in report
    assert "timeline row 3: the time '--:--' was never filled in; kept as text, not placed" in report
    assert "timeline row 4: the time 'HH:mm' was never filled in" in report
    assert "start time: the document states no date: recorded as the time of import, tagged date-unknown" in report
    assert "severity: not stated; recorded as SEV3" in report
    assert "6 files: 4 imported, 2 refused." in report


def test_importing_again_updates_and_never_duplicates(app: Flask, tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    assert run(app, str(folder)).exit_code == 0
    first = counts(app)
    again = run(app, str(folder))
    assert "6 files: 2 refused, 4 unchanged." in again.stdout
    assert counts(app) == first

    changed = IN_CET.replace("Scaled the cluster from 7 to 10 nodes", "Scaled the cluster to 10 nodes").replace(
        "- One autoscaling group across zones.\n", ""
    )
    (folder / "PM2019-009 - IP starvation.md").write_text(changed.replace("@platform", "@network"))
    updated = run(app, str(folder / "PM2019-009 - IP starvation.md"))
    assert "1 files: 1 updated." in updated.stdout
    with app.app_context():
        session = get_session()
        incident = session.scalars(select(Incident).where(Incident.title == "Cluster ran out of IP addresses")).one()
        live = session.scalars(
            select(TimelineEntry.text).where(
                TimelineEntry.incident_id == incident.id,
                TimelineEntry.deleted_at.is_(None),
                TimelineEntry.kind == "note",
            )
        ).all()
        assert "Scaled the cluster to 10 nodes" in live and "Scaled the cluster from 7 to 10 nodes" not in live
        postmortem = session.scalars(select(Postmortem).where(Postmortem.incident_id == incident.id)).one()
        assert postmortem.status is ReviewStatus.PUBLISHED
        assert [f.text for f in postmortem.factors] == ["No monitoring of subnet capacity."]
        owners = {i.title: i.owner_team for i in postmortem.action_items}
        assert owners["Separate autoscaling groups per zone"] == "@network"
        assert all(i.status is ActionStatus.OPEN for i in postmortem.action_items)
    assert counts(app)[0] == first[0]


def test_a_dry_run_writes_nothing(app: Flask, tmp_path: Path, events: list[str]) -> None:
    result = run(app, "--dry-run", str(write_folder(tmp_path)))
    assert result.exit_code == 0
    assert "(dry run: nothing was written)" in result.stdout and "would be imported" in result.output
    assert "6 files: 2 refused, 4 would be imported." in result.stdout
    assert counts(app) == (0, 0, 0, 0, 0)


def test_restricted_imports_are_restricted(app: Flask, tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    assert run(app, "--restricted", str(folder / "checkout.markdown")).exit_code == 0
    with app.app_context():
        assert get_session().scalars(select(Incident.visibility)).all() == [Visibility.RESTRICTED]
    assert "updated" in run(app, str(folder / "checkout.markdown")).stdout
    with app.app_context():
        assert get_session().scalars(select(Incident.visibility)).all() == [Visibility.OPEN]


def test_nothing_imported_or_wrong_arguments_exit_non_zero(app: Flask, tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    nothing = run(app, str(folder / "broken.md"), str(folder / "empty.md"))
    assert nothing.exit_code == 1 and "2 files: 2 refused." in nothing.stdout
    assert run(app, str(tmp_path / "missing")).exit_code == 2
    assert run(app, "--severity", "SEV9", str(folder)).exit_code == 2
    assert run(app, "--timezone", "Mars/Olympus", str(folder)).exit_code == 2
    assert run(app, "--severity", "sev1", str(folder / "stale-cache.md")).exit_code == 0
    with app.app_context():
        assert get_session().scalars(select(Incident.severity)).all() == ["SEV1"]
    assert counts(app)[0] == 1
