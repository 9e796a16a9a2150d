"""What the pre-fill writes and what publishing asks of it: times kept as times and read in each
reader's zone, only people named as people, and no post-mortem that publishes its own prompts.
Through the pages: the refusal stays on the review page (post/redirect/get), every change says so."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from conftest import csrf_of, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from incidents.database import get_session
from incidents.models import EntryKind, Role, Source, Status, TimelineEntry, User
from incidents.postmortems import times
from incidents.postmortems.models import Postmortem, PostmortemChange, PostmortemSection, ReviewStatus
from incidents.postmortems.readiness import person_wrote
from incidents.postmortems.service import save_section, start_postmortem
from incidents.rendering import render_markdown
from incidents.service import declare_incident, update_incident
from incidents.timeline import record_timeline_entry

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"


def user(email: str) -> User:
    found = get_session().scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def reviewed_incident(app: Flask, email: str = "kim@example.com") -> int:
    """A resolved SEV2 incident paged through PagerDuty, with a person's rollback; its post-mortem started."""
    with app.app_context():
        session = get_session()
        actor = user(email)
        incident = declare_incident(
            session,
            actor=actor,
            title="Checkout 502s",
            severity="SEV2",
            summary="Card payments failed with 502.",
            services=["checkout"],
            started_at=T0,
            detected_at=T0 + timedelta(minutes=7),
        )
        # What a pager writes: no account, the tool's name (as the PagerDuty path records it).
        for minutes, kind, text in ((6, EntryKind.ALERT, "Checkout 5xx high"), (8, EntryKind.ACTION, "Acknowledged")):
            session.add(
                TimelineEntry(
                    incident_id=incident.id,
                    occurred_at=T0 + timedelta(minutes=minutes),
                    source=Source.PAGERDUTY,
                    kind=kind,
                    actor_id=None,
                    actor_name="PagerDuty",
                    text=text,
                )
            )
        session.commit()
        record_timeline_entry(
            session,
            actor=actor,
            incident_id=incident.id,
            text="Rolled back gateway 4.12",
            occurred_at=T0 + timedelta(minutes=40),
            kind=EntryKind.ACTION,
            is_key_moment=True,
        )
        update_incident(
            session,
            actor=actor,
            incident_id=incident.id,
            status=Status.RESOLVED,
            mitigated_at=T0 + timedelta(minutes=45),
            resolved_at=T0 + timedelta(minutes=90),
        )
        return start_postmortem(session, actor=actor, incident_id=incident.id).id


def sections_of(app: Flask, postmortem_id: int) -> dict[str, PostmortemSection]:
    with app.app_context():
        postmortem = get_session().get(Postmortem, postmortem_id)
        assert postmortem is not None
        return {s.key: s for s in postmortem.sections}


def signed_in(app: Flask, email: str, *, zone: str | None = NEW_YORK, role: Role = Role.RESPONDER) -> FlaskClient:
    make_user(app, email, role=role, zone=zone)
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def post(client: FlaskClient, url: str, data: dict[str, str], page: str) -> object:
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def changes(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(PostmortemChange)) or 0


def test_the_prefill_keeps_times_as_times_and_names_only_people(app: Flask) -> None:
    make_user(app, "kim@example.com")
    body = sections_of(app, reviewed_incident(app))
    impact = body["impact"].body
    assert '- Impact began: <time datetime="2026-11-20T10:00:00Z">Fri 2026-11-20 10:00 UTC</time>' in impact
    assert '- Impact ended (mitigated): <time datetime="2026-11-20T10:45:00Z">' in impact
    moments = body["narrative"].body
    assert (
        moments == '- <time datetime="2026-11-20T10:40:00Z">Fri 2026-11-20 10:40 UTC</time>: Rolled back gateway 4.12'
    )
    stakeholders = body["stakeholders"].body.splitlines()
    # PagerDuty paged people; it neither detected nor responded. Kim's rollback makes Kim a responder.
    assert "- Detected: not known yet" in stakeholders
    assert "- Responded: Kim" in stakeholders
    assert "- Paged through: PagerDuty" in stakeholders
    assert "- Diagnosed: not known yet" in stakeholders
    assert not [line for line in stakeholders if re.search(r":\s*(—)?\s*$", line)]  # no empty pre-filled line
    assert all("PagerDuty" not in line for line in stakeholders if not line.startswith("- Paged through"))
    # What the pre-fill wrote is kept beside the body.
    assert body["impact"].prefill == impact and body["lucky"].prefill == ""


