"""The blameless review's pages through the test client: start, write, conflict, factors, action items,
publish (refused, then acknowledged), the document, its Markdown, the history, the action items list, home."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from conftest import csrf_of, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from incidents.database import get_session
from incidents.models import EntryKind, Role, Status, User, Visibility
from incidents.postmortems.models import ActionItem, Postmortem, ReviewStatus
from incidents.postmortems.service import save_section, start_postmortem
from incidents.service import declare_incident, update_incident
from incidents.timeline import record_timeline_entry

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def user(email: str) -> User:
    found = get_session().scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def resolved_incident(app: Flask, email: str = "kim@example.com", **fields: Any) -> int:
    """A resolved SEV2 incident with an alert and a rollback in its timeline."""
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
            **fields,
        )
        record_timeline_entry(
            session,
            actor=actor,
            incident_id=incident.id,
            text="HighErrorRate firing",
            occurred_at=T0 + timedelta(minutes=6),
            kind=EntryKind.ALERT,
        )
        record_timeline_entry(
            session,
            actor=actor,
            incident_id=incident.id,
            text="Rolled back gateway 4.12",
            occurred_at=T0 + timedelta(minutes=40),
        )
        update_incident(
            session,
            actor=actor,
            incident_id=incident.id,
            status=Status.RESOLVED,
            mitigated_at=T0 + timedelta(minutes=45),
            resolved_at=T0 + timedelta(minutes=90),
        )
        return incident.id


def started(app: Flask, incident_id: int, email: str = "kim@example.com") -> int:
    with app.app_context():
        return start_postmortem(get_session(), actor=user(email), incident_id=incident_id).id


@pytest.fixture
def kim(app: Flask, client: FlaskClient) -> FlaskClient:
    make_user(app, "kim@example.com")
    assert sign_in(client, "kim@example.com").status_code == 302
    return client


def signed_in_as(app: Flask, email: str, role: Role = Role.RESPONDER) -> FlaskClient:
    make_user(app, email, role=role)
    other = app.test_client()
    assert sign_in(other, email).status_code == 302
    return other


def post(client: FlaskClient, url: str, data: dict[str, Any], page: str) -> Any:
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def version_of(page: str, key: str) -> str:
    match = re.search(
        rf'action="/postmortems/\d+/sections/{key}"[^>]*>\s*<input[^>]+>\s*'
        r'<input type="hidden" name="version" value="(\d+)"',
        page,
    )
    assert match, f"no version field for {key}"
    return match.group(1)


def test_the_incident_page_starts_the_postmortem_with_the_suggested_template(app: Flask, kim: FlaskClient) -> None:
    incident_id = resolved_incident(app)
    page = kim.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "Start the post-mortem" in page
    assert re.search(r'<option value="handbook" selected>DevOps Handbook agenda \(suggested for SEV2\)', page)
    response = post(kim, f"/incidents/{incident_id}/postmortem", {"template": "near-miss"}, f"/incidents/{incident_id}")
    assert response.status_code == 302
    with app.app_context():
        postmortem = get_session().scalar(select(Postmortem))
        assert postmortem is not None and postmortem.template_key == "near-miss"
    assert response.headers["Location"].endswith(f"/postmortems/{postmortem.id}")
    page = kim.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert f'href="/postmortems/{postmortem.id}"' in page and "Start the post-mortem" not in page
    # Starting again opens the one there is.
    again = post(kim, f"/incidents/{incident_id}/postmortem", {"template": "handbook"}, f"/incidents/{incident_id}")
    assert again.headers["Location"].endswith(f"/postmortems/{postmortem.id}")


def test_the_review_page_walks_the_sections_in_template_order(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    page = kim.get(f"/postmortems/{postmortem_id}").get_data(as_text=True)
    titles = ["Summary", "Ground rules", "Impact", "Stakeholders", "How it was discovered", "Where we got lucky"]
    positions = [page.index(f">{t}") for t in titles]
    assert positions == sorted(positions)
    assert "monitoring, a person, a customer" in page  # the prompt
    assert 'name="version" value="1"' in page
    # The metrics as people read them; the incident's timeline beside the sections, agreed entries ticked.
    assert '<dd data-metric="downtime">45m 00s</dd>' in page
    assert '<dd data-metric="time_to_resolve">1h 23m</dd>' in page
    assert re.search(r'name="entry_ids" value="\d+" checked>\s*<label[^>]*><time[^>]*>Fri 2026-11-20 10:06 UTC', page)


def test_saving_a_section_then_a_stale_save_shows_both_texts(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    version = version_of(kim.get(url).get_data(as_text=True), "summary")
    saved = post(kim, f"{url}/sections/summary", {"body": "Payments failed for 45 minutes.", "version": version}, url)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"{url}#section-summary")
    with app.app_context():
        save_section(
            get_session(),
            actor=user("kim@example.com"),
            postmortem_id=postmortem_id,
            key="summary",
            body="Their words.",
            version=2,
        )
    stale = post(kim, f"{url}/sections/summary", {"body": "My words.", "version": "2"}, url)
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert '<pre class="their-text">Their words.</pre>' in page
    assert '<pre class="your-text">My words.</pre>' in page
    assert ">My words.</textarea>" in page  # yours stays in the box, ready to merge
    assert version_of(page, "summary") == "3"
    merged = post(kim, f"{url}/sections/summary", {"body": "Their words. My words.", "version": "3"}, url)
    assert merged.status_code == 302


def test_metrics_facilitator_and_meeting_are_recorded(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    response = post(
        kim,
        f"{url}/review",
        {
            "facilitator": "kim@example.com",
            "meeting_at": "2026-11-23T15:00",
            "agreed_severity": "SEV1",
            "agreed_downtime": "1h 30m",
            "agreed_time_to_detect": "10m",
            "agreed_time_to_resolve": "2d 3h",
        },
        url,
    )
    assert response.status_code == 302
    page = kim.get(url).get_data(as_text=True)
    assert "<dd data-facilitator>Kim</dd>" in page
    assert "Mon 2026-11-23 15:00 UTC" in page
    assert '<dd data-metric="downtime">1h 30m</dd>' in page
    assert '<dd data-metric="time_to_resolve">2d 3h 00m</dd>' in page
    bad = post(kim, f"{url}/review", {"agreed_downtime": "a while"}, url)
    assert bad.status_code == 400 and "Like 1h 30m" in bad.get_data(as_text=True)


def test_the_agreed_timeline_and_an_entry_found_in_the_meeting(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    rollback = re.search(
        r'name="entry_ids" value="(\d+)"[^>]*>\s*<label[^>]*>(?:(?!</label>).)*Rolled back',
        kim.get(url).get_data(as_text=True),
        re.S,
    )
    assert rollback
    assert post(kim, f"{url}/timeline", {"entry_ids": [rollback.group(1)]}, url).status_code == 302
    found = post(kim, f"{url}/timeline/new", {"text": "Gateway config pushed", "occurred_at": "2026-11-20T09:58"}, url)
    assert found.status_code == 302
    with app.app_context():
        postmortem = get_session().get(Postmortem, postmortem_id)
        assert postmortem is not None
        texts = sorted(a.entry.text for a in postmortem.agreed_timeline)
    assert texts == ["Gateway config pushed", "Rolled back gateway 4.12"]
    assert post(kim, f"{url}/timeline", {"entry_ids": ["999999"]}, url).status_code == 422


def test_factors_with_hows_and_action_items_with_default_due_dates(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    assert (
        post(kim, f"{url}/factors", {"text": "The canary ignored 502s", "category": "detection"}, url).status_code
        == 302
    )
    page = kim.get(url).get_data(as_text=True)
    factor_id = re.search(r'id="factor-(\d+)"', page)
    assert factor_id
    how = {"text": "Its check counted only 500s", "category": "detection", "parent_id": factor_id.group(1)}
    assert post(kim, f"{url}/factors", how, url).status_code == 302
    assert post(kim, f"{url}/factors", {"text": "x", "category": "astrology"}, url).status_code == 400
    # A factor that blames is reworded in place; its finding shows under it until then.
    assert (
        post(
            kim, f"{url}/factors", {"text": "The operator forgot to drain the node", "category": "process"}, url
        ).status_code
        == 302
    )
    page = kim.get(url).get_data(as_text=True)
    blamed = re.search(r'id="factor-(\d+)">\s*<span class="label">process</span>\s*The operator forgot', page)
    assert blamed and "“forgot to”</strong>" in page
    reword = {"text": "Draining the node was a manual step", "category": "process"}
    assert post(kim, f"{url}/factors/{blamed.group(1)}", reword, url).status_code == 302
    page = kim.get(url).get_data(as_text=True)
    assert "Draining the node was a manual step" in page and "“forgot to”" not in page
    item = {
        "title": "Count 502s in the canary",
        "owner": "kim@example.com",
        "priority": "countermeasure",
        "type": "detect",
    }
    assert post(kim, f"{url}/action-items", item, url).status_code == 302
    idea = {"title": "Chaos day for the gateway", "owner_team": "payments", "priority": "idea", "type": "process"}
    assert post(kim, f"{url}/action-items", idea, url).status_code == 302
    page = kim.get(url).get_data(as_text=True)
    assert re.search(r'<span class="how">how:</span>\s*Its check counted only 500s', page)
    assert "payments (team)" in page
    with app.app_context():
        items = {i.title: i for i in get_session().scalars(select(ActionItem))}
        assert items["Count 502s in the canary"].due_on == date.today() + timedelta(days=30)
        assert items["Chaos day for the gateway"].due_on == date.today() + timedelta(days=90)
        item_id = items["Count 502s in the canary"].id
    refused = post(kim, f"{url}/action-items/{item_id}/status", {"status": "wont_do"}, url)
    assert refused.status_code == 422 and "say why this won" in refused.get_data(as_text=True)
    done = post(
        kim,
        f"{url}/action-items/{item_id}/status",
        {"status": "wont_do", "wont_do_reason": "Replaced by the new gateway"},
        url,
    )
    assert done.status_code == 302
    assert "Won't do: Replaced by the new gateway" in kim.get(url).get_data(as_text=True)


def write_required(app: Flask, postmortem_id: int, keys: tuple[str, ...] = ("impact", "detection")) -> None:
    """A person's words added under the pre-fill of each of these required sections."""
    with app.app_context():
        session = get_session()
        postmortem = session.get(Postmortem, postmortem_id)
        assert postmortem is not None
        for key in keys:
            section = postmortem.section(key)
            assert section is not None
            body = section.body + "\n\nWhat the review found about this."
            save_section(
                session,
                actor=user("kim@example.com"),
                postmortem_id=postmortem_id,
                key=key,
                body=body,
                version=section.version,
            )


