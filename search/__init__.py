"""The org-wide library: search every incident and post-mortem, find similar ones, import old ones.

`incidents` never imports this package; it reads plain records from `incidents` and learns of
changes through the outbox.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire the library into the app: its commands (and, as they land, its index, pages and API)."""
    from .importing.cli import import_command

    app.cli.add_command(import_command)