def test_a_required_section_counts_only_with_a_persons_words(app: Flask) -> None:
    make_user(app, "kim@example.com")
    postmortem_id = reviewed_incident(app)
    with app.app_context():
        session = get_session()
        postmortem = session.get(Postmortem, postmortem_id)
        assert postmortem is not None
        impact = postmortem.section("impact")
        assert impact is not None and not person_wrote(impact)
        prefilled = impact.prefill or ""
        not_words = (
            prefilled.replace("- Severity: SEV2\n", ""),  # a pre-filled line deleted
            prefilled + "\n\n" + impact.prompt,  # the prompt pasted in
            prefilled + "\n\n* " + impact.prompt.split("? ")[0].upper() + "?",  # one of its questions, shouted
            re.sub(r">[^<]*</time>", ">Thu 2026-11-19 23:00 PST</time>", prefilled),  # the times' words, not times
        )
        for text in not_words:
            impact.body = text
            assert not person_wrote(impact), text
        for text in (
            prefilled + "\n\nCard payments in the EU failed for everyone.",
            prefilled.replace("Who was affected, and how?", "Who was affected, and how? Every EU card payment."),
            prefilled.replace('datetime="2026-11-20T10:45:00Z"', 'datetime="2026-11-20T10:50:00Z"'),  # a time changed
        ):
            impact.body = text
            assert person_wrote(impact), text
        session.rollback()


def test_the_review_page_and_document_show_prefilled_times_in_the_readers_zone(app: Flask) -> None:
    kim = signed_in(app, "kim@example.com")
    postmortem_id = reviewed_incident(app)
    url = f"/postmortems/{postmortem_id}"
    page = kim.get(url).get_data(as_text=True)
    # The editor shows each time as plain words in New York's time.
    box = re.search(r'<textarea id="body-impact"[^>]*>(.*?)</textarea>', page, re.S)
    assert box and "- Impact began: Fri 2026-11-20 05:00 EST\n" in box.group(1)
    assert "- Impact ended (mitigated): Fri 2026-11-20 05:45 EST\n" in box.group(1) and "time" not in box.group(1)
    assert "10:00 UTC" not in page
    # Saving what the editor showed keeps the times as times: nothing changed, nothing recorded.
    before = changes(app)
    text = sections_of(app, postmortem_id)["impact"].body
    saved = post(kim, f"{url}/sections/impact", {"body": html.unescape(box.group(1)), "version": "1"}, url)
    assert saved.status_code == 302  # type: ignore[attr-defined]
    assert sections_of(app, postmortem_id)["impact"].body == text and changes(app) == before
    assert "nothing to save" in kim.get(url).get_data(as_text=True)
    # A time a person types in that form, in their zone, becomes a time; one that fits no zone stays words.
    typed = html.unescape(box.group(1)) + "\n\nPaged again Mon 2026-11-23 09:00 EST, not Tue 2026-11-23 09:00 EST."
    post(kim, f"{url}/sections/impact", {"body": typed, "version": "1"}, url)
    stored = sections_of(app, postmortem_id)["impact"].body
    assert stored.startswith(text)
    assert stored.endswith(
        'Paged again <time datetime="2026-11-23T14:00:00Z">Mon 2026-11-23 14:00 UTC</time>, '
        "not Tue 2026-11-23 09:00 EST."
    )

    # A viewer in Berlin reads the sections, the timeline and the document in Berlin's time.
    viewer = signed_in(app, "vic@example.com", zone="Europe/Berlin", role=Role.VIEWER)
    page = viewer.get(url).get_data(as_text=True)
    assert "<textarea" not in page.split('id="timeline"')[0]
    assert '<time datetime="2026-11-20T10:00:00Z">Fri 2026-11-20 11:00 CET</time>' in page
    assert '<time datetime="2026-11-20T10:40:00Z">Fri 2026-11-20 11:40 CET</time>: Rolled back' in page
    document = viewer.get(f"{url}/document").get_data(as_text=True)
    assert "Times are in <strong data-zone>Europe/Berlin</strong>." in document
    body = document.split('<article class="document">', 1)[1]
    assert "Fri 2026-11-20 11:00 CET" in body and "Mon 2026-11-23 15:00 CET" in body
    assert "UTC" not in body and "EST" not in body.replace("not Tue 2026-11-23 09:00 EST", "")
    # The export states its zone once at the top and writes each time as plain words in it.
    export = viewer.get(f"{url}/export.md").get_data(as_text=True)
    assert 'timezone: "Europe/Berlin"' in export and "_Times are in Europe/Berlin._" in export
    assert "- Impact began: Fri 2026-11-20 11:00 CET" in export and "<time" not in export