def fill_for_publishing(app: Flask, kim: FlaskClient, postmortem_id: int) -> str:
    url = f"/postmortems/{postmortem_id}"
    page = kim.get(url).get_data(as_text=True)
    text = "The runbook said to wait. We should have rolled back sooner."
    post(kim, f"{url}/sections/summary", {"body": text, "version": version_of(page, "summary")}, url)
    item = {"title": "Alert on 502 rate", "owner": "kim@example.com", "priority": "countermeasure", "type": "detect"}
    post(kim, f"{url}/action-items", item, url)
    write_required(app, postmortem_id)
    return url


def test_publishing_is_refused_with_the_findings_then_acknowledged(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = fill_for_publishing(app, kim, postmortem_id)
    page = kim.get(url).get_data(as_text=True)
    # The finding shows under its section right after the save.
    assert "“should have”</strong> — Counterfactuals describe a past" in page
    assert post(kim, f"{url}/submit", {}, url).status_code == 302
    refused = post(kim, f"{url}/publish", {}, url)
    assert refused.status_code == 303 and refused.headers["Location"].endswith(f"{url}#workflow")
    page = kim.get(url).get_data(as_text=True)
    assert "Not published yet." in page and "1 blameless finding(s) to reword or acknowledge" in page
    assert 'name="phrase-0" value="should have"' in page and 'name="ack" value="0"' in page
    no_reason = post(
        kim,
        f"{url}/publish",
        {"ack": "0", "where-0": "section:summary", "rule-0": "counterfactual", "phrase-0": "should have"},
        url,
    )
    assert no_reason.status_code == 303
    assert "needs a reason" in kim.get(url).get_data(as_text=True)
    ack = {
        "ack": "0",
        "where-0": "section:summary",
        "rule-0": "counterfactual",
        "phrase-0": "should have",
        "reason-0": "Quoting the runbook review",
    }
    published = post(kim, f"{url}/publish", ack, url)
    assert published.status_code == 303 and published.headers["Location"].endswith(f"{url}/document")
    document = kim.get(f"{url}/document").get_data(as_text=True)
    assert "Quoting the runbook review" in document and "Alert on 502 rate" in document
    assert '<p class="flash flash-status" role="status">Published.</p>' in document
    # Published: read-only, and reopen is offered.
    page = kim.get(url).get_data(as_text=True)
    assert "<textarea" not in page.split('id="timeline"')[0] and ">Reopen</button>" in page
    assert post(kim, f"{url}/reopen", {}, url).status_code == 302
    with app.app_context():
        postmortem = get_session().get(Postmortem, postmortem_id)
        assert postmortem is not None and postmortem.status is ReviewStatus.DRAFT


def test_hostile_markdown_renders_inert_in_the_document(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    hostile = (
        "<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n"
        '<img src="x" onerror="alert(3)">\n\n<iframe src="https://evil.example"></iframe>\n\n**bold**'
    )
    page = kim.get(url).get_data(as_text=True)
    post(kim, f"{url}/sections/summary", {"body": hostile, "version": version_of(page, "summary")}, url)
    document = kim.get(f"{url}/document").get_data(as_text=True)
    body = document.split("<main", 1)[1]
    assert "<strong>bold</strong>" in body
    assert "<script>alert" not in body and "javascript:" not in body and "onerror" not in body
    assert "<iframe" not in body
    # The review page shows the raw text only inside the textarea, escaped.
    page = kim.get(url).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_markdown_export_and_history(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    page = kim.get(url).get_data(as_text=True)
    post(kim, f"{url}/sections/summary", {"body": "New summary line.", "version": version_of(page, "summary")}, url)
    export = kim.get(f"{url}/export.md")
    assert export.status_code == 200 and export.mimetype == "text/markdown"
    assert export.get_data(as_text=True).startswith('---\ntitle: "Checkout 502s"')
    assert "attachment" in export.headers["Content-Disposition"]
    assert f'href="{url}/export.md"' in kim.get(f"{url}/document").get_data(as_text=True)
    history = kim.get(f"{url}/history").get_data(as_text=True)
    assert "Edited “Summary”." in history and "<strong>Kim</strong>" in history
    assert (
        '<span class="diff-remove">-Card payments failed with 502.</span>'
        '<span class="diff-add">+New summary line.</span>' in history
    )
    assert "Started from the template" in history


def test_a_restricted_incidents_review_is_hidden_from_outsiders(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app, visibility=Visibility.RESTRICTED))
    outsider = signed_in_as(app, "out@example.com")
    for path in ("", "/document", "/history", "/export.md"):
        assert outsider.get(f"/postmortems/{postmortem_id}{path}").status_code == 404
    token = csrf_of(outsider.get("/").get_data(as_text=True))
    response = outsider.post(
        f"/postmortems/{postmortem_id}/sections/summary", data={"csrf_token": token, "body": "x", "version": "1"}
    )
    assert response.status_code == 404
    assert "Checkout 502s" not in outsider.get("/action-items").get_data(as_text=True)


def test_viewers_read_the_review_but_cannot_change_it(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    viewer = signed_in_as(app, "vic@example.com", role=Role.VIEWER)
    url = f"/postmortems/{postmortem_id}"
    page = viewer.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Card payments failed with 502." in text and "<textarea" not in text
    assert viewer.get(f"{url}/document").status_code == 200
    token = csrf_of(text)
    saved = viewer.post(f"{url}/sections/summary", data={"csrf_token": token, "body": "x", "version": "1"})
    assert saved.status_code == 403
    factor = viewer.post(f"{url}/factors", data={"csrf_token": token, "text": "x", "category": "process"})
    assert factor.status_code == 403
    other = resolved_incident(app)
    assert "Start the post-mortem" not in viewer.get(f"/incidents/{other}").get_data(as_text=True)
    assert (
        viewer.post(f"/incidents/{other}/postmortem", data={"csrf_token": token, "template": "handbook"}).status_code
        == 403
    )


def test_forms_need_their_csrf_token(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    response = kim.post(f"/postmortems/{postmortem_id}/sections/summary", data={"body": "x", "version": "1"})
    assert response.status_code == 400


def test_action_items_page_and_home(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    overdue = {
        "title": "Overdue one",
        "owner": "kim@example.com",
        "due_on": "2020-01-01",
        "priority": "countermeasure",
        "type": "prevent",
    }
    post(kim, f"{url}/action-items", overdue, url)
    team = {"title": "Team one", "owner_team": "payments", "priority": "idea", "type": "process"}
    post(kim, f"{url}/action-items", team, url)
    page = kim.get("/action-items").get_data(as_text=True)
    assert "Overdue one" in page and "Team one" in page and '<span class="badge overdue">overdue</span>' in page
    mine = kim.get("/action-items?mine=1").get_data(as_text=True)
    assert "Overdue one" in mine and "Team one" not in mine
    assert "Overdue one" not in kim.get("/action-items?team=payments").get_data(as_text=True)
    assert "Team one" not in kim.get("/action-items?overdue=1").get_data(as_text=True)
    assert "Overdue one" in kim.get("/action-items?service=checkout").get_data(as_text=True)
    assert "Overdue one" not in kim.get("/action-items?service=search").get_data(as_text=True)
    assert "Overdue one" not in kim.get("/action-items?status=done").get_data(as_text=True)
    # A status change from the list goes back to the list.
    with app.app_context():
        item_id = get_session().scalar(select(ActionItem.id).where(ActionItem.title == "Team one"))
    moved = post(
        kim,
        f"{url}/action-items/{item_id}/status",
        {"status": "in_progress", "back": "/action-items?team=payments"},
        "/action-items",
    )
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/action-items?team=payments")
    listed = kim.get("/action-items?team=payments").get_data(as_text=True)
    assert '<p class="flash flash-status" role="status">“Team one” is now in progress.</p>' in listed
    home = kim.get("/").get_data(as_text=True)
    assert "Your open action items" in home and "Overdue one" in home and "Team one" not in home
    assert "No post-mortems published yet." in home
    assert '<a href="/action-items">Action items</a>' in home


def test_an_unowned_countermeasure_blocks_publishing_until_it_is_given_an_owner(app: Flask, kim: FlaskClient) -> None:
    postmortem_id = started(app, resolved_incident(app))
    url = f"/postmortems/{postmortem_id}"
    item = {"title": "Shard the session store", "priority": "countermeasure", "type": "prevent"}
    assert post(kim, f"{url}/action-items", item, url).status_code == 302
    page = kim.get(url).get_data(as_text=True)
    assert "countermeasure “Shard the session store” has no owner" in page
    with app.app_context():
        item_id = get_session().scalar(select(ActionItem.id))
    change = {
        **item,
        "owner_team": "sessions",
        "due_on": "2027-01-15",
        "type": "mitigate",
        "ticket_url": "https://tickets.example/S-1",
    }
    assert post(kim, f"{url}/action-items/{item_id}", change, url).status_code == 302
    page = kim.get(url).get_data(as_text=True)
    assert "has no owner" not in page and "sessions (team)" in page and "Fri 2027-01-15" in page
    assert 'href="https://tickets.example/S-1"' in page
    assert (
        post(kim, f"{url}/action-items/{item_id}", {**change, "ticket_url": "javascript:alert(1)"}, url).status_code
        == 422
    )
    write_required(app, postmortem_id, ("summary", "impact", "detection"))
    assert post(kim, f"{url}/publish", {}, url).headers["Location"].endswith(f"{url}/document")
    # Published: what was decided stands; the status still moves.
    assert post(kim, f"{url}/action-items/{item_id}", {**change, "title": "Other"}, url).status_code == 422
    assert post(kim, f"{url}/action-items/{item_id}/status", {"status": "done"}, url).status_code == 302


def test_the_blameless_check_answers_the_page_as_the_writer_types(app: Flask, client: Any) -> None:
    make_user(app, "wen@example.com")
    anonymous = csrf_of(client.get("/login").get_data(as_text=True))
    refused = client.post(
        "/postmortems/lint", json={"text": "We should have paged."}, headers={"X-CSRFToken": anonymous}
    )
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    sign_in(client, "wen@example.com")
    token = csrf_of(client.get("/account").get_data(as_text=True))
    response = client.post("/postmortems/lint", json={"text": "We should have paged."}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    [finding] = response.get_json()["findings"]
    assert (finding["phrase"], finding["rule"], finding["start"]) == ("should have", "counterfactual", 3)
    assert client.post("/postmortems/lint", json={"text": "x"}).status_code == 400  # no CSRF token, no answer
    assert client.post("/postmortems/lint", json={"text": 5}, headers={"X-CSRFToken": token}).status_code == 400
