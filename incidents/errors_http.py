"""Errors mapped to answers in one place: JSON for /api and machines, a page for people."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .errors import DomainError
from .writer_turns import TurnNotTaken

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(TurnNotTaken, _database_busy)


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/integrations/")) or request.path == "/healthz"


def _answer(status: int, code: str, message: str, field: str | None = None) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message, "field": field}}), status
    return render_template("error.html", status=status, message=message), status


def _domain_error(exc: DomainError) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(exc.as_json()), exc.status
    return _answer(exc.status, exc.code, exc.message, exc.field)


def _csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
    return _answer(400, "csrf", "The form expired or was not sent from this site. Reload the page and try again.")


def _http_error(exc: HTTPException) -> tuple[Response | str, int]:
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    return _answer(status, code, exc.description or exc.name)


def _database_unavailable(exc: OperationalError) -> tuple[Response | str, int]:
    # Senders retry on 503, so nothing they deliver is lost while the database is away.
    log.error("database unavailable: %s", exc)
    return _answer(503, "unavailable", "The database is unavailable; try again shortly.")


def _database_busy(exc: TurnNotTaken) -> tuple[Response | str, int]:
    # As for an unavailable database: senders retry, nothing is lost.
    log.warning("%s", exc)
    return _answer(503, "busy", "The database is busy; try again shortly.")
