"""The flask commands: db upgrade, users, tokens and demo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from incidents.database import get_session
from incidents.models import Incident, Role, TimelineEntry, User, Visibility
from incidents.postmortems.models import Postmortem, ReviewStatus


def test_users_create_and_tokens_create(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "Boss@Example.com", "--role", "admin", "--name", "Boss"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com with password:" in result.output
    again = runner.invoke(args=["users", "create", "boss@example.com"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    token = runner.invoke(args=["tokens", "create", "boss@example.com"])
    assert token.exit_code == 0
    secret = token.stdout.strip()
    assert "Token 1 for boss@example.com" in token.stderr
    assert secret.startswith("kin_")
    client = app.test_client()
    me = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert me["email"] == "boss@example.com" and me["role"] == "admin"
    assert runner.invoke(args=["tokens", "revoke", "boss@example.com", "1"]).exit_code == 0
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert runner.invoke(args=["tokens", "create", "ghost@example.com"]).exit_code == 1


def test_bad_time_zone_on_create_is_a_clear_error(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "create", "z@example.com", "--timezone", "Nowhere/Land"])
    assert result.exit_code == 1
    assert "unknown time zone 'Nowhere/Land'" in result.output


def test_ensure_admin_creates_one_admin_once(app: Flask, monkeypatch: object) -> None:
    app.config["ADMIN_PASSWORD"] = "a-long-enough-password"  # as KINTSUGI_ADMIN_PASSWORD sets it at start
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "ensure-admin"])
    assert "First admin created. Sign in as admin@localhost" in first.output
    assert "a-long-enough-password" not in first.output
    second = runner.invoke(args=["users", "ensure-admin"])
    assert second.output == ""
    with app.app_context():
        admins = get_session().scalars(select(User).where(User.role == Role.ADMIN)).all()
        assert [a.email for a in admins] == ["admin@localhost"]
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login", data={"email": "admin@localhost", "password": "a-long-enough-password", "csrf_token": token.group(1)}
    )
    assert response.status_code == 302


def test_demo_fills_an_empty_database_only(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        session = get_session()
        incidents = session.scalars(select(Incident)).all()
        assert len(incidents) >= 6
        assert {i.visibility for i in incidents} == {Visibility.OPEN, Visibility.RESTRICTED}
        assert any(i.resolved_at is None for i in incidents), "one incident is still open"
        multi_day = [i for i in incidents if i.resolved_at and (i.resolved_at - i.started_at).days >= 1]
        assert multi_day, "a multi-day incident"
        assert len({i.severity for i in incidents}) >= 4
        assert session.scalar(select(func.count()).select_from(TimelineEntry)) >= 30
        for incident in incidents:
            assert incident.durations()["time_to_detect"] is not None
        [review] = session.scalars(select(Postmortem)).all()
        assert review.status is ReviewStatus.PUBLISHED and review.incident.status.value == "closed"
        assert any(f.parent_id is not None for f in review.factors), "a how follow-up"
        assert sum(a.is_overdue(date.today()) for a in review.action_items) == 1
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 1
    assert "only into an empty one" in second.output
    offered = runner.invoke(args=["demo", "--offer"])
    assert offered.exit_code == 0 and offered.output == ""


def test_a_password_from_the_environment_is_kept_as_typed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "KINTSUGI_ADMIN_PASSWORD": "1.50",
        "KINTSUGI_SECRET_KEY": "true",
        "KINTSUGI_MAX_CONTENT_LENGTH": "1024",
        "KINTSUGI_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
    }
    code = (
        "import app; c = app.create_app().config; "
        "print(repr((c['ADMIN_PASSWORD'], c['SECRET_KEY'], c['MAX_CONTENT_LENGTH'])))"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # Secrets exactly as typed; other settings still read as JSON (a number stays a number).
    assert result.stdout.strip() == "('1.50', 'true', 1024)"


def test_a_password_given_to_users_create_is_not_echoed(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "quiet@example.com", "--password", "s3cret-typed-here"]
    )
    assert result.exit_code == 0, result.output
    assert "s3cret-typed-here" not in result.output
    assert "with password: (as given)" in result.output


def test_db_upgrade_makes_the_folder_of_a_new_sqlite_database(tmp_path: Path) -> None:
    from app import create_app

    target = tmp_path / "fresh-clone" / "instance" / "kintsugi.db"
    fresh = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{target}"})
    result = fresh.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert target.exists()
