"""The responder's pages through the test client: home, list and export, the incident page's actions, accounts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import csrf_of, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from incidents.accounts.models import ApiToken
from incidents.database import get_session
from incidents.models import Incident, IncidentRole, Role, Status, TimelineEntry, User, Visibility
from incidents.service import declare_incident, update_incident
from incidents.timeline import record_timeline_entry


def user(app: Flask, email: str) -> User:
    with app.app_context():
        found = get_session().scalar(select(User).where(User.email == email))
        assert found is not None
        return found


def declare(app: Flask, email: str, **fields: Any) -> int:
    with app.app_context():
        session = get_session()
        actor = session.scalar(select(User).where(User.email == email))
        assert actor is not None
        return declare_incident(session, actor=actor, **{"title": "t", "severity": "SEV3", **fields}).id


@pytest.fixture
def kim(app: Flask, client: FlaskClient) -> FlaskClient:
    make_user(app, "kim@example.com", zone="Europe/Berlin")
    assert sign_in(client, "kim@example.com").status_code == 302
    return client


def post(client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = csrf_of(client.get(page or url.rsplit("/", 1)[0]).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_home_shows_open_incidents_most_severe_first(app: Flask, kim: FlaskClient) -> None:
    low = declare(app, "kim@example.com", title="Low one", severity="SEV4")
    high = declare(app, "kim@example.com", title="High one", severity="SEV1")
    done = declare(app, "kim@example.com", title="Done one", severity="SEV2")
    with app.app_context():
        update_incident(get_session(), actor=user(app, "kim@example.com"), incident_id=done, status=Status.RESOLVED)
    page = kim.get("/").get_data(as_text=True)
    open_part, recent_part = page.split("<h2>Recently resolved</h2>")
    assert open_part.index("High one") < open_part.index("Low one")
    assert "Done one" not in open_part and "Done one" in recent_part
    assert "<title>Home · Kintsugi</title>" in page
    assert low != high


def test_list_filters_by_team_tag_and_dates_in_the_readers_zone(app: Flask, kim: FlaskClient) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 23:30 in Berlin on the 1st is 22:30 UTC; 00:30 on the 2nd is 23:30 UTC on the 1st.
    first = datetime(2026, 3, 1, 23, 30, tzinfo=berlin)
    second = datetime(2026, 3, 2, 0, 30, tzinfo=berlin)
    declare(app, "kim@example.com", title="On the first", started_at=first, teams=["payments"], tags=["db"])
    declare(app, "kim@example.com", title="On the second", started_at=second, teams=["search"])
    page = kim.get("/incidents?from=2026-03-01&to=2026-03-01").get_data(as_text=True)
    assert "On the first" in page and "On the second" not in page
    page = kim.get("/incidents?from=2026-03-02").get_data(as_text=True)
    assert "On the second" in page and "On the first" not in page
    assert "On the second" not in kim.get("/incidents?team=payments").get_data(as_text=True)
    assert "On the first" in kim.get("/incidents?tag=db").get_data(as_text=True)
    page = kim.get("/incidents?sort=oldest").get_data(as_text=True)
    assert page.index("On the first") < page.index("On the second")
    assert kim.get("/incidents?from=yesterday").status_code == 400
    assert kim.get("/incidents?sort=random").status_code == 400


def test_csv_export_has_what_the_list_shows_and_nothing_hidden(app: Flask, kim: FlaskClient) -> None:
    make_user(app, "lee@example.com")
    declare(app, "kim@example.com", title='=HYPERLINK("evil")', services=["checkout"])
    declare(app, "kim@example.com", title="Search slow", services=["search"])
    declare(app, "lee@example.com", title="Secret", services=["checkout"], visibility=Visibility.RESTRICTED)
    with kim.get("/incidents.csv?service=checkout") as response:  # a streamed answer is closed after reading
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["title"] for r in rows] == ['\'=HYPERLINK("evil")']
    assert rows[0]["services"] == "checkout"
    assert rows[0]["commander"] == "Kim"
    assert datetime.fromisoformat(rows[0]["started_at"]).tzinfo is not None


def test_list_pages_with_next_links(app: Flask, kim: FlaskClient) -> None:
    now = datetime.now(UTC)
    for n in range(55):
        declare(app, "kim@example.com", title=f"Incident number {n:02d}", started_at=now - timedelta(minutes=n + 1))
    first = kim.get("/incidents").get_data(as_text=True)
    assert "Incident number 00" in first and "Incident number 49" in first and "Incident number 50" not in first
    next_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = kim.get(next_url).get_data(as_text=True)
    assert "Incident number 50" in second and "Incident number 54" in second and "Incident number 49" not in second
    assert 'rel="next"' not in second


def test_incident_page_actions(app: Flask, kim: FlaskClient) -> None:
    make_user(app, "sam@example.com")
    started = datetime.now(UTC) - timedelta(hours=3)
    incident_id = declare(app, "kim@example.com", started_at=started)
    url = f"/incidents/{incident_id}"
    assert post(kim, url + "/severity", {"severity": "SEV1"}, url).status_code == 302
    assert (
        post(
            kim,
            url + "/roles",
            {
                "commander": "kim@example.com",
                "scribe": "sam@example.com",
                "communications_lead": "",
                "participants": ["sam@example.com"],
            },
            url,
        ).status_code
        == 302
    )
    with app.app_context():
        entry, _ = record_timeline_entry(
            get_session(),
            actor=user(app, "kim@example.com"),
            incident_id=incident_id,
            text="alert fired",
            occurred_at=started + timedelta(minutes=4),
        )
    assert post(kim, f"{url}/timeline/{entry.id}/mark", {"key_time": "detected_at"}, url).status_code == 302
    with app.app_context():
        incident = get_session().get(Incident, incident_id)
        assert incident is not None
        assert incident.severity == "SEV1"
        assert incident.detected_at == started + timedelta(minutes=4)
        assert [u.email for u in incident.holders(IncidentRole.SCRIBE)] == ["sam@example.com"]
        assert get_session().get(TimelineEntry, entry.id).is_key_moment is True  # type: ignore[union-attr]
    page = kim.get(url).get_data(as_text=True)
    assert "Severity changed from SEV3 to SEV1." in page
    assert "Scribe: nobody → Sam." in page


def test_key_times_are_read_in_the_zone_the_page_shows(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com", started_at=datetime(2026, 1, 10, 8, 0, tzinfo=UTC))
    url = f"/incidents/{incident_id}"
    response = post(
        kim,
        url + "/key-times",
        {
            "started_at": "2026-01-10T09:00",
            "mitigated_at": "2026-01-10T10:15",
            "reference_timezone": "America/New_York",
        },
        url,
    )
    assert response.status_code == 302
    with app.app_context():
        incident = get_session().get(Incident, incident_id)
        assert incident is not None
        assert incident.started_at == datetime(2026, 1, 10, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, unchanged
        assert incident.mitigated_at == datetime(2026, 1, 10, 9, 15, tzinfo=UTC)
        assert incident.reference_timezone == "America/New_York"
    # The same form read in UTC when the page is switched to UTC.
    response = post(
        kim,
        url + "/key-times?zone=utc",
        {
            "started_at": "2026-01-10T07:00",
            "mitigated_at": "2026-01-10T09:15",
            "reference_timezone": "America/New_York",
        },
        url,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}?zone=utc#key-times")
    with app.app_context():
        incident = get_session().get(Incident, incident_id)
        assert incident is not None and incident.started_at == datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
    assert "Thu 2026-01-10" not in kim.get(url).get_data(as_text=True)  # it is a Saturday
    assert "Sat 2026-01-10 08:00 CET" in kim.get(url).get_data(as_text=True)
    assert "Sat 2026-01-10 07:00 UTC" in kim.get(url + "?zone=utc").get_data(as_text=True)
    assert "Sat 2026-01-10 02:00 EST" in kim.get(url + "?zone=reference").get_data(as_text=True)
    bad = post(kim, url + "/key-times", {"started_at": "2026-01-10T09:00", "mitigated_at": "2026-01-10T08:00"}, url)
    assert bad.status_code == 422
    assert "must not be before" in bad.get_data(as_text=True)


def test_a_refused_change_shows_nothing_of_itself_on_the_page_drawn_next(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com", started_at=datetime(2026, 1, 10, 8, 0, tzinfo=UTC))
    url = f"/incidents/{incident_id}"
    refused = post(
        kim,
        url + "/key-times",
        {"started_at": "2026-01-10T09:00", "mitigated_at": "2026-01-10T08:00", "reference_timezone": "Asia/Tokyo"},
        url,
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "must not be before" in page
    # The zone was typed in the refused form: the form may show it again, the incident must not.
    assert "Show in the reference zone (Asia/Tokyo)" not in page
    with app.app_context():
        incident = get_session().get(Incident, incident_id)
        assert incident is not None and incident.reference_timezone is None and incident.mitigated_at is None


def test_correct_delete_and_filter_entries_from_the_page(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com")
    url = f"/incidents/{incident_id}"
    assert (
        post(kim, url + "/timeline", {"text": "rolled back", "kind": "action", "occurred_at": ""}, url).status_code
        == 302
    )
    with app.app_context():
        entry = get_session().scalar(select(TimelineEntry).where(TimelineEntry.text == "rolled back"))
        assert entry is not None
    response = post(
        kim,
        f"{url}/timeline/{entry.id}/correct",
        {"text": "rolled back checkout to v41", "kind": "action", "is_key_moment": "y"},
        url,
    )
    assert response.status_code == 302
    page = kim.get(url).get_data(as_text=True)
    assert "rolled back checkout to v41" in page
    assert "history" in page and "Before: “rolled back”" in page
    only_key = kim.get(url + "?key=1").get_data(as_text=True)
    assert "rolled back checkout to v41" in only_key and "Declared SEV3" not in only_key
    only_status = kim.get(url + "?kind=status_change").get_data(as_text=True)
    assert "Declared SEV3" in only_status and "checkout to v41" not in only_status
    assert post(kim, f"{url}/timeline/{entry.id}/delete", {}, url).status_code == 302
    assert "checkout to v41" not in kim.get(url).get_data(as_text=True)


def test_a_failed_entry_keeps_what_was_typed(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com")
    url = f"/incidents/{incident_id}"
    future = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = post(kim, url + "/timeline", {"text": "typed at 3 a.m.", "kind": "note", "occurred_at": future}, url)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "occurred_at is in the future" in body
    assert "typed at 3 a.m.</textarea>" in body


def test_profile_zone_and_the_utc_switch(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com", started_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    url = f"/incidents/{incident_id}"
    assert "Wed 2026-07-01 14:00 CEST" in kim.get(url).get_data(as_text=True)
    assert post(kim, "/account", {"name": "Kim K", "timezone": "Asia/Kolkata"}, "/account").status_code == 302
    assert "Wed 2026-07-01 17:30 IST" in kim.get(url).get_data(as_text=True)
    assert post(kim, "/account", {"name": "Kim K", "timezone": "Mars/Base"}, "/account").status_code == 400
    assert post(kim, "/account/zone-view", {"back": url}, "/account").headers["Location"] == url
    assert "Wed 2026-07-01 12:00 UTC" in kim.get(url).get_data(as_text=True)
    post(kim, "/account/zone-view", {"back": "https://evil.example.com/"}, "/account")
    assert "Wed 2026-07-01 17:30 IST" in kim.get(url).get_data(as_text=True)


def test_following_the_browsers_zone(app: Flask, client: FlaskClient) -> None:
    make_user(app, "bo@example.com", zone=None)
    sign_in(client, "bo@example.com")
    incident_id = declare(app, "bo@example.com", started_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'data-zone-source="browser-unknown"' in page and "12:00 UTC" in page
    client.set_cookie("kintsugi_tz", "America%2FChicago")  # as kintsugi.js writes it
    assert "Wed 2026-07-01 07:00 CDT" in client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    client.set_cookie("kintsugi_tz", "Not/AZone")
    assert "12:00 UTC" in client.get(f"/incidents/{incident_id}").get_data(as_text=True)


def test_tokens_from_the_web(app: Flask, kim: FlaskClient) -> None:
    page = post(kim, "/account/tokens", {"name": "deploy bot"}, "/account/tokens").get_data(as_text=True)
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert kim.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert secret not in kim.get("/account/tokens").get_data(as_text=True)
    with app.app_context():
        token = get_session().scalar(select(ApiToken))
        assert token is not None
    assert post(kim, f"/account/tokens/{token.id}/revoke", {}, "/account/tokens").status_code == 302
    assert kim.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_admin_pages(app: Flask, client: FlaskClient) -> None:
    make_user(app, "root@example.com", role=Role.ADMIN)
    make_user(app, "ria@example.com")
    sign_in(client, "ria@example.com")
    assert client.get("/admin/users").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").get_data(as_text=True))})
    sign_in(client, "root@example.com")
    page = post(
        client, "/admin/users", {"email": "new@example.com", "name": "Newbie", "role": "viewer"}, "/admin/users"
    ).get_data(as_text=True)
    password = page.split('id="new-password">')[1].split("<")[0]
    assert len(password) >= 12
    ria = user(app, "ria@example.com")
    token = csrf_of(client.get("/admin/users").get_data(as_text=True))
    client.post(
        f"/admin/users/{ria.id}",
        data={f"u{ria.id}-csrf_token": token, f"u{ria.id}-role": "viewer", f"u{ria.id}-is_active": "y"},
    )
    assert user(app, "ria@example.com").role is Role.VIEWER
    root = user(app, "root@example.com")
    client.post(
        f"/admin/users/{root.id}",
        data={f"u{root.id}-csrf_token": token, f"u{root.id}-role": "responder", f"u{root.id}-is_active": "y"},
    )
    assert user(app, "root@example.com").role is Role.ADMIN
    assert "no active admin" in client.get("/admin/users").get_data(as_text=True)


def test_only_durations_whose_end_can_still_come_are_running(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com")
    running = 'data-duration="{}" data-running-since'
    page = kim.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert all(running.format(n) in page for n in ("time_to_acknowledge", "time_to_mitigate", "impact_duration"))
    with app.app_context():
        update_incident(
            get_session(), actor=user(app, "kim@example.com"), incident_id=incident_id, status=Status.MITIGATED
        )
    page = kim.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert running.format("time_to_resolve") in page and running.format("time_to_acknowledge") not in page
    with app.app_context():
        update_incident(
            get_session(), actor=user(app, "kim@example.com"), incident_id=incident_id, status=Status.RESOLVED
        )
    assert "data-running-since" not in kim.get(f"/incidents/{incident_id}").get_data(as_text=True)


def test_history_shows_the_time_before_in_the_readers_zone(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com", started_at=datetime(2026, 7, 1, 7, 0, tzinfo=UTC))
    url = f"/incidents/{incident_id}"
    post(kim, url + "/timeline", {"text": "failover", "kind": "action", "occurred_at": "2026-07-01T10:00"}, url)
    with app.app_context():
        entry = get_session().scalar(select(TimelineEntry).where(TimelineEntry.text == "failover"))
        assert entry is not None
    changes = {"text": "failover", "kind": "action", "occurred_at": "2026-07-01T10:05"}
    assert post(kim, f"{url}/timeline/{entry.id}/correct", changes, url).status_code == 302
    page = kim.get(url).get_data(as_text=True)
    assert "Before: “failover” at Wed 2026-07-01 10:00 CEST" in page
    assert "10:05:00 CEST" in page


def test_an_entry_is_corrected_on_its_own_page(app: Flask, kim: FlaskClient) -> None:
    incident_id = declare(app, "kim@example.com", started_at=datetime(2026, 7, 1, 7, 0, tzinfo=UTC))
    url = f"/incidents/{incident_id}"
    post(kim, url + "/timeline", {"text": "failover", "kind": "action", "occurred_at": "2026-07-01T10:00"}, url)
    with app.app_context():
        entry = get_session().scalar(select(TimelineEntry).where(TimelineEntry.text == "failover"))
        assert entry is not None
    edit = f"{url}/timeline/{entry.id}/edit"
    page = kim.get(url).get_data(as_text=True)
    assert f'href="{edit}"' in page and page.count('name="is_key_moment"') == 1  # only the add form's
    form = kim.get(edit).get_data(as_text=True)
    assert 'value="2026-07-01T10:00:00"' in form and "failover</textarea>" in form and "In Europe/Berlin." in form
    token = csrf_of(form)
    response = kim.post(
        f"{url}/timeline/{entry.id}/correct",
        data={"csrf_token": token, "text": "failover to eu-west", "kind": "action", "occurred_at": "2026-07-01T10:02"},
    )
    assert response.status_code == 302
    assert "failover to eu-west" in kim.get(url).get_data(as_text=True)
    assert kim.post(f"{url}/timeline/{entry.id}/delete", data={"csrf_token": token}).status_code == 302
    assert kim.get(edit).status_code == 404
    make_user(app, "lee@example.com")
    secret = declare(app, "lee@example.com", visibility=Visibility.RESTRICTED)
    assert kim.get(f"/incidents/{secret}/timeline/1/edit").status_code == 404


def test_the_people_lists_escape_names_and_mark_who_holds_a_role(app: Flask, kim: FlaskClient) -> None:
    with app.app_context():
        from incidents.accounts.service import create_user

        create_user(get_session(), email="evil@example.com", name='<script>alert(1)</script> "Q"', role=Role.RESPONDER)
    incident_id = declare(app, "kim@example.com")
    page = kim.get(f"/incidents/{incident_id}").get_data(as_text=True)
    roles = page[page.index('id="roles"') : page.index('id="timeline-h"')]
    assert "<script>alert(1)" not in roles
    assert '<option value="evil@example.com">&lt;script&gt;alert(1)&lt;/script&gt; &#34;Q&#34;</option>' in roles
    assert '<select id="commander" name="commander"><option value="">— nobody —</option>' in roles
    assert '<option value="kim@example.com" selected>Kim</option>' in roles
    assert 'id="participants" multiple name="participants">' in roles


def test_every_main_page_has_a_plain_title(app: Flask, kim: FlaskClient) -> None:
    import re

    incident_id = declare(app, "kim@example.com")
    for path in (
        "/",
        "/incidents",
        "/incidents/new",
        f"/incidents/{incident_id}",
        "/account",
        "/account/tokens",
        "/action-items",
    ):
        page = kim.get(path).get_data(as_text=True)
        assert re.search(r"<title>[^<>]+ · Kintsugi</title>", page), path


def test_the_admin_page_links_the_pager_deliveries_page(app: Flask, client: FlaskClient) -> None:
    make_user(app, "root@example.com", role=Role.ADMIN)
    sign_in(client, "root@example.com")
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<a href="/admin/deliveries">Pager deliveries not understood</a>' in page
    assert client.get("/admin/deliveries").status_code == 200
