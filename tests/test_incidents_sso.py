"""Single sign-on through OpenID Connect, end to end against a small OpenID provider on loopback.

The provider below is real HTTP in a thread: discovery, JWKS, an authorization endpoint that
insists on PKCE (S256), and a token endpoint that checks the client's credentials and the code
verifier and returns an RS256-signed ID token. The app's Authlib client talks to it over the
network exactly as it would to Okta or Keycloak; the browser is the Flask test client, with the
hop to the provider made by requests.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from conftest import PASSWORD, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app import create_app
from incidents.accounts.models import ExternalIdentity
from incidents.database import engine_of, get_session
from incidents.models import Role, User

CLIENT_ID = "kintsugi-test"
CLIENT_SECRET = "s3cret-for-the-tests"
KEY_ID = "provider-key-1"


class FakeProvider:
    """An OpenID provider on 127.0.0.1 that signs in whichever person the test chooses."""

    def __init__(self, key: RSAKey) -> None:
        self.key = key
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.reset()

    def reset(self) -> None:
        self.person: dict[str, Any] = {
            "sub": "sub-1",
            "email": "sam@example.com",
            "email_verified": True,
            "name": "Sam Sso",
        }
        self.tamper: dict[str, Any] = {}  # claims that override the honest ID token's
        self.signing_key: RSAKey | None = None  # another key, to forge a signature
        self.profile_at_userinfo_only = False  # the ID token names only the subject
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.token_requests: list[dict[str, str]] = []

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        handlers = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
            "/userinfo": self.userinfo,
        }
        handler = handlers.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def discovery(self, _request: Request) -> Response:
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    def jwks(self, _request: Request) -> Response:
        return _json({"keys": [self.key.as_dict(private=False)]})

    def authorize(self, request: Request) -> Response:
        args = request.args
        problems = [
            name
            for name, ok in (
                ("response_type", args.get("response_type") == "code"),
                ("client_id", args.get("client_id") == CLIENT_ID),
                ("scope", "openid" in (args.get("scope") or "").split()),
                ("state", bool(args.get("state"))),
                ("nonce", bool(args.get("nonce"))),
                ("code_challenge", bool(args.get("code_challenge"))),
                ("code_challenge_method", args.get("code_challenge_method") == "S256"),
                ("redirect_uri", bool(args.get("redirect_uri"))),
            )
            if not ok
        ]
        if problems:
            return Response(f"bad authorization request: {problems}", status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": args["code_challenge"],
            "nonce": args["nonce"],
            "redirect_uri": args["redirect_uri"],
        }
        location = args["redirect_uri"] + "?" + urlencode({"code": code, "state": args["state"]})
        return Response(status=302, headers={"Location": location})

    def token(self, request: Request) -> Response:
        form = request.form.to_dict()
        self.token_requests.append(form)
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        client_id, _, secret = (base64.b64decode(credentials).decode() if scheme == "Basic" else "").partition(":")
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return _json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
        if grant is None or form.get("grant_type") != "authorization_code":
            return _json({"error": "invalid_grant", "error_description": "unknown code"}, 400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _json({"error": "invalid_grant", "error_description": "redirect_uri differs"}, 400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return _json({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"]}
        claims.update({"sub": self.person["sub"]} if self.profile_at_userinfo_only else self.person)
        claims.update(self.tamper)
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, self.signing_key or self.key)
        access_token = secrets.token_urlsafe(16)
        self.access_tokens[access_token] = dict(self.person)
        return _json({"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

    def userinfo(self, request: Request) -> Response:
        person = self.access_tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        return _json(person) if person else _json({"error": "invalid_token"}, 401)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})


@pytest.fixture(scope="module")
def provider_server() -> Iterator[FakeProvider]:
    provider = FakeProvider(_rsa_key())
    provider.thread.start()
    yield provider
    provider.server.shutdown()
    provider.thread.join(5)
    provider.server.server_close()


@pytest.fixture
def provider(provider_server: FakeProvider) -> FakeProvider:
    provider_server.reset()
    return provider_server


@pytest.fixture
def make_sso_app(app: Flask, provider: FakeProvider) -> Iterator[Callable[..., Flask]]:
    """An app with single sign-on on, sharing the database of conftest's `app` (which sets it up and cleans it)."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        settings = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "OIDC_ISSUER": provider.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_BUTTON": "Sign in with Acme ID",
        }
        settings.update(config)
        made.append(create_app(settings))
        return made[-1]

    yield make
    for each in made:
        engine_of(each).dispose()


