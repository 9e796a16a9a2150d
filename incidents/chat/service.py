"""Link a chat channel to an incident, and remember the messages posted about it. One transaction per use case."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import validation
from ..access import can_see, ensure_can_see, ensure_can_write
from ..actors import Actor, Sender, actor_id
from ..errors import Conflict, InvalidInput, NotFound
from ..events import ChatChannelLinked, record_event
from ..models import Incident, Source, User, utcnow
from ..timeline import NewEntry, record_entries
from .models import CHANNEL_ID_MAX, DIGEST_MAX, MESSAGE_ID_MAX, PROVIDER_MAX, PURPOSES, ChatChannel, ChatPost

SOURCES = {"slack": Source.SLACK}
# Who links a channel Kintsugi opened when no person can: its timeline reads "Kintsugi: linked ...".
KINTSUGI = Sender("Kintsugi")


def link_channel(session: Session, *, actor: User, incident_id: int, provider: str, channel_id: str) -> ChatChannel:
    """Link the channel to the incident, moving it from the incident it spoke of before.

    Both timelines say so; linking a channel to the incident it is linked to already changes nothing.
    """
    ensure_can_write(actor)
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    return _linked(session, actor, incident, provider, channel_id)


def link_opened_channel(
    session: Session, *, incident_id: int, provider: str, channel_id: str, declarer_id: int | None
) -> ChatChannel:
    """Link a channel Kintsugi opened for an incident on its declaration, in its declarer's name while they
    may still change it; else (a pager declared it, or they left) in Kintsugi's own."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    declarer = session.get(User, declarer_id) if declarer_id is not None else None
    actor: Actor = declarer if declarer is not None and may_act_for(incident, declarer) else KINTSUGI
    return _linked(session, actor, incident, provider, channel_id)


def _linked(session: Session, actor: Actor, incident: Incident, provider: str, channel_id: str) -> ChatChannel:
    if provider not in SOURCES:
        raise InvalidInput(f"unknown chat provider {provider[:PROVIDER_MAX]!r}", field="provider")
    channel_id = validation.text(channel_id, field="channel_id", limit=CHANNEL_ID_MAX, required=True)
    source = SOURCES[provider]
    link = session.scalar(
        select(ChatChannel).where(ChatChannel.provider == provider, ChatChannel.channel_id == channel_id)
    )
    if link is not None and link.incident_id == incident.id:
        return link
    previous = None
    if link is None:
        link = ChatChannel(provider=provider, channel_id=channel_id, incident_id=incident.id)
        session.add(link)
    else:
        before = link.incident
        previous = before.id
        moved = NewEntry(text=f"The {provider} channel {channel_id} now speaks of incident {incident.id}.")
        record_entries(session, before, actor=actor, source=source, entries=[moved])
        link.incident_id = incident.id
    link.linked_at = utcnow()
    link.linked_by_id = actor_id(actor)
    linked = NewEntry(text=f"Linked the {provider} channel {channel_id} to this incident.")
    record_entries(session, incident, actor=actor, source=source, entries=[linked])
    session.flush()
    record_event(
        session,
        ChatChannelLinked(
            incident_id=incident.id,
            provider=provider,
            channel_id=channel_id,
            actor_id=actor_id(actor),
            previous_incident_id=previous,
        ),
    )
    try:
        session.commit()
    except IntegrityError:
        # Someone linked the same channel at the same moment: one link per channel.
        session.rollback()
        raise Conflict(f"the channel {channel_id} was linked by someone else a moment ago; try again") from None
    return link


def may_act_for(incident: Incident, person: User) -> bool:
    """Whether a person (say the declarer, later) may still change this incident: active, a writer, and
    able to see it."""
    return person.is_active and person.can_write and can_see(incident, person)


def remember_post(
    session: Session, *, provider: str, incident_id: int, channel_id: str, purpose: str, message_id: str, digest: str
) -> ChatPost:
    """Remember a message just posted about an incident, and commit at once: a retry after a later failure
    then edits this message instead of posting a second one. Conflict when one was remembered already for
    the same channel and purpose (another worker posted it a moment before)."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"a post is for one of {', '.join(PURPOSES)}, not {purpose[:20]!r}", field="purpose")
    channel_id = validation.text(channel_id, field="channel_id", limit=CHANNEL_ID_MAX, required=True)
    message_id = validation.text(message_id, field="message_id", limit=MESSAGE_ID_MAX, required=True)
    digest = validation.text(digest, field="digest", limit=DIGEST_MAX, required=True)
    twin = Conflict(f"a {purpose} of incident {incident_id} in {channel_id} was remembered a moment ago")
    known = session.scalar(
        select(ChatPost.id).where(
            ChatPost.provider == provider,
            ChatPost.channel_id == channel_id,
            ChatPost.incident_id == incident_id,
            ChatPost.purpose == purpose,
        )
    )
    if known is not None:
        session.rollback()
        raise twin
    now = utcnow()
    post = ChatPost(
        provider=provider,
        channel_id=channel_id,
        incident_id=incident_id,
        purpose=purpose,
        message_id=message_id,
        digest=digest,
        posted_at=now,
        updated_at=now,
    )
    session.add(post)
    try:
        session.commit()
    except IntegrityError:
        # Remembered by another worker between the look and the write: one is kept.
        session.rollback()
        raise twin from None
    return post


def remember_edit(session: Session, *, post_id: int, digest: str) -> None:
    """Remember that a posted message was edited to show something new (its digest), and commit."""
    post = session.get(ChatPost, post_id)
    if post is None:
        raise NotFound(f"chat post {post_id} not found")
    post.digest = validation.text(digest, field="digest", limit=DIGEST_MAX, required=True)
    post.updated_at = utcnow()
    session.commit()
