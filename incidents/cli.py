"""Flask commands: `flask db`, `flask users`, `flask tokens` and `flask demo`."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, make_url, select

from . import demo, stored_markdown
from .accounts import service as service_accounts
from .accounts import service_sso
from .database import engine_of, get_session, sqlite_file
from .errors import DomainError
from .models import Incident, Role, User

db_cli = AppGroup("db", help="The database schema.")
users_cli = AppGroup("users", help="Accounts.")
tokens_cli = AppGroup("tokens", help="Personal API tokens.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for group in (db_cli, users_cli, tokens_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)


def alembic_config(app: Flask) -> Config:
    """Alembic's configuration for this app's database and the project's migrations/ folder."""
    config = Config()
    config.set_main_option("script_location", str(Path(app.root_path) / "migrations"))
    config.attributes["engine"] = engine_of(app)
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Bring the database to the current schema (or to REVISION)."""
    # A fresh clone has no instance/ yet, where the SQLite database lives by default.
    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
    database_file = sqlite_file(make_url(current_app.config["DATABASE_URL"]))
    if database_file is not None:
        Path(database_file).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(current_app), revision)
    click.echo(f"Database at {revision}.")


@db_cli.command("render-markdown")
def db_render_markdown() -> None:
    """Render every stored Markdown text again, as today's settings allow (after changing KINTSUGI_IMAGE_HOSTS)."""
    with engine_of(current_app).begin() as connection:
        written = stored_markdown.render_again(connection)
    click.echo("Rendered again: " + ", ".join(f"{count:,} rows of {table}" for table, count in written.items()) + ".")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", help="Display name (default: the part of the email before @).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.RESPONDER.value)
@click.option("--timezone", default="UTC", help="IANA zone the user reads times in.")
@click.option("--password", help="Login password (default: generated and printed once).")
def users_create(email: str, name: str | None, role: str, timezone: str, password: str | None) -> None:
    """Create an account that can sign in to the web app."""
    given = password is not None
    password = password or secrets.token_urlsafe(12)
    with _as_click_errors():
        user = service_accounts.create_user(
            get_session(), email=email, name=name, role=Role(role), timezone=timezone, password=password
        )
    # A password the admin typed is not echoed back (terminal logs, screen sharing); a generated one
    # is shown this once.
    shown = "(as given)" if given else password
    click.echo(f"Created {user.role.value} {user.email} with password: {shown}")


@users_cli.command("ensure-admin")
@click.option("--email", default="admin@localhost", show_default=True)
def users_ensure_admin(email: str) -> None:
    """Create a first admin when there is none; its login is printed once."""
    session = get_session()
    if session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN)):
        return
    # KINTSUGI_ADMIN_PASSWORD, read at start like every setting; a value that parsed as JSON is the text typed.
    configured = current_app.config.get("ADMIN_PASSWORD")
    password = str(configured) if configured not in (None, "") else secrets.token_urlsafe(12)
    with _as_click_errors():
        service_accounts.create_user(session, email=email, name="Admin", role=Role.ADMIN, password=password)
    shown = "(from KINTSUGI_ADMIN_PASSWORD)" if configured not in (None, "") else password
    click.echo(f"First admin created. Sign in as {email} with password: {shown}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set the password of EMAIL (asked twice, not shown); every browser signed in as them is signed out."""
    user_id = _user_id(email)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt="New password again")
    with _as_click_errors():
        service_accounts.set_password(get_session(), user_id=user_id, password=password)
    click.echo(f"Password of {email} set; their open sessions have ended.")


@users_cli.command("list")
def users_list() -> None:
    """Every account: email, name, role, whether it is active, how it signs in, and its last single sign-on."""
    session = get_session()
    people = session.scalars(select(User).order_by(func.lower(User.email), User.id)).all()
    identities = service_sso.last_sign_ins(session)
    rows = [("EMAIL", "NAME", "ROLE", "STATE", "SIGNS IN WITH", "LAST SINGLE SIGN-ON (UTC)")]
    for user in people:
        ways = [
            way for way, has in (("password", user.password_hash), ("single sign-on", user.id in identities)) if has
        ]
        when = identities.get(user.id)
        rows.append(
            (
                user.email,
                user.name,
                user.role.value,
                "active" if user.is_active else "deactivated",
                " and ".join(ways) or "nothing yet",
                when.strftime("%Y-%m-%d %H:%M") if when else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
def tokens_create(email: str, name: str) -> None:
    """Issue a personal API token for EMAIL and print it once (its id goes to stderr)."""
    session = get_session()
    with _as_click_errors():
        token, secret = service_accounts.create_api_token(session, user_id=_user_id(email), name=name)
    click.echo(f"Token {token.id} for {email}; it is shown only now:", err=True)
    click.echo(secret)


@tokens_cli.command("revoke")
@click.argument("email")
@click.argument("token_id", type=int)
def tokens_revoke(email: str, token_id: int) -> None:
    """Revoke token TOKEN_ID of EMAIL."""
    with _as_click_errors():
        service_accounts.revoke_api_token(get_session(), user_id=_user_id(email), token_id=token_id)
    click.echo(f"Token {token_id} revoked.")


def _user_id(email: str) -> int:
    user = service_accounts.user_by_email(get_session(), email)
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    return user.id


@contextmanager
def _as_click_errors() -> Iterator[None]:
    """A domain error ends the command with its message, not a traceback."""
    try:
        yield
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@click.command("demo")
@with_appcontext
@click.option("--offer", is_flag=True, help="Ask first, and only on an empty database.")
def demo_command(offer: bool) -> None:
    """Fill an empty database with realistic incidents and timelines."""
    session = get_session()
    if session.scalar(select(func.count()).select_from(Incident)):
        if not offer:
            raise click.ClickException("the database already has incidents; demo data goes only into an empty one")
        return
    if offer:
        if not sys.stdin.isatty():
            click.echo("The database is empty; `flask demo` loads demo incidents.")
            return
        if not click.confirm("The database is empty. Load demo incidents?", default=True):
            return
    count = demo.load_demo(session)
    click.echo(f"Loaded {count} demo incidents. Demo users sign in with password: {demo.DEMO_PASSWORD}")
