"""Browser hardening: a strict Content-Security-Policy, safe headers, whole bodies, no NUL characters from
people, and which proxies' forwarded headers are believed."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, Request, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import cached_property

from .errors import BadRequest
from .rendering import parse_image_hosts
from .settings import whole_number

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


# A chain longer than this is a typing mistake, not a deployment.
MOST_PROXIES = 10


def init_app(app: Flask) -> None:
    """Add the security headers to every answer (KINTSUGI_IMAGE_HOSTS is checked here, at start),
    refuse NUL characters from people, and believe the forwarded headers of as many proxies as
    KINTSUGI_TRUSTED_PROXIES says (none by default)."""
    app.request_class = WholeBodyRequest
    app.extensions[POLICY] = content_security_policy(parse_image_hosts(app.config.get("IMAGE_HOSTS", "")))
    app.after_request(_headers)
    app.before_request(_refuse_nul)
    trust_proxies(app)


def trust_proxies(app: Flask) -> None:
    """Take the client's address, scheme and host from the X-Forwarded-For, -Proto and -Host headers,
    as the configured number of proxies in front of Kintsugi wrote them (Werkzeug's ProxyFix: the n-th
    value from the right, the one the outermost trusted proxy saw, not what the client claims).

    Zero (the default) believes no forwarded header: anybody can send one, so believing it without a
    proxy that overwrites it would let a client choose its own address (and escape sign-in throttling).
    """
    proxies = whole_number(app.config, "TRUSTED_PROXIES", maximum=MOST_PROXIES)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]


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


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", current_app.extensions[POLICY])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
