"""What a reader is told while the index cannot be read: a page or JSON saying it is being rebuilt
(503, so that a script retries), never an error page with a traceback behind it."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request

from .engine import IndexOutdated

log = logging.getLogger(__name__)
MESSAGE = (
    "The library's index was written by an older version and is being rebuilt; search again in a few "
    "minutes. (An administrator can rebuild it at once with `flask search reindex`.)"
)


def init_app(app: Flask) -> None:
    """Answer IndexOutdated with 503."""
    app.register_error_handler(IndexOutdated, _outdated)


def _outdated(exc: IndexOutdated) -> tuple[Response | str, int]:
    log.warning("%s", exc)
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "index_outdated", "message": MESSAGE, "field": None}}), 503
    return render_template("error.html", status=503, message=MESSAGE), 503
