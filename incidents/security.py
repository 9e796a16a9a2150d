"""Browser hardening: a strict Content-Security-Policy, safe headers, and limits on failed sign-ins."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, Request, Response, current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property

from .errors import BadRequest
from .rendering import parse_image_hosts

POLICY = "kintsugi.content_security_policy"


def content_security_policy(image_hosts: tuple[str, ...]) -> str:
    """No inline scripts or styles anywhere (every script and stylesheet is a file served by us), and
    images only from Kintsugi and the hosts an admin allows: the browser's own check behind the
    sanitizer's, which also holds for HTML stored before a host was taken off the list."""
    images = " ".join(["'self'", "data:", *(f"https://{host}" for host in image_hosts)])
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "object-src 'none'",
            "frame-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


EXTENSION = "kintsugi.login_limiter"


def init_app(app: Flask) -> None:
    """Add the security headers to every answer (KINTSUGI_IMAGE_HOSTS is checked here, at start),
    refuse NUL characters from people, and set up the failed sign-in counter."""
    app.request_class = WholeBodyRequest
    app.extensions[POLICY] = content_security_policy(parse_image_hosts(app.config.get("IMAGE_HOSTS", "")))
    app.after_request(_headers)
    app.before_request(_refuse_nul)
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[EXTENSION] = MovingWindowRateLimiter(storage)


class WholeBodyRequest(Request):
    """A request whose body is read whole or refused: a chunked body (no Content-Length) over
    MAX_CONTENT_LENGTH is a 413. Werkzeug stops reading such a body at the limit and hands over what
    it read, so a delivery, a form or a JSON body would be kept cut short as if that were all."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if self.content_length is not None or not chunked or not limit:
            return super().stream  # Werkzeug refuses a declared length over the limit
        # A server's chunked input may hand over one chunk a read: read to the end, or one byte past the limit.
        source: IO[bytes] = self.environ["wsgi.input"]
        parts, size = [], 0
        while size <= limit:
            part = source.read(min(64 * 1024, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        if size > limit:
            raise RequestEntityTooLarge(f"the body is over {limit:,} bytes")
        return io.BytesIO(b"".join(parts))


TOLERATES_NUL = "_kintsugi_tolerates_nul"
View = TypeVar("View", bound=Callable[..., Any])


def tolerates_nul(view: View) -> View:
    """Mark a view that stores nothing it is sent and drops control characters itself (a search): a
    NUL character there is not an error worth a 400."""
    setattr(view, TOLERATES_NUL, True)
    return view


def _refuse_nul() -> None:
    """A NUL character in a query string or a form field is a 400: no text a person means holds one,
    and PostgreSQL refuses to store it. Senders (/integrations/) are kept whatever they send."""
    if request.path.startswith("/integrations/"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, TOLERATES_NUL, False):
        return
    for where, values in (("query", request.args), ("form", request.form)):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                raise BadRequest(
                    f"the {where} field {name.replace(chr(0), '')[:100]!r} holds a NUL character",
                    field=name.replace(chr(0), "")[:100],
                )


def sign_in_blocked(email: str | None) -> int | None:
    """Seconds until another sign-in may be tried, when this address or account (if known) failed too often."""
    limiter: MovingWindowRateLimiter = current_app.extensions[EXTENSION]
    limit = parse(current_app.config["LOGIN_FAILURE_LIMIT"])
    waits = []
    for scope, key in _scopes(email):
        if not limiter.test(limit, "sign-in", scope, key):
            reset_at, _remaining = limiter.get_window_stats(limit, "sign-in", scope, key)
            waits.append(max(1, int(reset_at - time.time())))
    return max(waits) if waits else None


def record_failed_sign_in(email: str | None) -> None:
    """Count a failed sign-in against both the address and the account (when known: single sign-on may not say)."""
    limiter: MovingWindowRateLimiter = current_app.extensions[EXTENSION]
    limit = parse(current_app.config["LOGIN_FAILURE_LIMIT"])
    for scope, key in _scopes(email):
        limiter.hit(limit, "sign-in", scope, key)


def _scopes(email: str | None) -> list[tuple[str, str]]:
    scopes = [("ip", request.remote_addr or "?")]
    if email and email.strip():
        scopes.append(("email", email.strip().lower()))
    return scopes


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", current_app.extensions[POLICY])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
