"""Reading Markdown post-mortems: pure functions over text, no database. Shapes taken from real reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from search.importing.files import files_to_read, read_text
from search.importing.findings import read_action_items, seconds_of
from search.importing.frontmatter import split_front_matter
from search.importing.headings import part_of
from search.importing.moments import read_moment
from search.importing.reader import read_postmortem
from search.importing.timezones import zone_info, zone_named, zone_stated


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "day", "clock"),
    [
        ("2019-11-29 12:00", date(2019, 11, 29), time(12, 0)),
        ("2021-12-10   15:40", date(2021, 12, 10), time(15, 40)),
        ("2024-04-09 8:40", date(2024, 4, 9), time(8, 40)),
        ("2022-11-18T15:40:00Z", date(2022, 11, 18), time(15, 40)),
        ("2020/01/16 09:05:30", date(2020, 1, 16), time(9, 5, 30)),
        ("29.11.2019 12:00", date(2019, 11, 29), time(12, 0)),
        ("11/29/2019 12:00", date(2019, 11, 29), time(12, 0)),
        ("Friday 29 November 2019, 9:16 PM", date(2019, 11, 29), time(21, 16)),
        ("Nov 29th, 2019 at 12:30am", date(2019, 11, 29), time(0, 30)),
        ("March 4, 2021 10:00", date(2021, 3, 4), time(10, 0)),
        ("14:05", None, time(14, 5)),
        ("1430 UTC", None, time(14, 30)),
    ],
)
def test_dates_and_times_in_many_shapes(written: str, day: date | None, clock: time) -> None:
    moment = read_moment(written)
    assert (moment.date, moment.time, moment.issue) == (day, clock, "")


def test_a_zone_written_after_the_time_is_read() -> None:
    assert read_moment("2021-03-04 10:00 UTC").zone == "UTC"
    assert read_moment("10:00 (PST)").zone == "PST"
    assert read_moment("10:00+02:00").zone == "+02:00"
    assert read_moment("10:00 UTC+1").zone == "+01:00"


@pytest.mark.parametrize(
    ("written", "issue"),
    [
        ("2022-06-02 HH:mm", "was never filled in"),
        ("2024-03-13 14:??", "14:??"),
        ("2022-02-?? ??:??", "incomplete"),
        ("20xx-MM-DD HH:mm", "incomplete"),
        ("2021-02-30 10:00", "is not a date"),
        ("05/06/2021 10:00", "day first or month first"),
        ("25:10", "is not a time"),
    ],
)
def test_what_cannot_be_read_says_why_and_has_no_time(written: str, issue: str) -> None:
    assert issue in read_moment(written).issue


def test_a_five_digit_year_is_read_only_when_the_document_settles_it() -> None:
    settled = read_moment("20202-01-16 12:00", years=(2020,))
    assert (settled.date, settled.time) == (date(2020, 1, 16), time(12, 0)) and "five-digit" in settled.repaired
    unsettled = read_moment("20202-01-16 12:00", years=())
    assert unsettled.date is None and "do not settle" in unsettled.issue


def test_approximate_times_keep_their_time_and_say_so() -> None:
    assert read_moment("2020-11-17 10:45~").approximate and read_moment("2020-11-17 10:45~").time == time(10, 45)
    assert read_moment("~2025-03-03 19:30").approximate
    assert read_moment("about 10:30").time == time(10, 30)


def test_zones_as_stated() -> None:
    assert zone_stated("All times in CET.") == "CET"
    assert zone_stated("Times are UTC") == "UTC"
    assert zone_stated("(PST)") == "PST"
    assert zone_stated("All times are Pacific Time.") == "PT"
    assert zone_stated("We restarted the CET cluster") is None
    assert zone_named("Date and Time in CET") == "CET"
    assert zone_named("Time (Europe/Oslo)") == "Europe/Oslo"
    # A standard time's abbreviation names the region's clock; a daylight one its fixed offset.
    june = datetime(2020, 6, 9, 12, 25)
    assert june.replace(tzinfo=zone_info("CET")).utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    assert june.replace(tzinfo=zone_info("PDT")).utcoffset().total_seconds() == -7 * 3600  # type: ignore[union-attr]
    january = datetime(2020, 1, 9, 12, 0)
    assert january.replace(tzinfo=zone_info("CET")).utcoffset().total_seconds() == 3600  # type: ignore[union-attr]


TABLE_IN_CET = """# Cluster IP starvation

