"""What happened, as plain dataclasses, and who is told: the subscriptions and `record_event`.

An event carries ids and a few facts, never ORM objects: its handlers run later, in a worker, and
read the database again for the rest. Every event turns into a JSON dict and back (`to_payload`,
`from_payload`), which is what the outbox stores.

A use case calls `record_event(session, event)` before it commits: one outbox row per handler
subscribed to the event's type goes into the same transaction, so the change and what it owes
the rest of the world are committed together or not at all. `incidents` knows none of its
subscribers: packages (search, integrations) call `subscribe` in their init_app.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from flask import Flask
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from .database import EXTENSION
from .models import utcnow
from .outbox.models import OUTBOX_TABLE, PENDING

SUBSCRIPTIONS = "kintsugi.subscriptions"
# Set in a session's info by record_event and taken by its after_commit listener, which wakes the
# worker thread: only a commit that wrote outbox rows wakes it.
ROWS_WRITTEN = "kintsugi.outbox_rows_written"
HANDLER_NAME_MAX = 100

_EVENT_CLASSES: dict[str, type[Event]] = {}


class EventError(ValueError):
    """An outbox payload that is not an event this code knows: an unknown type or fields that do not fit."""


@dataclass(frozen=True)
class Event:
    """Something that happened; subclasses name a stable `type` ("incident.declared") stored in the outbox."""

    type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.type or cls.type in _EVENT_CLASSES:
            raise TypeError(f"{cls.__name__} needs a `type` of its own, not {cls.type!r}")
        _EVENT_CLASSES[cls.type] = cls


@dataclass(frozen=True)
class IncidentDeclared(Event):
    """An incident was declared (from a page, the API, a pager, Slack or an import)."""

    type: ClassVar[str] = "incident.declared"
    incident_id: int
    actor_id: int | None
    actor_name: str
    source: str


@dataclass(frozen=True)
class IncidentChanged(Event):
    """Fields of an incident changed; `changed` names them (status, severity, title, labels, ...)."""

    type: ClassVar[str] = "incident.changed"
    incident_id: int
    actor_id: int | None
    actor_name: str
    source: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ChatChannelLinked(Event):
    """A chat channel was linked to an incident (moved from `previous_incident_id` when it spoke of another)."""

    type: ClassVar[str] = "chat.channel_linked"
    incident_id: int
    provider: str
    channel_id: str
    actor_id: int | None
    previous_incident_id: int | None = None


@dataclass(frozen=True)
class TimelineEntriesRecorded(Event):
    """Entries were added to one incident's timeline by one use case call.

    One event for the whole call, not one per entry: a pager delivery can add 50 entries to an
    incident at once, and every handler wants the incident, not the entry (the search index
    reindexes the incident once; Slack posts one summary). Per entry, a storm would write 50
    rows per handler and apply each. A handler that cares about single entries reads them by
    `entry_ids`, which are in the order they were recorded. A pager delivery writes its entries
    in one statement that returns no ids: its event has no `entry_ids`, and a handler reads the
    incident's timeline.
    """

    type: ClassVar[str] = "timeline.entries_recorded"
    incident_id: int
    entry_ids: tuple[int, ...]
    source: str


@dataclass(frozen=True)
class TimelineEntryCorrected(Event):
    """A timeline entry's text or time was corrected (its revision is kept)."""

    type: ClassVar[str] = "timeline.entry_corrected"
    incident_id: int
    entry_id: int
    actor_id: int | None


@dataclass(frozen=True)
class TimelineEntryDeleted(Event):
    """A timeline entry was deleted."""

    type: ClassVar[str] = "timeline.entry_deleted"
    incident_id: int
    entry_id: int
    actor_id: int | None


@dataclass(frozen=True)
class PostmortemStarted(Event):
    """A post-mortem was started for an incident."""

    type: ClassVar[str] = "postmortem.started"
    postmortem_id: int
    incident_id: int
    actor_id: int | None


@dataclass(frozen=True)
class PostmortemChanged(Event):
    """A post-mortem changed; `what` says which part (document, factors, status, ...)."""

    type: ClassVar[str] = "postmortem.changed"
    postmortem_id: int
    incident_id: int
    actor_id: int | None
    what: str


@dataclass(frozen=True)
class PostmortemPublished(Event):
    """A post-mortem was published, for everyone to find."""

    type: ClassVar[str] = "postmortem.published"
    postmortem_id: int
    incident_id: int
    actor_id: int | None


