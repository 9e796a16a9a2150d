"""The minimal pages: sign in, list, declare, read an incident and add to its timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import PASSWORD, csrf_of, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from incidents.database import get_session
from incidents.models import Incident, Role, TimelineEntry


def test_pages_need_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/incidents")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_wrong_password_is_refused(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com")
    response = sign_in(client, "kim@example.com", "wrong password!!")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert client.get("/incidents").status_code == 302


def test_a_form_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com")
    response = client.post("/login", data={"email": "kim@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_sign_in_never_redirects_off_site(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com")
    response = sign_in(client, "kim@example.com", next_url="https://evil.example.com/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/incidents").get_data(as_text=True))})
    response = sign_in(client, "kim@example.com", next_url="//evil.example.com/")
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/incidents").get_data(as_text=True))})
    response = sign_in(client, "kim@example.com", next_url="/incidents/new")
    assert response.headers["Location"] == "/incidents/new"


def test_declare_then_read_and_add_an_entry_in_the_readers_zone(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com", zone="America/New_York")
    assert sign_in(client, "kim@example.com").status_code == 302
    form = client.get("/incidents/new").get_data(as_text=True)
    response = client.post(
        "/incidents/new",
        data={
            "csrf_token": csrf_of(form),
            "title": "Payments <b>timeouts</b>",
            "severity": "SEV2",
            "services": "payments, checkout",
            "summary": "Timeouts <script>alert(1)</script> to the **card processor**",
            "started_at": "",
            "visibility": "open",
        },
    )
    assert response.status_code == 302
    page_url = response.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    assert "Payments &lt;b&gt;timeouts&lt;/b&gt;" in page
    assert "<strong>card processor</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "Kim" in page

    # 09:30 on a day in New York's winter is 14:30 UTC.
    yesterday = (datetime.now(ZoneInfo("America/New_York")) - timedelta(days=1)).date()
    response = client.post(
        page_url + "/timeline",
        data={
            "csrf_token": csrf_of(page),
            "text": "Processor confirms a partial outage",
            "occurred_at": f"{yesterday}T09:30",
            "kind": "communication",
            "evidence_url": "https://status.example.com/123",
            "is_key_moment": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        entry = get_session().scalar(select(TimelineEntry).where(TimelineEntry.text.like("Processor%")))
        assert entry is not None
        expected = datetime(yesterday.year, yesterday.month, yesterday.day, 9, 30, tzinfo=ZoneInfo("America/New_York"))
        assert entry.occurred_at == expected.astimezone(UTC)
        assert entry.is_key_moment is True
    page = client.get(page_url).get_data(as_text=True)
    assert f"{yesterday:%A %Y-%m-%d}" in page
    assert "09:30:00 E" in page  # EST or EDT, always with the zone


def test_a_time_the_clocks_skip_is_refused(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com", zone="Europe/Berlin")
    sign_in(client, "kim@example.com")
    form = client.get("/incidents/new").get_data(as_text=True)
    response = client.post(
        "/incidents/new",
        data={
            "csrf_token": csrf_of(form),
            "title": "x",
            "severity": "SEV3",
            "started_at": "2026-03-29T02:30",
            "visibility": "open",
        },
    )
    assert response.status_code == 422
    assert "does not exist in Europe/Berlin" in response.get_data(as_text=True)
    with app.app_context():
        assert get_session().scalar(select(Incident)) is None


def test_list_filters_and_hides_restricted(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com")
    make_user(app, "lee@example.com")
    from incidents.models import User, Visibility
    from incidents.service import declare_incident

    with app.app_context():
        session = get_session()
        kim = session.scalar(select(User).where(User.email == "kim@example.com"))
        assert kim is not None
        declare_incident(session, actor=kim, title="Search slow", severity="SEV3", services=["search"])
        declare_incident(session, actor=kim, title="Hidden breach", severity="SEV1", visibility=Visibility.RESTRICTED)
    sign_in(client, "lee@example.com")
    page = client.get("/incidents").get_data(as_text=True)
    assert "Search slow" in page and "Hidden breach" not in page
    assert "Search slow" not in client.get("/incidents?severity=SEV1").get_data(as_text=True)
    assert "Search slow" in client.get("/incidents?service=search&status=investigating").get_data(as_text=True)
    assert client.get("/incidents/2").status_code == 404


def test_status_change_from_the_page(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com")
    sign_in(client, "kim@example.com")
    form = client.get("/incidents/new").get_data(as_text=True)
    url = client.post(
        "/incidents/new", data={"csrf_token": csrf_of(form), "title": "x", "severity": "SEV3", "visibility": "open"}
    ).headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert client.post(url + "/status", data={"csrf_token": csrf_of(page), "status": "mitigated"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Status changed from investigating to mitigated." in page


def test_a_viewer_cannot_declare_from_the_page(app: Flask, client: FlaskClient) -> None:
    make_user(app, "val@example.com", role=Role.VIEWER)
    sign_in(client, "val@example.com")
    form = client.get("/incidents/new").get_data(as_text=True)
    response = client.post(
        "/incidents/new", data={"csrf_token": csrf_of(form), "title": "x", "severity": "SEV3", "visibility": "open"}
    )
    assert response.status_code == 403
    with app.app_context():
        assert get_session().scalar(select(Incident)) is None


def test_pages_carry_a_strict_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)


def test_session_cookie_is_secure_httponly_samesite_and_expires(app: Flask, client: FlaskClient) -> None:
    make_user(app, "kim@example.com")
    response = sign_in(client, "kim@example.com")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("kintsugi_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Expires="):
        assert flag in cookie