def test_a_prefill_only_postmortem_is_refused_and_the_refusal_survives_a_reload(app: Flask) -> None:
    kim = signed_in(app, "kim@example.com")
    postmortem_id = reviewed_incident(app)
    url = f"/postmortems/{postmortem_id}"
    item = {"title": "Alert on 502 rate", "owner": "kim@example.com", "priority": "countermeasure", "type": "detect"}
    post(kim, f"{url}/action-items", item, url)
    before = changes(app)
    refused = post(kim, f"{url}/publish", {}, url)
    assert refused.status_code == 303  # type: ignore[attr-defined]
    assert refused.headers["Location"].endswith(f"{url}#workflow")  # type: ignore[attr-defined]
    for _reload in range(2):
        page = kim.get(url).get_data(as_text=True)
        assert "Not published yet." in page
        for key, title in (("summary", "Summary"), ("impact", "Impact"), ("detection", "How it was discovered")):
            here = re.search(rf'<ul class="problems-here refused" id="problem-{key}"[^>]*>(.*?)</ul>', page, re.S)
            assert here and f"“{title}” is required and holds only the pre-filled text and its prompt" in here.group(1)
        assert 'href="#problem-impact"' in page
        assert 'id="problem-lucky"' not in page  # not required
    # Reloading read the page; it published nothing and recorded nothing.
    assert changes(app) == before
    with app.app_context():
        postmortem = get_session().get(Postmortem, postmortem_id)
        assert postmortem is not None and postmortem.status is ReviewStatus.DRAFT

    # A person's words in each: published.
    with app.app_context():
        session = get_session()
        for key, words in (("summary", "Payments failed."), ("impact", "EU cards."), ("detection", "An alert.")):
            section = session.scalars(
                select(PostmortemSection).where(
                    PostmortemSection.postmortem_id == postmortem_id, PostmortemSection.key == key
                )
            ).one()
            save_section(
                session,
                actor=user("kim@example.com"),
                postmortem_id=postmortem_id,
                key=key,
                body=section.body + "\n\n" + words,
                version=section.version,
            )
    published = post(kim, f"{url}/publish", {}, url)
    assert published.headers["Location"].endswith(f"{url}/document")  # type: ignore[attr-defined]
    assert "Not published yet." not in kim.get(url).get_data(as_text=True)


def test_every_change_confirms_itself_in_one_line(app: Flask) -> None:
    kim = signed_in(app, "kim@example.com")
    postmortem_id = reviewed_incident(app)
    url = f"/postmortems/{postmortem_id}"
    lucky = sections_of(app, postmortem_id)["lucky"]

    def said(path: str, data: dict[str, str]) -> str:
        response = post(kim, f"{url}{path}", data, url)
        assert response.status_code in (302, 303), response.get_data(as_text=True)  # type: ignore[attr-defined]
        lines = re.findall(
            r'<p class="flash flash-(\w+)" role="(\w+)">([^<]*)</p>', kim.get(url).get_data(as_text=True)
        )
        assert len(lines) == 1 and lines[0][:2] == ("status", "status"), lines
        return str(lines[0][2])

    assert said("/sections/lucky", {"body": "The sale had not begun.", "version": str(lucky.version)}) == (
        "Saved “Where we got lucky”."
    )
    assert said("/review", {"facilitator": "kim@example.com", "meeting_at": "2026-11-23 10:00"}) == (
        "Saved the review details."
    )
    assert said("/submit", {}) == "Submitted for review."
    assert said("/factors", {"text": "The canary ignored 502s", "category": "detection"}) == (
        "Added the contributing factor."
    )
    item = {"title": "Count 502s", "owner": "kim@example.com", "priority": "countermeasure", "type": "detect"}
    assert said("/action-items", item) == "Added “Count 502s”."
    page = kim.get(url).get_data(as_text=True)
    item_id = re.search(r'id="item-(\d+)"', page)
    assert item_id
    assert said(f"/action-items/{item_id.group(1)}/status", {"status": "in_progress"}) == (
        "“Count 502s” is now in progress."
    )
    # A refusal is an error, not a confirmation.
    bad = post(kim, f"{url}/factors", {"text": "x", "category": "astrology"}, url)
    assert bad.status_code == 400 and "flash-status" not in bad.get_data(as_text=True)  # type: ignore[attr-defined]


