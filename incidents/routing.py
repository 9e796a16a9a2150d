"""How every route reads a record's id from its URL: ASCII digits, within what the database stores."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from .models import INT_MAX


class RecordId(IntegerConverter):
    """`<int:...>` in every route. Werkzeug's own reads any Unicode digits and any size, and an id past an
    INTEGER column (2**31 on PostgreSQL, 2**63 on SQLite) failed in the database, a 500."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        """The id, or a 404 when it is beyond what the database stores."""
        # Raised here rather than as a failed match, which Werkzeug answers 405 when another method's
        # route has the same path: an id no record can have is a 404, like any id that does not exist.
        if len(value) > len(str(INT_MAX)) or int(value) > INT_MAX:
            raise NotFound(f"nothing has the id {value[:20]}")
        return int(value)


def init_app(app: Flask) -> None:
    """Make RecordId the `int` converter; before any blueprint is registered, so that every route uses it."""
    app.url_map.converters["int"] = RecordId
