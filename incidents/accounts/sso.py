"""Single sign-on through an OpenID Connect provider: its configuration and the code flow, run by Authlib.

Authlib's Flask client does the protocol: discovery, the authorization code flow with PKCE (S256),
state and nonce kept in the session, client authentication at the token endpoint, and validation
of the ID token (signature against the provider's JWKS, issuer, audience, expiry, nonce).
This module reads KINTSUGI_OIDC_*, builds that client, and turns what can go wrong into messages.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, request, session
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from werkzeug.wrappers import Response

from ..models import Role, User
from .service_sso import VerifiedIdentity

EXTENSION = "kintsugi.sso"
# Authlib also reads <NAME>_* keys from the app config; this name keeps it off KINTSUGI_OIDC_*.
CLIENT_NAME = "kintsugi_sso"
NEXT_KEY = "sso_next"
DEFAULT_SCOPES = "openid email profile"
# Seconds to wait for the provider: a hung provider must not hold a worker for long.
PROVIDER_TIMEOUT = 10
LOCAL_LOGIN_CHOICES = ("admins", "all")
DEFAULT_ROLE_CHOICES = (Role.VIEWER.value, Role.RESPONDER.value)
PROFILE_CLAIMS = ("email", "email_verified", "name", "given_name", "family_name", "preferred_username")


class SignInFailed(Exception):
    """Single sign-on did not produce a verified identity; the message is for the person signing in."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SsoSettings:
    """Single sign-on as configured by KINTSUGI_OIDC_*."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str = DEFAULT_SCOPES
    button: str = "Sign in with single sign-on"
    default_role: Role = Role.RESPONDER
    allowed_domains: frozenset[str] = frozenset()
    local_login: str = "admins"
    redirect_uri: str | None = None

    @property
    def discovery_url(self) -> str:
        """Where the provider publishes its OpenID configuration."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def passwords_for_admins_only(self) -> bool:
        """Whether the password form is kept for admins alone."""
        return self.local_login == "admins"


def read_settings(config: Mapping[str, Any]) -> SsoSettings | None:
    """Single sign-on settings from the app config, None when no issuer is set; a clear ValueError when unusable."""
    issuer = _text(config, "OIDC_ISSUER")
    if not issuer:
        return None
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"KINTSUGI_OIDC_ISSUER must be the provider's https URL, not {issuer!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError("KINTSUGI_OIDC_ISSUER must use https (plain http is accepted only on loopback, for testing)")
    client_id = _text(config, "OIDC_CLIENT_ID")
    client_secret = _text(config, "OIDC_CLIENT_SECRET")
    missing = [name for name, value in (("CLIENT_ID", client_id), ("CLIENT_SECRET", client_secret)) if not value]
    if missing:
        names = " and ".join(f"KINTSUGI_OIDC_{name}" for name in missing)
        verb = "are" if len(missing) > 1 else "is"
        raise ValueError(f"KINTSUGI_OIDC_ISSUER is set, so single sign-on is on, but {names} {verb} not set")
    scopes = " ".join(_text(config, "OIDC_SCOPES", DEFAULT_SCOPES).replace(",", " ").split())
    if "openid" not in scopes.split():
        raise ValueError(f"KINTSUGI_OIDC_SCOPES must include 'openid', got {scopes!r}")
    default_role = _text(config, "OIDC_DEFAULT_ROLE", Role.RESPONDER.value).lower()
    if default_role not in DEFAULT_ROLE_CHOICES:
        raise ValueError(
            f"KINTSUGI_OIDC_DEFAULT_ROLE must be one of {', '.join(DEFAULT_ROLE_CHOICES)}, not {default_role!r}"
        )
    local_login = _text(config, "OIDC_LOCAL_LOGIN", "admins").lower()
    if local_login not in LOCAL_LOGIN_CHOICES:
        raise ValueError(
            f"KINTSUGI_OIDC_LOCAL_LOGIN must be one of {', '.join(LOCAL_LOGIN_CHOICES)}, not {local_login!r}"
        )
    domains = frozenset(
        d.strip().lstrip("@").lower() for d in _text(config, "OIDC_ALLOWED_DOMAINS").split(",") if d.strip().lstrip("@")
    )
    return SsoSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        scopes=scopes,
        button=_text(config, "OIDC_BUTTON") or "Sign in with single sign-on",
        default_role=Role(default_role),
        allowed_domains=domains,
        local_login=local_login,
        redirect_uri=_text(config, "OIDC_REDIRECT_URI") or None,
    )


def init_app(app: Flask) -> None:
    """Check the single sign-on configuration and build the provider's client; nothing is fetched yet."""
    settings = read_settings(app.config)
    app.extensions[EXTENSION] = settings
    app.context_processor(lambda: {"sso": current_app.extensions[EXTENSION]})
    if settings is None:
        return
    oauth = OAuth(app)
    # Discovery and the JWKS are fetched on first use, so the app starts while the provider is down.
    oauth.register(
        name=CLIENT_NAME,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={
            "scope": settings.scopes,
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT,
        },
    )


def settings() -> SsoSettings | None:
    """This app's single sign-on settings, or None when it is off."""
    found: SsoSettings | None = current_app.extensions.get(EXTENSION)
    return found