def test_date_time_inputs_read_year_first_in_24_hours_in_the_named_zone(app: Flask) -> None:
    kim = signed_in(app, "kim@example.com")
    postmortem_id = reviewed_incident(app)
    url = f"/postmortems/{postmortem_id}"
    assert post(kim, f"{url}/review", {"meeting_at": "2026-11-23 15:30"}, url).status_code == 302  # type: ignore[attr-defined]
    with app.app_context():
        postmortem = get_session().get(Postmortem, postmortem_id)
        assert postmortem is not None and postmortem.meeting_at == datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    page = kim.get(url).get_data(as_text=True)
    field = re.search(r'<input[^>]*id="meeting_at"[^>]*>', page)
    assert field and 'type="text"' in field.group(0) and 'value="2026-11-23 15:30"' in field.group(0)
    assert '<span class="zone-name" id="meeting_at-zone" data-zone>America/New_York</span>' in page
    assert "Mon 2026-11-23 15:30 EST" in page
    # The ISO "T" and seconds are read too; a 12-hour time is not.
    assert post(kim, f"{url}/review", {"meeting_at": "2026-11-23T16:00:30"}, url).status_code == 302  # type: ignore[attr-defined]
    assert 'value="2026-11-23 16:00:30"' in kim.get(url).get_data(as_text=True)
    refused = post(kim, f"{url}/review", {"meeting_at": "11/23/2026 04:00 PM"}, url)
    assert refused.status_code == 400  # type: ignore[attr-defined]


def test_a_refused_publish_keeps_the_acknowledgements_typed(app: Flask) -> None:
    kim = signed_in(app, "kim@example.com")
    postmortem_id = reviewed_incident(app)
    url = f"/postmortems/{postmortem_id}"
    summary = sections_of(app, postmortem_id)["summary"]
    text = "We should have rolled back sooner."
    post(kim, f"{url}/sections/summary", {"body": text, "version": str(summary.version)}, url)
    ack = {
        "ack": "0",
        "where-0": "section:summary",
        "rule-0": "counterfactual",
        "phrase-0": "should have",
        "reason-0": "Quoting the runbook",
    }
    refused = post(kim, f"{url}/publish", ack, url)
    assert refused.status_code == 303  # type: ignore[attr-defined]
    page = kim.get(url).get_data(as_text=True)
    assert "Not published yet." in page and "“Impact” is required and holds only" in page
    assert re.search(r'<input type="checkbox" id="ack-0" name="ack" value="0" checked>', page)
    assert 'name="reason-0" maxlength="2000" value="Quoting the runbook"' in page


def test_times_in_html_change_only_in_text_never_inside_a_tag(app: Flask) -> None:
    with app.app_context():
        html = render_markdown(
            '<span title="2026-11-20 10:00 UTC">seen</span> at 2026-11-20 10:00:30 UTC and '
            '<time datetime="2026-11-20T10:00:00Z">Fri 2026-11-20 10:00 UTC</time>'
        )
    shown = str(times.in_zone(html, "Asia/Tokyo"))
    assert '<span title="2026-11-20 10:00 UTC">seen</span>' in shown
    assert shown.count('<time datetime="2026-11-20T10:00:00Z">Fri 2026-11-20 19:00 JST</time>') == 1
    assert '<time datetime="2026-11-20T10:00:30Z">Fri 2026-11-20 19:00 JST</time>' in shown