@dataclass(frozen=True)
class ActionItemChanged(Event):
    """An action item (a countermeasure) was added or changed."""

    type: ClassVar[str] = "action_item.changed"
    action_item_id: int
    postmortem_id: int
    actor_id: int | None


@dataclass(frozen=True)
class ChatHistoryRequested(Event):
    """Someone asked for the history of an incident's linked channels (of one chat provider) to be read
    into its chat log: the provider's integration reads it later, page by page."""

    type: ClassVar[str] = "chat.history_requested"
    incident_id: int
    provider: str
    channel_ids: tuple[str, ...]
    actor_id: int | None
    actor_name: str


def event_types() -> list[str]:
    """Every event type this code knows, by its stored name."""
    return sorted(_EVENT_CLASSES)


def event_class(type_name: str) -> type[Event]:
    """The event class of a stored type name; EventError when no such event is known."""
    try:
        return _EVENT_CLASSES[type_name]
    except KeyError:
        raise EventError(f"unknown event type {type_name!r} (known: {', '.join(sorted(_EVENT_CLASSES))})") from None


def to_payload(event: Event) -> dict[str, Any]:
    """The event's fields as a JSON-ready dict (tuples become lists, datetimes ISO 8601 text)."""
    return {field.name: _plain(getattr(event, field.name)) for field in dataclasses.fields(event)}


def from_payload(type_name: str, payload: Mapping[str, Any]) -> Event:
    """The event a stored (type, payload) describes; EventError when they do not make one.

    Rows outlive releases. A field an event gained since the row was written takes its default, and
    one it has lost is left out, so a deploy parks nothing that still makes sense; a field it needs
    and cannot default is an error. Add fields with defaults; never reuse a name for another meaning.
    """
    cls = event_class(type_name)
    hints = _field_types(cls)
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing = required - set(payload)
    if missing:
        raise EventError(f"{type_name} payload lacks {sorted(missing)}, expected {sorted(hints)}")
    try:
        return cls(**{name: _revive(hints[name], value) for name, value in payload.items() if name in hints})
    except (TypeError, ValueError) as exc:
        raise EventError(f"{type_name} payload does not fit: {exc}") from exc


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _revive(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list):
            raise EventError(f"expected a list, got {value!r}")
        return tuple(value)
    if hint is datetime or datetime in typing.get_args(hint):
        return datetime.fromisoformat(value)
    return value


_HINTS: dict[type[Event], dict[str, Any]] = {}


def _field_types(cls: type[Event]) -> dict[str, Any]:
    # Resolved once per class: the annotations are strings under `from __future__ import annotations`.
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = {field.name: hints[field.name] for field in dataclasses.fields(cls)}
    return _HINTS[cls]


Handler = Callable[[Event], None]
# Called with every event of one worker's batch for that handler at once, in the order written.
BatchHandler = Callable[[Sequence[Event]], None]


class Subscriptions:
    """Which handlers, by stable name, want which event types; one per app, shared by its sessions."""

    def __init__(self) -> None:
        self._handlers: dict[str, dict[str, Handler]] = {}
        self._batch_handlers: dict[str, BatchHandler] = {}

    def add(self, event_type: str, handler_name: str, handler: Handler) -> None:
        """Subscribe a named handler to an event type; a name subscribes once per type."""
        event_class(event_type)  # a typo fails at start-up, not as rows nobody applies
        if not handler_name or len(handler_name) > HANDLER_NAME_MAX:
            raise ValueError(f"a handler name is 1 to {HANDLER_NAME_MAX} characters, not {handler_name!r}")
        if handler_name in self._batch_handlers:
            raise ValueError(f"{handler_name!r} already takes its events in batches")
        handlers = self._handlers.setdefault(event_type, {})
        if handler_name in handlers:
            raise ValueError(f"{handler_name!r} is already subscribed to {event_type}")
        handlers[handler_name] = handler

    def add_batch(self, event_types: Sequence[str], handler_name: str, handler: BatchHandler) -> None:
        """Subscribe a named handler that takes a batch's events together (one index commit for 200)."""
        for event_type in event_types:
            self.add(event_type, handler_name, lambda event: handler([event]))
        self._batch_handlers[handler_name] = handler

    def batch_handler(self, handler_name: str) -> BatchHandler | None:
        """The handler that takes this name's events in batches, if it was subscribed so."""
        return self._batch_handlers.get(handler_name)

    def remove(self, handler_name: str) -> None:
        """Unsubscribe a handler from every event type (its rows already written stay, for a worker
        that has it)."""
        for handlers in self._handlers.values():
            handlers.pop(handler_name, None)
        self._batch_handlers.pop(handler_name, None)

    def handler_names(self, event_type: str) -> list[str]:
        """The names of the handlers subscribed to an event type, in the order they subscribed."""
        return list(self._handlers.get(event_type, ()))

    def handler(self, event_type: str, handler_name: str) -> Handler | None:
        """The handler a stored row names, or None when no such handler is subscribed in this process."""
        return self._handlers.get(event_type, {}).get(handler_name)


