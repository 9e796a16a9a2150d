"""Domain errors. Each carries an HTTP status and a code; they are mapped to responses in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Something the caller asked for cannot be done; the message says why."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_json(self) -> dict[str, dict[str, str | None]]:
        """The error as the API's error object."""
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


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