@pytest.fixture
def sso_app(make_sso_app: Callable[..., Flask]) -> Flask:
    return make_sso_app()


def through_provider(client: FlaskClient, next_url: str | None = None) -> Any:
    """Click the button, sign in at the provider, and come back; the answer of the app's callback."""
    start = client.get("/login/oidc" + (f"?next={quote(next_url, safe='')}" if next_url else ""))
    assert start.status_code == 302, start.get_data(as_text=True)
    at_provider = requests.get(start.location, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == "/login/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


def flash_of(answer: Any) -> str:
    """The message a refused sign-in shows."""
    found = re.search(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', answer.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else ""


def signed_in_as(client: FlaskClient) -> int | None:
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    return int(user_id) if user_id else None


def users(app: Flask) -> dict[str, tuple[str, Role, bool]]:
    with app.app_context():
        return {u.email: (u.name, u.role, u.is_active) for u in get_session().scalars(select(User))}


def identities(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = get_session().scalars(select(ExternalIdentity).order_by(ExternalIdentity.id))
        return [(row.issuer, row.subject, row.user.email) for row in rows]


def test_the_login_page_offers_the_button_and_says_passwords_are_for_admins(sso_app: Flask) -> None:
    page = sso_app.test_client().get("/login?next=/incidents").get_data(as_text=True)
    assert "Sign in with Acme ID" in page
    assert 'href="/login/oidc?next=/incidents"' in page
    assert "kept for administrators" in page


def test_without_an_issuer_the_login_page_is_as_before_and_there_is_no_sso_route(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "/login/oidc" not in page and "administrators" not in page
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_first_sign_in_creates_the_user_with_the_default_role(sso_app: Flask, provider: FakeProvider) -> None:
    client = sso_app.test_client()
    answer = through_provider(client)
    assert answer.status_code == 302, flash_of(answer)
    assert answer.location == "/"
    assert users(sso_app) == {"sam@example.com": ("Sam Sso", Role.RESPONDER, True)}
    assert identities(sso_app) == [(provider.issuer, "sub-1", "sam@example.com")]
    assert signed_in_as(client) is not None
    assert client.get("/").status_code == 200
    # The token request carried PKCE's verifier and the client authenticated with its secret.
    assert provider.token_requests[-1]["code_verifier"]
    assert "client_secret" not in provider.token_requests[-1]


def test_the_default_role_is_configurable(make_sso_app: Callable[..., Flask]) -> None:
    viewer_app = make_sso_app(OIDC_DEFAULT_ROLE="viewer")
    assert through_provider(viewer_app.test_client()).status_code == 302
    assert users(viewer_app)["sam@example.com"][1] is Role.VIEWER


def test_a_second_sign_in_finds_the_same_user_by_subject_after_the_email_changed(
    sso_app: Flask, provider: FakeProvider
) -> None:
    first = sso_app.test_client()
    through_provider(first)
    user_id = signed_in_as(first)
    provider.person = {"sub": "sub-1", "email": "sam.renamed@example.com", "email_verified": True, "name": "Sam R"}
    second = sso_app.test_client()
    assert through_provider(second).status_code == 302
    assert signed_in_as(second) == user_id
    assert list(users(sso_app)) == ["sam@example.com"]
    assert len(identities(sso_app)) == 1


def test_an_existing_local_account_is_linked_by_verified_email(sso_app: Flask, provider: FakeProvider) -> None:
    make_user(sso_app, "Sam@Example.com")
    client = sso_app.test_client()
    assert through_provider(client).status_code == 302
    assert users(sso_app) == {"sam@example.com": ("Sam", Role.RESPONDER, True)}
    assert identities(sso_app) == [(provider.issuer, "sub-1", "sam@example.com")]
    assert signed_in_as(client) is not None


def test_an_existing_local_account_is_not_linked_by_an_unverified_email(sso_app: Flask, provider: FakeProvider) -> None:
    make_user(sso_app, "sam@example.com")
    provider.person["email_verified"] = False
    client = sso_app.test_client()
    answer = through_provider(client)
    assert answer.status_code == 409
    assert "has not confirmed that this address is yours" in answer.get_data(as_text=True)
    assert identities(sso_app) == [] and signed_in_as(client) is None


def test_an_account_linked_to_another_subject_is_not_taken_over(sso_app: Flask, provider: FakeProvider) -> None:
    through_provider(sso_app.test_client())
    provider.person["sub"] = "someone-else"
    client = sso_app.test_client()
    answer = through_provider(client)
    assert answer.status_code == 409
    assert "already linked to another identity" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ({"nonce": "not-the-nonce-we-sent"}, "its nonce claim is wrong"),
        ({"aud": "some-other-client"}, "its audience claim is wrong"),
        ({"aud": ["some-other-client"], "azp": CLIENT_ID}, "its audience claim is wrong"),
        ({"iss": "https://impostor.example"}, "its issuer claim is wrong"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "it has expired"),
    ],
    ids=["nonce", "audience", "audience-with-our-azp", "issuer", "expired"],
)
def test_a_bad_id_token_is_refused_and_nobody_is_signed_in(
    sso_app: Flask, provider: FakeProvider, tamper: dict[str, Any], message: str
) -> None:
    provider.tamper = tamper
    client = sso_app.test_client()
    answer = through_provider(client)
    assert answer.status_code == 401
    assert "ID token was refused" in flash_of(answer) and message in flash_of(answer), flash_of(answer)
    assert signed_in_as(client) is None
    assert users(sso_app) == {}


def test_a_token_signed_with_another_key_is_refused(sso_app: Flask, provider: FakeProvider) -> None:
    provider.signing_key = _rsa_key()  # same key id, different key: a forgery
    client = sso_app.test_client()
    answer = through_provider(client)
    assert answer.status_code == 401
    assert "signature does not match" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_callback_with_another_state_is_refused(sso_app: Flask) -> None:
    client = sso_app.test_client()
    start = client.get("/login/oidc")
    back = urlsplit(requests.get(start.location, allow_redirects=False, timeout=10).headers["Location"])
    code = parse_qs(back.query)["code"][0]
    answer = client.get(f"/login/oidc/callback?code={code}&state=forged")
    assert answer.status_code == 401
    assert "state mismatch" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(sso_app: Flask) -> None:
    # Login CSRF: an attacker's code and state, replayed in the victim's browser.
    attacker = sso_app.test_client()
    start = attacker.get("/login/oidc")
    back = urlsplit(requests.get(start.location, allow_redirects=False, timeout=10).headers["Location"])
    victim = sso_app.test_client()
    answer = victim.get(f"{back.path}?{back.query}")
    assert answer.status_code == 401
    assert "state mismatch" in answer.get_data(as_text=True)
    assert signed_in_as(victim) is None and users(sso_app) == {}


def test_an_email_outside_the_allowed_domains_is_refused(
    make_sso_app: Callable[..., Flask], provider: FakeProvider
) -> None:
    sso_app = make_sso_app(OIDC_ALLOWED_DOMAINS="acme.example, @Corp.Example")
    client = sso_app.test_client()
    answer = through_provider(client)
    assert answer.status_code == 403
    assert "limited to addresses at acme.example, corp.example; sam@example.com is not one" in answer.get_data(
        as_text=True
    )
    assert signed_in_as(client) is None and users(sso_app) == {}
    provider.person.update(email="sam@corp.example", email_verified=False)
    assert "did not confirm your email" in through_provider(client).get_data(as_text=True)
    provider.person["email_verified"] = True
    assert through_provider(client).status_code == 302
    assert list(users(sso_app)) == ["sam@corp.example"]


def test_a_deactivated_user_is_refused(sso_app: Flask) -> None:
    through_provider(sso_app.test_client())
    with sso_app.app_context():
        session = get_session()
        session.scalars(select(User)).one().is_active = False
        session.commit()
    client = sso_app.test_client()
    answer = through_provider(client)
    assert answer.status_code == 403
    assert "deactivated" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_password_sign_in_is_refused_to_non_admins_when_sso_is_required(sso_app: Flask) -> None:
    make_user(sso_app, "riley@example.com", Role.RESPONDER)
    make_user(sso_app, "ada@example.com", Role.ADMIN)
    client = sso_app.test_client()
    refused = sign_in(client, "riley@example.com")
    assert refused.status_code == 403
    assert "signs in through single sign-on: use “Sign in with Acme ID”" in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    admin = sso_app.test_client()
    assert sign_in(admin, "ada@example.com").status_code == 302
    assert signed_in_as(admin) is not None


def test_password_sign_in_stays_open_to_all_when_configured(make_sso_app: Callable[..., Flask]) -> None:
    sso_app = make_sso_app(OIDC_LOCAL_LOGIN="all")
    make_user(sso_app, "riley@example.com", Role.RESPONDER)
    client = sso_app.test_client()
    assert sign_in(client, "riley@example.com").status_code == 302
    assert "kept for administrators" not in client.get("/login").get_data(as_text=True)


def test_a_wrong_password_still_counts_as_a_failure_when_sso_is_on(make_sso_app: Callable[..., Flask]) -> None:
    sso_app = make_sso_app(LOGIN_FREE_FAILURES=1, LOGIN_FIRST_WAIT_SECONDS=900)
    make_user(sso_app, "riley@example.com", Role.RESPONDER)
    client = sso_app.test_client()
    assert sign_in(client, "riley@example.com", password="wrong password!!").status_code == 401
    assert sign_in(client, "riley@example.com", password="wrong password!!").status_code == 401
    assert sign_in(client, "riley@example.com", password=PASSWORD).status_code == 429


def test_failed_callbacks_are_rate_limited(make_sso_app: Callable[..., Flask], provider: FakeProvider) -> None:
    # A callback names no account until it is verified: its failures count against the address.
    sso_app = make_sso_app(
        LOGIN_ADDRESS_FREE_FAILURES=1, LOGIN_FIRST_WAIT_SECONDS=900, LOGIN_ADDRESS_MAX_WAIT_SECONDS=900
    )
    client = sso_app.test_client()
    for _ in range(2):
        assert client.get("/login/oidc/callback?code=x&state=forged").status_code == 401
    provider.reset()
    answer = through_provider(client)
    assert answer.status_code == 429 and answer.headers["Retry-After"] in ("899", "900")
    assert "Too many failed sign-ins. Try again in 15 minutes." in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_safe_next_is_followed_and_an_open_redirect_is_ignored(sso_app: Flask) -> None:
    assert (
        through_provider(sso_app.test_client(), "/incidents?status=resolved").location == "/incidents?status=resolved"
    )
    for evil in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ):
        answer = through_provider(sso_app.test_client(), evil)
        assert answer.status_code == 302 and answer.location == "/", evil


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_provider_that_is_down_gives_a_clear_page_and_the_app_keeps_serving(
    make_sso_app: Callable[..., Flask],
) -> None:
    # The app starts although discovery cannot be fetched: nothing is fetched before first use.
    down = make_sso_app(OIDC_ISSUER=f"http://127.0.0.1:{_closed_port()}")
    client = down.test_client()
    answer = client.get("/login/oidc")
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "could not be reached" in page and "Traceback" not in page
    assert 'name="password"' in page  # the password form is still there for admins
    assert client.get("/login").status_code == 200
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 503


def test_a_provider_whose_discovery_names_another_issuer_is_refused(
    make_sso_app: Callable[..., Flask], provider: FakeProvider
) -> None:
    # The configured issuer differs from what the provider says it is (localhost vs 127.0.0.1).
    mismatched = make_sso_app(OIDC_ISSUER=provider.issuer.replace("127.0.0.1", "localhost"))
    answer = mismatched.test_client().get("/login/oidc")
    assert answer.status_code == 502
    assert "ask an admin to check KINTSUGI_OIDC_ISSUER" in answer.get_data(as_text=True)


def test_a_profile_given_only_at_the_userinfo_endpoint_is_used(sso_app: Flask, provider: FakeProvider) -> None:
    provider.profile_at_userinfo_only = True
    assert through_provider(sso_app.test_client()).status_code == 302
    assert users(sso_app) == {"sam@example.com": ("Sam Sso", Role.RESPONDER, True)}


def test_a_sign_in_the_person_cancelled_at_the_provider_says_so(sso_app: Flask) -> None:
    client = sso_app.test_client()
    client.get("/login/oidc")
    answer = client.get("/login/oidc/callback?error=access_denied&error_description=<b>Call+0800+scam</b>&state=x")
    assert answer.status_code == 401
    assert flash_of(answer) == "The sign-in provider did not sign you in (access_denied). Nobody was signed in."


def test_the_redirect_uri_can_be_fixed_by_configuration(make_sso_app: Callable[..., Flask]) -> None:
    # Behind a proxy that hides the public address, the callback URL is configured, not guessed.
    fixed = make_sso_app(OIDC_REDIRECT_URI="https://kintsugi.example/login/oidc/callback")
    start = fixed.test_client().get("/login/oidc")
    assert parse_qs(urlsplit(start.location).query)["redirect_uri"] == ["https://kintsugi.example/login/oidc/callback"]