def subscriptions_of(app: Flask) -> Subscriptions:
    """The app's subscriptions, made on first use."""
    found: Subscriptions = app.extensions.setdefault(SUBSCRIPTIONS, Subscriptions())
    return found


def subscribe_batch(app: Flask, events: Sequence[str | type[Event]], handler_name: str, handler: BatchHandler) -> None:
    """Like `subscribe`, for a handler whose work is cheaper together (one search index commit for a
    batch of changes): a worker calls it once with all of its batch's events for that handler, in
    the order they were written. It succeeds or fails as a whole: raising retries every row of the
    batch. Each event is still its own outbox row, with its own attempts."""
    names = [event if isinstance(event, str) else event.type for event in events]
    subscriptions_of(app).add_batch(names, handler_name, handler)


def unsubscribe(app: Flask, handler_name: str) -> None:
    """Stop writing rows for a handler in this app (an app that serves a single purpose, or a test of
    the outbox alone, which would otherwise count the search index's rows too)."""
    subscriptions_of(app).remove(handler_name)


def subscribe(app: Flask, event: str | type[Event], handler_name: str, handler: Handler) -> None:
    """Have `handler(event)` called, by a worker, after each committed event of that type.

    Call it from a package's init_app. `handler_name` is stored in each outbox row ("search.index",
    "slack.notify"): keep it stable across releases, or rows written before a rename are parked as
    having no handler. Delivery is at least once: a handler may be called again for an event it
    already applied (its worker was killed before it could say so), so it must be idempotent.

    The handler runs in an app context of its own: `get_session()` gives it a fresh session, and
    it commits what it writes itself, like any use case. Raising means "try again later": the row
    is retried with backoff, then parked for an admin after its last attempt.
    """
    type_name = event if isinstance(event, str) else event.type
    subscriptions_of(app).add(type_name, handler_name, handler)


def init_app(app: Flask) -> None:
    """Make the app's subscriptions reachable from each of its sessions, without Flask (session.info)."""
    factory: sessionmaker[Session] = app.extensions[EXTENSION]
    # Each session gets a shallow copy of the factory's info, so they all share this one object.
    factory.configure(info={**(factory.kw.get("info") or {}), SUBSCRIPTIONS: subscriptions_of(app)})


def has_subscribers(session: Session, event: type[Event]) -> bool:
    """Whether anyone acts on events of this type here (a use case that is pointless without one says so)."""
    subscriptions: Subscriptions | None = session.info.get(SUBSCRIPTIONS)
    return subscriptions is not None and bool(subscriptions.handler_names(event.type))


def record_event(session: Session, event: Event) -> None:
    """Write one outbox row per handler subscribed to the event into the session's transaction.

    It does not commit: the use case's commit keeps the rows with the change, and its rollback
    drops both. Ids the event carries must exist already (flush first). No subscriber, no row.
    """
    subscriptions: Subscriptions | None = session.info.get(SUBSCRIPTIONS)
    if subscriptions is None:
        raise RuntimeError("this session has no subscriptions: open it through the app's session factory (get_session)")
    names = subscriptions.handler_names(event.type)
    if not names:
        return
    payload = to_payload(event)
    now = utcnow()
    rows = [
        {
            "event_type": event.type,
            "payload": payload,
            "handler": name,
            "state": PENDING,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for name in names
    ]
    # Core, not the ORM's bulk insert: a third of the cost, and nothing here needs identities.
    session.connection().execute(insert(OUTBOX_TABLE), rows)
    session.info[ROWS_WRITTEN] = True
