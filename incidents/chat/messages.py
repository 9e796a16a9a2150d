"""Use case: what is said in a linked channel becomes the incident's chat log, and a marked message a
key moment of its timeline. One transaction per delivery; a delivery seen before changes nothing.

The chat integration verifies the delivery, reads it (pure translation) and finds out who spoke; this
room decides what it means for the incident. A message's identity is (provider, channel, ts): it is
one row however often it arrives, and an edit or deletion that overtakes the message it concerns is
kept so that the message, arriving late, is stored as edited or deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access import ensure_can_see, ensure_can_write
from ..actors import Sender, cut
from ..database import writer_turn
from ..errors import InvalidInput, NotFound
from ..models import NAME_MAX, URL_MAX, EntryKind, Incident, Source, TimelineEntry, User, utcnow
from ..timeline import NewEntry, record_entries, remove_entry, revise_entry
from ..validation import link
from .models import CHANNEL_ID_MAX, DELIVERY_KEY_MAX, TS_MAX, ChatDelivery, ChatMessage
from .queries import delivery_seen, incident_of_channel
from .service import SOURCES

# A Slack message holds up to 40,000 characters; the log keeps that much, with a mark past it.
MESSAGE_MAX = 40_000
ENTRY_TEXT_MAX = 5_000
FILES_KEPT = 20


@dataclass(frozen=True)
class Speaker:
    """Who wrote or marked a message: the workspace's id of them, their name, their account if known."""

    key: str
    name: str
    user_id: int | None = None


@dataclass(frozen=True)
class SharedFile:
    """A file shared with a message, kept as a link."""

    name: str
    url: str


@dataclass(frozen=True)
class Said:
    """A message as the workspace sent it (text already readable: mentions as names)."""

    channel_id: str
    ts: str
    author: Speaker
    text: str
    thread_ts: str | None = None
    files: tuple[SharedFile, ...] = ()
    permalink: str | None = None


@dataclass(frozen=True)
class Posted:
    """A message was posted in the channel."""

    message: Said


@dataclass(frozen=True)
class Edited:
    """A message was edited; it says this now."""

    message: Said


@dataclass(frozen=True)
class Deleted:
    """A message was deleted."""

    channel_id: str
    ts: str


@dataclass(frozen=True)
class Marked:
    """Someone marked a message as a key moment (a pin, a 📌); `message` when the event carried it."""

    channel_id: str
    ts: str
    mark: str
    message: Said | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class Unmarked:
    """A mark was taken off a message."""

    channel_id: str
    ts: str
    mark: str


ChatChange = Posted | Edited | Deleted | Marked | Unmarked


@dataclass(frozen=True)
class ChatReceipt:
    """What a delivery did: the incident it concerned (None: a channel linked to none), whether it was
    seen before, and the timeline entries it added or changed."""

    incident_id: int | None
    duplicate: bool = False
    entry_ids: tuple[int, ...] = field(default=())


def channel_of(change: ChatChange) -> str:
    """The channel a change happened in."""
    return change.message.channel_id if isinstance(change, Posted | Edited) else change.channel_id


def time_of_ts(ts: str) -> datetime:
    """The moment a Slack-style ts ("1732255380.000200", seconds since the epoch) names."""
    seconds, _, fraction = ts.partition(".")
    micro = int((fraction + "000000")[:6]) if fraction.isdigit() else 0
    return datetime.fromtimestamp(int(seconds), tz=UTC).replace(microsecond=micro)


