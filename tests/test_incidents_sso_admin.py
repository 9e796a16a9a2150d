"""What admins see of single sign-on: which accounts use it, and what an invitation means when it is required."""

from __future__ import annotations

import re

from conftest import csrf_of, make_user, sign_in
from flask import Flask

from app import create_app
from incidents.accounts.service_sso import VerifiedIdentity, linked_user_ids, sign_in_with_identity
from incidents.database import engine_of, get_session
from incidents.models import Role

ISSUER = "https://id.example"


def sso_app(app: Flask) -> Flask:
    """An app with single sign-on configured, on the database of conftest's `app`; the issuer is never asked."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "OIDC_ISSUER": ISSUER,
            "OIDC_CLIENT_ID": "kintsugi",
            "OIDC_CLIENT_SECRET": "secret",
            "OIDC_BUTTON": "Sign in with Acme ID",
        }
    )


def test_the_users_page_marks_accounts_that_use_single_sign_on(app: Flask) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "lou@example.com")
    with app.app_context():
        session = get_session()
        sam = sign_in_with_identity(
            session,
            identity=VerifiedIdentity(issuer=ISSUER, subject="42", email="sam@example.com", email_verified=True),
        )
        assert linked_user_ids(session) == {sam.id}
    client = app.test_client()
    assert sign_in(client, "ada@example.com").status_code == 302
    rows = re.findall(r"<tr>\s*<td>.*?</td>\s*<td>(.*?)</td>", client.get("/admin/users").get_data(as_text=True), re.S)
    assert [row.strip() for row in rows if "@" in row] == [
        "ada@example.com",
        "lou@example.com",
        'sam@example.com <span class="badge">single sign-on</span>',
    ]


def test_an_invitation_says_how_to_sign_in_when_single_sign_on_is_required(app: Flask) -> None:
    configured = sso_app(app)
    try:
        make_user(configured, "ada@example.com", Role.ADMIN)
        client = configured.test_client()
        assert sign_in(client, "ada@example.com").status_code == 302
        token = csrf_of(client.get("/admin/users").get_data(as_text=True))
        page = client.post("/admin/users", data={"csrf_token": token, "email": "new@example.com", "role": "responder"})
        assert "new@example.com signs in with “Sign in with Acme ID”" in page.get_data(as_text=True)
    finally:
        engine_of(configured).dispose()