## Summary

We ran out of addresses.

## Timeline

| Date and Time in CET | Event |
|:---------------------|-------|
| 2019-11-29 12:00     | Scaled the cluster up |
| Date and Time in CET | Event |
| 2019-12-03 --:--     | Surge of new deployments |
| 2019-11-30 08:24     | **Detection:** warning from AWS |
| 2019-11-30 10:30~    | Scaled down by 2 nodes |
| 2019-11-30 11:00 - 12:00 | Long investigation |
| 2019-12-05 07:00     | **Recovery:** all systems verified operational |
"""


def test_a_table_in_a_stated_zone_lands_in_utc_and_a_repeated_header_is_no_row() -> None:
    doc = read_postmortem("PM2019-009 - IP starvation.md", TABLE_IN_CET)
    placed = [(row.occurred_at, row.text) for row in doc.timeline if row.occurred_at]
    assert placed[0] == (utc(2019, 11, 29, 11, 0), "Scaled the cluster up")
    assert placed[1][0] == utc(2019, 11, 30, 7, 24)
    assert placed[2] == (utc(2019, 11, 30, 9, 30), "Scaled down by 2 nodes (time as written: 2019-11-30 10:30~)")
    assert placed[3][0] == utc(2019, 11, 30, 10, 0) and "11:00 - 12:00" in placed[3][1]
    assert [row.text for row in doc.timeline if row.occurred_at is None] == ["Surge of new deployments"]
    assert len(doc.timeline) == 6  # the header typed again is not a row
    assert any("'--:--' was never filled in" in p.message for p in doc.problems)
    assert doc.started_at == utc(2019, 11, 29, 11, 0) and doc.start_basis == "the earliest time on its timeline"
    assert doc.detected_at == utc(2019, 11, 30, 7, 24) and doc.mitigated_at == utc(2019, 12, 5, 6, 0)
    assert doc.title == "Cluster IP starvation" and doc.source_id == "PM2019-009 - IP starvation"
    assert "| 2019-12-03 --:--" in doc.sections["timeline"]  # the row stays as text


BULLETS_IN_PST = """---
title: Checkout errors
date: 2021-03-04
---
## Overview
Checkout failed.

## Timeline (PST)
- 09:58 deploy of checkout 4.2 started
- **10:04** — error rate alert fired
- 23:50: paged the database team
- 00:10: failover finished
- HH:mm placeholder row left from the template
"""


def test_a_list_of_times_uses_the_documents_date_and_zone_and_crosses_midnight() -> None:
    doc = read_postmortem("checkout.md", BULLETS_IN_PST)
    placed = [row.occurred_at for row in doc.timeline if row.occurred_at]
    assert placed == [
        utc(2021, 3, 4, 17, 58),
        utc(2021, 3, 4, 18, 4),
        utc(2021, 3, 5, 7, 50),
        utc(2021, 3, 5, 8, 10),
    ]
    assert [row.text for row in doc.timeline][:2] == ["deploy of checkout 4.2 started", "error rate alert fired"]
    assert any("next day" in p.message for p in doc.problems)
    assert any("never filled in" in p.message for p in doc.problems)
    assert doc.summary == "Checkout failed." and doc.zone == "PST"


def test_a_time_without_any_date_in_the_document_is_reported_not_placed() -> None:
    doc = read_postmortem("x.md", "# Outage\n\n## Timeline\n\nAll times in UTC.\n\n- 10:00 alert fired\n")
    assert doc.timeline[0].occurred_at is None
    assert any("time without a date" in p.message for p in doc.problems)


def test_no_zone_stated_is_read_in_the_default_and_reported() -> None:
    doc = read_postmortem("x.md", "# Outage\n\n## Timeline\n\n- 2021-03-04 10:00 alert fired\n", default_zone="CET")
    assert doc.timeline[0].occurred_at == utc(2021, 3, 4, 9, 0)
    assert any(p.where == "time zone" and "CET" in p.message for p in doc.problems)


def test_headings_map_to_parts_by_synonym() -> None:
    expected = {
        "Overview": "summary",
        "Root Causes": "factors",
        "Root Cause(s)": "factors",
        "2. Contributing Factors": "factors",
        "Remediation": "actions",
        "Follow-ups": "actions",
        "Lessons Learnt": "lessons",
        "What went well?": "went_well",
        "Timeline (all times UTC)": "timeline",
        "Stats": "stats",
        "Attendees": "stakeholders",
        "Customer Impact": "impact",
        "Random musings": None,
    }
    assert {heading: part_of(heading) for heading in expected} == expected


FULL = """---
uuid: 6f1d-report
company: Example Corp
product: checkout, payments
categories: [cloud, config-change]
keywords:
  - timeout
