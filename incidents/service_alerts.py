"""Use cases on pager and alert deliveries: store each raw and apply what it says, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import queries_alerts
from .alert_effects import KEY_MAX, apply_translation, clip, mark_undecipherable
from .alerts import RoutingRule, Translation
from .errors import DomainError, NotFound
from .models import Delivery, DeliveryOutcome, Source, utcnow

# A concurrent delivery about the same alert can win a unique key; the loser starts over and
# then finds the winner's rows.
ATTEMPTS = 5


@dataclass(frozen=True)
class DeliveryReceipt:
    """What became of a delivery: stored (with its outcome) or recognised as one seen before."""

    delivery_id: int | None
    duplicate: bool
    outcome: DeliveryOutcome | None = None
    problem: str = ""
    incident_ids: tuple[int, ...] = ()


def receive_delivery(
    session: Session,
    *,
    source: Source,
    delivery_key: str,
    headers: Mapping[str, str],
    body: bytes,
    translation: Translation,
    rules: Sequence[RoutingRule],
) -> DeliveryReceipt:
    """Store a delivery raw and apply its commands in one transaction; a delivery seen before changes nothing."""
    key = clip(delivery_key, KEY_MAX)
    return _retrying(session, lambda: _receive_once(session, source, key, headers, body, translation, rules))


def replay_delivery(
    session: Session, *, delivery_id: int, translation: Translation, rules: Sequence[RoutingRule]
) -> DeliveryReceipt:
    """Apply a stored delivery again with today's translation (after an upgrade); idempotent."""

    def once() -> DeliveryReceipt:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            raise NotFound(f"delivery {delivery_id} not found")
        try:
            touched = apply_translation(session, delivery, translation, rules)
            session.commit()
            return _receipt(delivery, touched)
        except DomainError as exc:
            session.rollback()
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            mark_undecipherable(delivery, exc.message)
            session.commit()
            return _receipt(delivery, ())

    return _retrying(session, once)


def _retrying(session: Session, attempt: Callable[[], DeliveryReceipt]) -> DeliveryReceipt:
    """Run a delivery's transaction again when a concurrent one won a uniqueness race (ATTEMPTS times)."""
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except IntegrityError:
            session.rollback()
            if number == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _receive_once(
    session: Session,
    source: Source,
    delivery_key: str,
    headers: Mapping[str, str],
    body: bytes,
    translation: Translation,
    rules: Sequence[RoutingRule],
) -> DeliveryReceipt:
    if queries_alerts.delivery_seen(session, source=source, delivery_key=delivery_key):
        session.rollback()
        return DeliveryReceipt(delivery_id=None, duplicate=True)
    delivery = _new_delivery(source, delivery_key, headers, body)
    session.add(delivery)
    session.flush()
    try:
        touched = apply_translation(session, delivery, translation, rules)
    except DomainError as exc:
        # Nothing half-stored: drop every effect and keep only the raw delivery, to replay later.
        session.rollback()
        delivery = _new_delivery(source, delivery_key, headers, body)
        mark_undecipherable(delivery, exc.message)
        session.add(delivery)
        touched = ()
    session.commit()
    return _receipt(delivery, touched)


def _new_delivery(source: Source, delivery_key: str, headers: Mapping[str, str], body: bytes) -> Delivery:
    return Delivery(
        source=source,
        delivery_key=delivery_key,
        headers={clip(k, 200): clip(v, 2000) for k, v in headers.items()},
        body=body,
        outcome=DeliveryOutcome.UNDECIPHERABLE,
        received_at=utcnow(),
    )


def _receipt(delivery: Delivery, touched: Sequence[int]) -> DeliveryReceipt:
    return DeliveryReceipt(
        delivery_id=delivery.id,
        duplicate=False,
        outcome=delivery.outcome,
        problem=delivery.problem,
        incident_ids=tuple(touched),
    )
