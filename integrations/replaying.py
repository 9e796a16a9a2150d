"""Reprocess kept deliveries with today's translations: after an upgrade teaches us what they meant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from flask import Flask
from sqlalchemy.orm import Session

from incidents.alerts.commands import Translation
from incidents.alerts.queries import deliveries_to_replay, delivery_content
from incidents.alerts.service import DeliveryReceipt, replay_delivery
from incidents.models import Source

from .alertmanager.translate import translate_notification
from .opsgenie.translate import translate_action
from .pagerduty.translate import translate_event
from .receiving import rules_of

TRANSLATORS: dict[Source, Callable[[bytes], Translation]] = {
    Source.ALERTMANAGER: translate_notification,
    Source.GRAFANA: partial(translate_notification, source=Source.GRAFANA),
    Source.PAGERDUTY: translate_event,
    Source.OPSGENIE: translate_action,
}


def replay(app: Flask, session: Session, delivery_ids: Sequence[int] = ()) -> list[tuple[int, Source, DeliveryReceipt]]:
    """Replay the given deliveries, or every undecipherable one, oldest first; each in its own transaction."""
    results = []
    for delivery_id in deliveries_to_replay(session, delivery_ids=delivery_ids):
        source, body = delivery_content(session, delivery_id=delivery_id)
        receipt = replay_delivery(
            session, delivery_id=delivery_id, translation=TRANSLATORS[source](body), rules=rules_of(app)
        )
        results.append((delivery_id, source, receipt))
    return results
