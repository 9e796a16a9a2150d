"""Domain errors. Each carries an HTTP status and a code; they are mapped to responses in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Something the caller asked for cannot be done; the message says why."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # What a client needs to put things right: the current text on a stale save, the findings, ...
        self.details = details

    def as_json(self) -> dict[str, dict[str, Any]]:
        """The error as the API's error object."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadRequest(DomainError):
    """The request could not be read: malformed JSON, wrong types, unknown fields."""


class InvalidInput(DomainError):
    """The request was readable but breaks a rule of the domain."""

    status = 422
    code = "invalid"


class AuthenticationRequired(DomainError):
    """No valid credentials came with the request."""

    status = 401
    code = "unauthenticated"


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """No such thing, or nothing the caller may see."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request clashes with what is already stored."""

    status = 409
    code = "conflict"