def receive_chat_delivery(
    session: Session, *, provider: str, delivery_key: str, body: bytes, changes: Sequence[ChatChange]
) -> ChatReceipt:
    """Keep a delivery about one linked channel raw and apply its changes, in order, to the incident's
    chat log and timeline: an event is one change, a page of the channel's history many.

    A channel linked to no incident is none of Kintsugi's business: nothing is stored. A delivery key
    seen before changes nothing (Slack retries an event it thinks was lost).
    """
    source = SOURCES[provider]
    channels = {channel_of(change) for change in changes}
    if len(channels) != 1:
        raise InvalidInput("a chat delivery speaks of one channel", field="changes")
    incident_id = incident_of_channel(session, provider=provider, channel_id=channels.pop()[:CHANNEL_ID_MAX])
    if incident_id is None:
        return ChatReceipt(incident_id=None)
    key = delivery_key[:DELIVERY_KEY_MAX]
    if delivery_seen(session, provider=provider, delivery_key=key):
        return ChatReceipt(incident_id=incident_id, duplicate=True)
    try:
        # A busy channel sends events in bursts: on SQLite they take turns rather than poll the lock.
        with writer_turn(session):
            session.add(ChatDelivery(provider=provider, delivery_key=key, incident_id=incident_id, body=body))
            incident = session.get(Incident, incident_id)
            assert incident is not None  # the link's foreign key holds it
            session.flush()
            entries = [e for change in changes for e in _apply(session, provider, source, incident, change)]
            session.commit()
    except IntegrityError:
        # The same delivery (a retry sent while the first was at work) or the same message, at once.
        session.rollback()
        if delivery_seen(session, provider=provider, delivery_key=key):
            return ChatReceipt(incident_id=incident_id, duplicate=True)
        raise
    return ChatReceipt(incident_id=incident_id, entry_ids=tuple(dict.fromkeys(e.id for e in entries)))


def _apply(
    session: Session, provider: str, source: Source, incident: Incident, change: ChatChange
) -> list[TimelineEntry]:
    if isinstance(change, Posted | Edited):
        message = _message(session, provider, incident, change.message, edited=isinstance(change, Edited))
        return _follow_edit(session, message, source)
    if isinstance(change, Deleted):
        return _delete(session, provider, incident, change)
    if isinstance(change, Marked):
        return _mark(session, provider, source, incident, change)
    return _unmark(session, provider, change)


def _find(session: Session, provider: str, channel_id: str, ts: str) -> ChatMessage | None:
    return session.scalar(
        select(ChatMessage).where(
            ChatMessage.provider == provider,
            ChatMessage.channel_id == channel_id[:CHANNEL_ID_MAX],
            ChatMessage.ts == ts[:TS_MAX],
        )
    )


def _message(session: Session, provider: str, incident: Incident, said: Said, *, edited: bool) -> ChatMessage:
    """The log's row of a message, made or brought up to date (an edit wins over the message it edits)."""
    message = _find(session, provider, said.channel_id, said.ts)
    if message is None:
        message = _new_row(session, provider, incident, said.channel_id, said.ts)
        _fill(message, said)
        message.edited_at = utcnow() if edited else None
        return message
    if message.deleted_at is not None:
        return message  # a late copy of a message deleted since: it stays deleted
    # A 📌 that overtook its message, when Slack could not be asked for it, left a row without words.
    unknown = not message.author_key and not message.text and not message.files
    if (edited or unknown) and (cut(said.text, MESSAGE_MAX) != message.text or _files(said) != message.files):
        _fill(message, said)
        if edited:
            message.edited_at = utcnow()
    return message


def _new_row(session: Session, provider: str, incident: Incident, channel_id: str, ts: str) -> ChatMessage:
    """A message's row in the log, still without its words."""
    message = ChatMessage(
        provider=provider,
        channel_id=channel_id[:CHANNEL_ID_MAX],
        ts=ts[:TS_MAX],
        incident_id=incident.id,
        posted_at=time_of_ts(ts),
        marks=[],
        text="",
        files=[],
    )
    session.add(message)
    return message


def _fill(message: ChatMessage, said: Said) -> None:
    message.thread_ts = said.thread_ts[:TS_MAX] if said.thread_ts and said.thread_ts != said.ts else None
    message.author_key = said.author.key[:CHANNEL_ID_MAX]
    message.author_name = cut(said.author.name, NAME_MAX)
    message.author_id = said.author.user_id
    message.text = cut(said.text, MESSAGE_MAX)
    message.files = _files(said)
    if said.permalink:
        message.permalink = _permalink(said.permalink)


def _files(said: Said) -> list[dict[str, str]]:
    kept = []
    for shared in said.files[:FILES_KEPT]:
        url = _permalink(shared.url)
        if url:
            kept.append({"name": cut(shared.name, NAME_MAX) or "a file", "url": url})
    return kept


def _permalink(url: str) -> str | None:
    """A link worth keeping: http(s) and short enough; anything else is dropped, never an error."""
    try:
        return link(url[:URL_MAX], field="permalink")
    except InvalidInput:
        return None


