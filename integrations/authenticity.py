"""Is a delivery from the sender we configured? Shared tokens and HMAC signatures, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from werkzeug.datastructures import Headers

from incidents.errors import AuthenticationRequired, BadRequest, PermissionDenied

log = logging.getLogger(__name__)

# A sender that cannot sign sends the shared token as a Bearer token or in this header.
TOKEN_HEADER = "X-Kintsugi-Token"


def secrets_of(config: Mapping[str, Any], name: str) -> list[str]:
    """The configured secrets of a setting: a comma-separated string or a list; empty when unset."""
    value = config.get(name)
    if value is None:
        return []
    values = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def require_token(headers: Headers, tokens: list[str], *, setting: str, sender: str) -> None:
    """Accept the delivery only with the shared token, as 'Authorization: Bearer' or X-Kintsugi-Token."""
    if not tokens:
        refuse(AuthenticationRequired(f"{sender} deliveries are refused until KINTSUGI_{setting} is set"), sender)
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    given = credentials.strip() if scheme.lower() == "bearer" else headers.get(TOKEN_HEADER, "").strip()
    if not given:
        refuse(
            AuthenticationRequired(f"send the {sender} token as 'Authorization: Bearer <token>' or {TOKEN_HEADER}"),
            sender,
        )
    if not any(_same(given, token) for token in tokens):
        refuse(PermissionDenied(f"the {sender} token does not match"), sender)


def hmac_hex(secret: str, message: bytes) -> str:
    """Lowercase hex of HMAC-SHA256 of the message under the secret."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def any_signature_matches(signatures: Iterable[str], secrets: Iterable[str], message: bytes) -> bool:
    """Whether any given hex signature is the message's HMAC under any secret (rotation: old and new)."""
    wanted = [hmac_hex(secret, message) for secret in secrets]
    given = [s.strip().lower() for s in signatures if s.strip()]
    # Every pair is compared, so the time taken says nothing about which one matched.
    matches = [_same(g, w) for g in given for w in wanted]
    return any(matches)


def refuse(error: AuthenticationRequired | PermissionDenied | BadRequest, sender: str) -> NoReturn:
    """Log and raise a refusal; nothing of the delivery is stored."""
    log.warning("refused a %s delivery: %s", sender, error.message)
    raise error


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))
