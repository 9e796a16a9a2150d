"""The transactional outbox: effects written with the changes that cause them, applied by workers.

Its room: models (the table), service (claim, apply, mark, retry, status), worker (the loop, as a
thread or `flask worker`), cli and views (the admin page). Events and `record_event` are in
incidents.events.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Share the app's subscriptions with its sessions, wake the worker on commits, register the commands."""
    # Imported here, not above: incidents.events imports .models from this package, and a use case
    # module importing events must not drag the worker (which imports events) into its import.
    from incidents import events

    from . import cli, worker

    events.init_app(app)
    worker.init_app(app)
    cli.init_app(app)