def _entry_text(message: ChatMessage) -> str:
    text = message.text
    if message.files:
        names = ", ".join(f["name"] for f in message.files)
        text = f"{text}\n(shared: {names})" if text else f"Shared: {names}"
    return cut(text or "A message pinned in chat, whose text could not be read.", ENTRY_TEXT_MAX)


def _follow_edit(session: Session, message: ChatMessage, source: Source) -> list[TimelineEntry]:
    """An edited message's key-moment entry says what the message says now; its revision keeps the rest."""
    entry = message.entry
    if entry is None or entry.deleted_at is not None:
        return []
    sender = Sender(message.author_name or source.value)
    if revise_entry(session, entry, actor=sender, changes={"text": _entry_text(message)}):
        return [entry]
    return []


def _delete(session: Session, provider: str, incident: Incident, change: Deleted) -> list[TimelineEntry]:
    message = _find(session, provider, change.channel_id, change.ts)
    if message is None:
        # The deletion overtook its message: keep it, so the message arriving later stays deleted.
        message = _new_row(session, provider, incident, change.channel_id, change.ts)
    if message.deleted_at is None:
        message.deleted_at = utcnow()
    entry = message.entry
    if entry is None or entry.deleted_at is not None:
        return []
    remove_entry(session, entry, actor=Sender(message.author_name or provider))
    return [entry]


def _mark(session: Session, provider: str, source: Source, incident: Incident, change: Marked) -> list[TimelineEntry]:
    message = _find(session, provider, change.channel_id, change.ts)
    if message is None:
        said = change.message or Said(
            channel_id=change.channel_id, ts=change.ts, author=Speaker(key="", name=""), text=""
        )
        message = _message(session, provider, incident, said, edited=False)
    if message.deleted_at is not None:
        return []
    permalink = change.permalink or (change.message.permalink if change.message is not None else None)
    if permalink and not message.permalink:
        message.permalink = _permalink(permalink)
    if change.mark not in message.marks:
        message.marks = [*message.marks, change.mark]
    if message.entry is not None and message.entry.deleted_at is None:
        return []
    # A message marked again after every mark came off gets a new entry: the old one stays deleted.
    retracted = message.entry.id if message.entry is not None else None
    new = NewEntry(
        text=_entry_text(message),
        occurred_at=min(message.posted_at, utcnow()),
        kind=EntryKind.NOTE,
        evidence_url=message.permalink,
        is_key_moment=True,
        external_id=_entry_key(message, retracted),
        actor_name=message.author_name or f"someone in {provider}",
    )
    (entry,) = record_entries(session, incident, actor=Sender(provider.capitalize()), source=source, entries=[new])
    message.entry_id = entry.id
    message.entry = entry
    return [entry]


def _entry_key(message: ChatMessage, retracted: int | None) -> str:
    key = f"message:{message.channel_id}:{message.ts}"
    return key if retracted is None else f"{key}:after:{retracted}"


def _unmark(session: Session, provider: str, change: Unmarked) -> list[TimelineEntry]:
    message = _find(session, provider, change.channel_id, change.ts)
    if message is None or change.mark not in message.marks:
        return []
    message.marks = [mark for mark in message.marks if mark != change.mark]
    entry = message.entry
    if message.marks or entry is None or entry.deleted_at is not None:
        return []
    remove_entry(session, entry, actor=Sender(provider.capitalize()))
    return [entry]


def mark_chat_message(session: Session, *, actor: User, incident_id: int, message_id: int) -> TimelineEntry:
    """Make a message of the incident's chat log a key moment of its timeline, from Kintsugi's page
    (the message read in afterwards, that nobody pinned in the channel). Marking it again changes nothing."""
    ensure_can_write(actor)
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    message = session.get(ChatMessage, message_id)
    if message is None or message.incident_id != incident.id or message.deleted_at is not None:
        raise NotFound(f"message {message_id} not found in incident {incident_id}'s chat log")
    marked = Marked(message.channel_id, message.ts, f"kintsugi:{actor.id}")
    _mark(session, message.provider, SOURCES[message.provider], incident, marked)
    session.commit()
    assert message.entry is not None
    return message.entry