url: https://status.example.com/incidents/42
start_time: 2021-03-04T17:58:00Z
end_time: 2021-03-04T19:00:00Z
severity: Sev 2
---
# Checkout errors after a client upgrade

## Summary
Checkout failed for an hour.

### Details
The payments client timed out.

## Root Causes
- The client's default timeout changed.
  - Nobody read the release notes.
- Canary traffic had no 3-D Secure payments.

## Action Items
- [x] Set explicit timeouts (owner: ana@example.com, due 2021-04-01)
- [ ] Alert on the timeout ratio @jdoe
- Route 3-D Secure traffic to canaries

## Lessons Learned
Defaults change.

## Our Coffee Machine
It broke too.

## Stats
- Time to detection: 6 minutes
- Time to recovery: 1 hour 2 minutes
- Category: Payments
"""


def test_a_whole_report_is_read_into_its_parts() -> None:
    doc = read_postmortem("checkout.md", FULL)
    assert doc.source_id == "6f1d-report" and doc.title == "Checkout errors after a client upgrade"
    assert doc.company == "Example Corp" and doc.products == ["checkout", "payments"]
    assert doc.tags == ["cloud", "config-change", "timeout", "Payments"]
    assert doc.links == ["https://status.example.com/incidents/42"] and doc.severity == "Sev 2"
    assert doc.started_at == utc(2021, 3, 4, 17, 58) and doc.resolved_at == utc(2021, 3, 4, 19, 0)
    assert doc.factors[0].startswith("The client's default timeout changed.") and len(doc.factors) == 2
    assert "Nobody read the release notes." in doc.factors[0]
    first, second, third = doc.action_items
    assert (first.title, first.owner, first.due_on, first.status) == (
        "Set explicit timeouts",
        "ana@example.com",
        date(2021, 4, 1),
        "done",
    )
    assert (second.owner, second.status) == ("@jdoe", "open") and third.title == "Route 3-D Secure traffic to canaries"
    assert (doc.time_to_detect, doc.time_to_recover) == (360, 3720)
    assert "### Details" in doc.sections["summary"] and "The payments client timed out." in doc.sections["summary"]
    assert doc.sections["lessons"] == "Defaults change."
    assert "### Our Coffee Machine" in doc.sections["notes"] and "It broke too." in doc.sections["notes"]
    assert "### Stats" in doc.sections["notes"]
    assert any(p.where == "heading 'Our Coffee Machine'" for p in doc.problems)


def test_action_items_in_a_table() -> None:
    lines = [
        "| Action | Owner | Due | Status | Ticket |",
        "|---|---|---|---|---|",
        "| Add disk alerts | Platform team | 2022-05-01 | Done | [OPS-1](https://tracker.example.com/OPS-1) |",
        "| Action | Owner | Due | Status | Ticket |",
        "| Write a runbook | @sam | someday | | |",
    ]
    items, problems = read_action_items(lines, years=())
    assert [(i.title, i.owner, i.due_on, i.status, i.ticket_url) for i in items] == [
        ("Add disk alerts", "Platform team", date(2022, 5, 1), "done", "https://tracker.example.com/OPS-1"),
        ("Write a runbook", "@sam", None, "open", None),
    ]
    assert [p.message for p in problems] == ["due date 'someday' could not be read; left undated"]


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("54 hours 10 minutes", 54 * 3600 + 600),
        ("5 minutes", 300),
        ("1h30m", 5400),
        ("~2 days", 172800),
        ("1.5 hours", 5400),
        ("00:45", 2700),
        ("279 minutes [^3]", 279 * 60),
        ("N/A", None),
        ("?", None),
        ("less than 5 minutes", None),
        ("YYY", None),
    ],
)
def test_durations(written: str, seconds: int | None) -> None:
    assert seconds_of(written) == seconds


def test_broken_front_matter_is_reported_and_its_id_still_found() -> None:
    fields, body, problem = split_front_matter("---\nuuid: abc-123\ntitle: [unclosed\n---\n# Body\n")
    assert fields == {"uuid": "abc-123"} and body == "# Body\n" and "not valid YAML" in problem
    doc = read_postmortem("file.md", "---\nuuid: abc-123\ntitle: [unclosed\n---\n# Body title\n\n## Summary\nText.\n")
    assert doc.source_id == "abc-123" and doc.title == "Body title"
    assert any(p.where == "front matter" for p in doc.problems)


def test_the_source_id_is_the_front_matter_id_else_the_file_name_without_extension() -> None:
    assert read_postmortem("a.md", "---\nid: 42\n---\n# T\n").source_id == "42"
    assert read_postmortem("PM2022-009 - Bad AMI", "# T\n").source_id == "PM2022-009 - Bad AMI"
    assert read_postmortem("PM2020-005 - ALB v1.2 fix.markdown", "# T\n").source_id == "PM2020-005 - ALB v1.2 fix"


def test_a_title_from_front_matter_else_heading_else_file_name() -> None:
    assert read_postmortem("a.md", "---\ntitle: From front\n---\n# Heading\n").title == "From front"
    assert read_postmortem("a.md", "Some text.\n\n## Summary\nx\n").title == "a"
    named_by_id = read_postmortem("0b69e012-c539-485c-a2c7-b59c50d0650a.md", "A bad deploy took the API down. More.")
    assert named_by_id.title == "A bad deploy took the API down"


def test_a_blank_template_is_refused() -> None:
    template = "# Incident Title\n\n## Timeline\n\n| Time | Event |\n|---|---|\n| 20xx-MM-DD HH:mm | x |\n"
    doc = read_postmortem("PMyyyy-nnn - Postmortem template.md", template)
    assert any(p.refused for p in doc.problems)


def test_bad_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "empty.md").write_text("  \n")
    (tmp_path / "latin1.md").write_bytes("# Caf\xe9 outage\n".encode("latin-1"))
    (tmp_path / "huge.md").write_bytes(b"# Big\n" + b"x" * (10 * 1024 * 1024))
    (tmp_path / "utf16.md").write_bytes("# Wide outage\n".encode("utf-16"))
    reasons = {name: read_text(tmp_path / name).refused for name in ("binary.md", "empty.md", "latin1.md", "huge.md")}
    assert "binary" in reasons["binary.md"] and "empty" in reasons["empty.md"]
    assert "not UTF-8" in reasons["latin1.md"] and "line 1" in reasons["latin1.md"]
    assert "larger than" in reasons["huge.md"]
    assert read_text(tmp_path / "utf16.md").text == "# Wide outage\n"


def test_folders_give_their_markdown_files(tmp_path: Path) -> None:
    (tmp_path / "team" / ".git").mkdir(parents=True)
    (tmp_path / "team" / "a.md").write_text("# A\n")
    (tmp_path / "team" / "b.markdown").write_text("# B\n")
    (tmp_path / "team" / "PM2022-009 - no extension").write_text("# C\n")
    (tmp_path / "team" / "notes.txt").write_text("# not read\n")
    (tmp_path / "team" / "README.md").write_text("# The folder\n")
    (tmp_path / "team" / ".git" / "x.md").write_text("# hidden\n")
    named = tmp_path / "named.txt"
    named.write_text("# Named\n")
    found = files_to_read([tmp_path / "team", named])
    assert [p.name for p in found] == ["PM2022-009 - no extension", "a.md", "b.markdown", "named.txt"]
