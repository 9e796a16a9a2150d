"""Flask commands: `flask worker` drains the outbox in the foreground; `flask outbox status` and `retry`."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ..database import get_session
from ..errors import DomainError
from ..models import INT_MAX
from . import service
from .worker import WAKE, Worker

outbox_cli = AppGroup("outbox", help="The outbox of effects owed to handlers (search, Slack, ...).")
JOIN_STEP_SECONDS = 0.2


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(worker_command)
    app.cli.add_command(outbox_cli)


@click.command("worker")
@with_appcontext
@click.option("--stop-when-empty", is_flag=True, help="Stop once no row is due (a one-off drain).")
@click.option("--max-seconds", type=float, help="Stop after this long.")
def worker_command(stop_when_empty: bool, max_seconds: float | None) -> None:
    """Drain the outbox until SIGTERM or SIGINT; run as many as you like, on any host."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = Worker(app)
    stop = threading.Event()
    wake: threading.Event = app.extensions[WAKE]

    # The loop runs in a thread of its own, so that the handler below never interrupts this
    # thread inside one of the Events' locks (which would deadlock when it sets them).
    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        wake.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    loop = threading.Thread(
        target=worker.run,
        args=(stop, wake),
        kwargs={"stop_when_empty": stop_when_empty, "max_seconds": max_seconds},
        name=f"outbox-worker {worker.id}",
    )
    click.echo(f"Outbox worker {worker.id} started.", err=True)
    try:
        loop.start()
        while loop.is_alive():
            loop.join(JOIN_STEP_SECONDS)
    finally:
        stop.set()
        loop.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    done = worker.totals
    click.echo(
        f"Outbox worker {worker.id} stopped: {done.applied} applied, {done.retried} to retry, {done.parked} parked.",
        err=True,
    )


@outbox_cli.command("status")
def status_command() -> None:
    """Print how many rows are pending, parked and applied, and the age of the oldest pending one."""
    found = service.status(get_session())
    oldest = "none" if found.oldest_pending_seconds is None else f"{found.oldest_pending_seconds:.1f} s"
    click.echo(f"pending: {found.pending}\nparked: {found.parked}\napplied: {found.applied}\noldest pending: {oldest}")


@outbox_cli.command("retry")
@click.argument("row_ids", type=click.IntRange(1, INT_MAX), nargs=-1, required=True)
def retry_command(row_ids: tuple[int, ...]) -> None:
    """Make parked rows ROW_IDS pending again (see /admin/outbox for what failed)."""
    for row_id in row_ids:
        try:
            service.retry_parked(get_session(), row_id=row_id)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"Outbox row {row_id} is pending again.")
