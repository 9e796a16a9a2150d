"""Use cases on pager and alert deliveries: store each raw and apply what it says, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from ..database import writer_turn
from ..errors import DomainError, NotFound
from ..models import TEXT_MAX, Source, utcnow
from . import rows
from .commands import RoutingRule, Translation
from .effects import apply_translation, delivery_outcome, mark_undecipherable
from .models import Delivery, DeliveryOutcome
from .writes import KEY_MAX, clip

log = logging.getLogger(__name__)

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

    def once() -> DeliveryReceipt:
        with writer_turn(session):
            return _receive_once(session, source, key, headers, body, translation, rules)

    return _retrying(session, once)


def replay_delivery(
    session: Session, *, delivery_id: int, translation: Translation, rules: Sequence[RoutingRule]
) -> DeliveryReceipt:
    """Apply a stored delivery again with today's translation (after an upgrade); idempotent."""

    def once() -> DeliveryReceipt:
        with writer_turn(session):
            return _replay_once(session, delivery_id, translation, rules)

    return _retrying(session, once)


def _replay_once(
    session: Session, delivery_id: int, translation: Translation, rules: Sequence[RoutingRule]
) -> DeliveryReceipt:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found")
    received_at = delivery.received_at
    try:
        touched = apply_translation(session, translation, rules, received_at=received_at)
        delivery.outcome, delivery.problem = delivery_outcome(translation)
        delivery.processed_at = utcnow()
        session.commit()
        return _receipt(delivery.id, delivery.outcome, delivery.problem, touched)
    except Exception as exc:
        problem = _not_applicable(exc)
        if problem is None:
            raise
        session.rollback()
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        mark_undecipherable(delivery, problem)
        session.commit()
        return _receipt(delivery.id, delivery.outcome, delivery.problem, ())


def _not_applicable(exc: Exception) -> str | None:
    """Why a delivery cannot be applied, when that is down to what it says: a rule of the domain, or a value
    the database or Python cannot hold (PostgreSQL refuses NUL and numbers past a column). None when the
    fault is elsewhere (the database away, a uniqueness race to retry): then the sender is asked to retry."""
    if isinstance(exc, DomainError):
        return exc.message
    cause: BaseException = exc
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        cause = exc.orig or exc  # a value SQLAlchemy could not bind
    if isinstance(exc, DataError) or isinstance(cause, ArithmeticError | ValueError):
        log.exception("a delivery could not be applied; it is kept as not understood")
        first_line = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        return f"could not be applied ({type(cause).__name__}: {first_line})"
    return None


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
    received_at = utcnow()
    kept = {clip(k, 200): clip(v, 2000) for k, v in headers.items()}
    outcome, problem = delivery_outcome(translation)

    def store(outcome: DeliveryOutcome, problem: str) -> int | None:
        return rows.store_delivery(
            session,
            source=source,
            delivery_key=delivery_key,
            headers=kept,
            body=body,
            outcome=outcome,
            problem=problem,
            received_at=received_at,
        )

    delivery_id = store(outcome, problem)
    if delivery_id is None:
        session.rollback()
        return DeliveryReceipt(delivery_id=None, duplicate=True)
    try:
        touched = apply_translation(session, translation, rules, received_at=received_at)
    except Exception as exc:
        reason = _not_applicable(exc)
        if reason is None:
            raise
        # Nothing half-stored: drop every effect and keep only the raw delivery, to replay later.
        session.rollback()
        outcome, problem, touched = DeliveryOutcome.UNDECIPHERABLE, clip(reason, TEXT_MAX), ()
        delivery_id = store(outcome, problem)
        if delivery_id is None:
            session.rollback()
            return DeliveryReceipt(delivery_id=None, duplicate=True)
    session.commit()
    return _receipt(delivery_id, outcome, problem, touched)


def _receipt(delivery_id: int, outcome: DeliveryOutcome, problem: str, touched: Sequence[int]) -> DeliveryReceipt:
    return DeliveryReceipt(
        delivery_id=delivery_id,
        duplicate=False,
        outcome=outcome,
        problem=problem,
        incident_ids=tuple(touched),
    )
