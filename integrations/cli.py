"""`flask integrations replay`: apply kept deliveries again with the current translations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from incidents.alerts.models import DeliveryOutcome
from incidents.database import get_session
from incidents.models import INT_MAX

from .replaying import replay

integrations_cli = AppGroup("integrations", help="Pager and alert deliveries.")


@integrations_cli.command("replay")
@click.option(
    "--id", "delivery_ids", type=click.IntRange(1, INT_MAX), multiple=True, help="Only this delivery (repeatable)."
)
def replay_command(delivery_ids: tuple[int, ...]) -> None:
    """Reprocess undecipherable deliveries (or those given with --id); already applied effects are not doubled."""
    results = replay(current_app, get_session(), delivery_ids)
    if not results:
        click.echo("No delivery to replay.")
    for delivery_id, source, receipt in results:
        outcome = receipt.outcome.value if receipt.outcome else "unknown"
        detail = f": {receipt.problem}" if receipt.problem else ""
        click.echo(f"Delivery {delivery_id} ({source.value}): {outcome}{detail}")
    still = sum(1 for *_, receipt in results if receipt.outcome is DeliveryOutcome.UNDECIPHERABLE)
    if still:
        click.echo(f"{still} still not understood; they stay on the admin page.", err=True)