def password_sign_in_allowed(user: User) -> bool:
    """Whether this account may sign in with a password, given the single sign-on policy."""
    configured = settings()
    return configured is None or not configured.passwords_for_admins_only or user.is_admin


def redirect_to_provider(callback_url: str, *, next_path: str) -> Response:
    """Send the browser to the provider's sign-in page; remember where to go afterwards."""
    configured = _settings()
    client = _client()
    with _provider_errors(configured):
        _check_discovery(client, configured)
        session[NEXT_KEY] = next_path
        response: Response = client.authorize_redirect(configured.redirect_uri or callback_url)
    return response


def verified_identity() -> tuple[VerifiedIdentity, str | None]:
    """On the callback: exchange the code, validate the ID token, and return who it names and the saved next path."""
    configured = _settings()
    client = _client()
    next_path = session.pop(NEXT_KEY, None)
    error = request.args.get("error")
    if error:
        # Only the error code is shown: the rest of this URL may have been written by anyone.
        code = "".join(c for c in error.lower() if c.isalpha() or c == "_")[:40]
        raise SignInFailed(f"The sign-in provider did not sign you in ({code}). Nobody was signed in.")
    with _provider_errors(configured):
        issuer = _check_discovery(client, configured)
        # Authlib checks the nonce, expiry and signature, and the issuer by default, but of the
        # audience only that an azp names us: the audience itself must include our client id.
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "values": [issuer]},
                "aud": {"essential": True, "values": [configured.client_id]},
            }
        )
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise SignInFailed("The sign-in provider sent no ID token, so nobody was signed in.", status=502)
        if not claims.get("email") and client.load_server_metadata().get("userinfo_endpoint"):
            # Some providers put only the subject in the ID token; the rest is at the userinfo endpoint.
            extra = client.userinfo(token=token)
            if str(extra.get("sub")) == str(claims["sub"]):
                claims.update({key: extra[key] for key in PROFILE_CLAIMS if key in extra})
    return _identity(claims), next_path if isinstance(next_path, str) else None


def _identity(claims: Mapping[str, Any]) -> VerifiedIdentity:
    verified = claims.get("email_verified")
    name = claims.get("name") or " ".join(str(claims[k]) for k in ("given_name", "family_name") if claims.get(k))
    return VerifiedIdentity(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=str(claims["email"]) if claims.get("email") else None,
        # Some providers send the flag as the string "true".
        email_verified=verified is True or str(verified).lower() == "true",
        name=str(name or claims.get("preferred_username") or "") or None,
    )


def _settings() -> SsoSettings:
    configured = settings()
    if configured is None:
        raise SignInFailed("Single sign-on is not configured here.", status=404)
    return configured


def _client() -> Any:
    return current_app.extensions["authlib.integrations.flask_client"].create_client(CLIENT_NAME)


def _check_discovery(client: Any, configured: SsoSettings) -> str:
    """The issuer the provider's discovery document names, which must be the one configured."""
    metadata = client.load_server_metadata()
    # OpenID Connect Discovery: the document must name the issuer it was fetched for.
    if str(metadata.get("issuer", "")).rstrip("/") != configured.issuer.rstrip("/"):
        raise SignInFailed(
            f"The sign-in provider's configuration names the issuer {metadata.get('issuer')!r}, "
            f"not {configured.issuer!r}; ask an admin to check KINTSUGI_OIDC_ISSUER.",
            status=502,
        )
    return str(metadata["issuer"])


@contextmanager
def _provider_errors(configured: SsoSettings) -> Iterator[None]:
    """Turn what Authlib, the token checks and the network raise into a SignInFailed with a clear message."""
    try:
        yield
    except MismatchingStateError as exc:
        raise SignInFailed(
            "This sign-in was not started from this browser, or it expired (state mismatch). "
            "Nobody was signed in; start again."
        ) from exc
    except AuthlibBaseError as exc:
        detail = exc.description or exc.error or "no reason given"
        raise SignInFailed(f"The sign-in provider refused the sign-in: {detail}.") from exc
    except JoseError as exc:
        raise SignInFailed(
            f"The sign-in provider's ID token was refused: {_token_fault(exc)}. Nobody was signed in."
        ) from exc
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as exc:
        # RequestException: a provider that is down, slow or answering errors; ValueError, one that
        # answers something other than JSON; KeyError and RuntimeError, a discovery document lacking endpoints.
        raise SignInFailed(
            f"The sign-in provider at {configured.issuer} could not be reached or gave an unusable answer. "
            "Try again in a few minutes; if it persists, ask an admin.",
            status=503,
        ) from exc


CLAIM_WORDS = {
    "iss": "issuer",
    "aud": "audience",
    "nonce": "nonce",
    "sub": "subject",
    "iat": "issue time",
    "exp": "expiry",
}


def _token_fault(exc: JoseError) -> str:
    if isinstance(exc, ExpiredTokenError):
        return "it has expired"
    if isinstance(exc, ClaimError):
        return f"its {CLAIM_WORDS.get(exc.claim, exc.claim)} claim is wrong or missing"
    if isinstance(exc, BadSignatureError):
        return "its signature does not match the provider's keys"
    return exc.description or exc.error or "it could not be verified"


def _text(config: Mapping[str, Any], key: str, default: str = "") -> str:
    # from_prefixed_env parses values as JSON, so a numeric client id arrives as an int.
    value = config.get(key)
    return default if value is None else str(value).strip()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
