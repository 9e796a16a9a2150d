"""Pure reading of Events API deliveries: what happened to which message, and whose names are needed.

`read_delivery` turns Slack's envelope into a Reading (or a challenge to echo, or a reason to ignore
it); `change_of` turns a Reading and the speakers looked up for it into the domain's ChatChange. No
database, no network: the view does the looking up in between.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from incidents.chat.messages import (
    ChatChange,
    Deleted,
    Edited,
    Marked,
    Posted,
    Said,
    SharedFile,
    Speaker,
    Unmarked,
)

from .translate import readable

# The reactions that mark a message as a key moment: 📌 and 📍.
KEY_REACTIONS = frozenset({"pushpin", "round_pushpin"})
PIN = "pin"
TS = re.compile(r"^[0-9]{1,10}(?:\.[0-9]{1,9})?$")  # seconds up to the year 2286
CHANNEL = re.compile(r"^[A-Z0-9]{2,64}$")
USER = re.compile(r"^[UWB][A-Z0-9]{2,64}$")
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,64})(?:\|[^<>]*)?>")
# Messages that say nothing of the incident: channel housekeeping, and Slack's own "pinned a message".
QUIET_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "message_replied",
        "ekm_access_denied",
        "channel_convert_to_private",
        "channel_convert_to_public",
    }
)


class Unreadable(ValueError):
    """The delivery is not an Events API envelope this code can read; the message says why."""


@dataclass(frozen=True)
class Challenge:
    """Slack checking the Request URL: echo the challenge."""

    challenge: str


@dataclass(frozen=True)
class Ignored:
    """A delivery with nothing to do for Kintsugi (answered 200, so that Slack does not retry it)."""

    reason: str


@dataclass(frozen=True)
class SlackMessage:
    """A message as Slack sent it: raw text, and the ids of who wrote it."""

    channel_id: str
    ts: str
    user_id: str
    bot_name: str
    text: str
    thread_ts: str | None
    files: tuple[SharedFile, ...]
    permalink: str | None


@dataclass(frozen=True)
class Reading:
    """One event about one message of a channel: what happened to it (`what`), and the message when the
    event carried it."""

    event_id: str
    what: str  # posted, edited, deleted, marked, unmarked
    channel_id: str
    ts: str
    message: SlackMessage | None = None
    mark: str | None = None


def read_delivery(envelope: Any, *, own_user_ids: frozenset[str] = frozenset()) -> Challenge | Ignored | Reading:
    """What a delivery asks of Kintsugi. Raises Unreadable for a body that is no envelope at all."""
    if not isinstance(envelope, dict):
        raise Unreadable("an Events API delivery is a JSON object")
    kind = envelope.get("type")
    if kind == "url_verification":
        challenge = envelope.get("challenge")
        if not isinstance(challenge, str) or not challenge or len(challenge) > 500:
            raise Unreadable("url_verification without a challenge")
        return Challenge(challenge)
    if kind != "event_callback":
        return Ignored(f"a delivery of type {str(kind)[:40]!r}")
    event_id = envelope.get("event_id")
    event = envelope.get("event")
    if not isinstance(event_id, str) or not event_id or not isinstance(event, dict):
        raise Unreadable("an event_callback without its event_id or event")
    own = own_user_ids | _bot_users(envelope)
    event_type = event.get("type")
    if event_type == "message":
        return _message_event(event_id, event, own)
    if event_type in ("reaction_added", "reaction_removed"):
        return _reaction_event(event_id, event, added=event_type == "reaction_added")
    if event_type in ("pin_added", "pin_removed"):
        return _pin_event(event_id, event, added=event_type == "pin_added")
    return Ignored(f"an event of type {str(event_type)[:40]!r}")


def _bot_users(envelope: dict[str, Any]) -> frozenset[str]:
    """This app's own bot user, which posts the headline: its messages are not the responders' log."""
    found = set()
    for grant in envelope.get("authorizations") or ():
        if isinstance(grant, dict) and grant.get("is_bot") and isinstance(grant.get("user_id"), str):
            found.add(grant["user_id"])
    return frozenset(found)


def _message_event(event_id: str, event: dict[str, Any], own: frozenset[str]) -> Reading | Ignored:
    subtype = event.get("subtype")
    channel = _channel(event.get("channel"))
    if subtype == "message_changed":
        message = event.get("message")
        if not isinstance(message, dict):
            raise Unreadable("message_changed without its message")
        if message.get("subtype") == "tombstone":
            # A thread's first message deleted while its replies stay.
            return Reading(event_id, "deleted", channel, _ts(message.get("ts")))
        said = message_of(channel, message)
        if said.user_id in own:
            return Ignored("an edit of Kintsugi's own message")
        return Reading(event_id, "edited", channel, said.ts, message=said)
    if subtype == "message_deleted":
        return Reading(event_id, "deleted", channel, _ts(event.get("deleted_ts")))
    if subtype in QUIET_SUBTYPES or (isinstance(subtype, str) and subtype not in _SPOKEN_SUBTYPES):
        return Ignored(f"a message of subtype {str(subtype)[:40]!r}")
    said = message_of(channel, event)
    if said.user_id in own:
        return Ignored("Kintsugi's own message")
    return Reading(event_id, "posted", channel, said.ts, message=said)


def read_history_message(
    channel: str, message: dict[str, Any], *, own_user_ids: frozenset[str] = frozenset()
) -> Reading | None:
    """A message of conversations.history or .replies as a change to keep (edited when Slack says it
    was, so that the log catches up), or None for one that is not the responders' (housekeeping, ours)."""
    reading = _message_event("history", {**message, "channel": channel}, own_user_ids)
    if isinstance(reading, Ignored):
        return None
    return replace(reading, what="edited") if message.get("edited") else reading


# Subtypes that are a person (or another tool) saying something in the channel.
_SPOKEN_SUBTYPES = frozenset({"thread_broadcast", "file_share", "bot_message", "me_message"})


def _reaction_event(event_id: str, event: dict[str, Any], *, added: bool) -> Reading | Ignored:
    reaction = event.get("reaction")
    item = event.get("item")
    if reaction not in KEY_REACTIONS:
        return Ignored("a reaction that marks nothing")
    if not isinstance(item, dict) or item.get("type") != "message":
        return Ignored("a reaction to something other than a message")
    user = _user(event.get("user"))
    mark = f"{reaction}:{user}"
    what = "marked" if added else "unmarked"
    return Reading(event_id, what, _channel(item.get("channel")), _ts(item.get("ts")), mark=mark)


def _pin_event(event_id: str, event: dict[str, Any], *, added: bool) -> Reading | Ignored:
    item = event.get("item")
    if not isinstance(item, dict) or item.get("type") != "message":
        return Ignored("a pin of something other than a message")
    channel = _channel(item.get("channel") or event.get("channel_id"))
    message = item.get("message")
    if isinstance(message, dict) and message.get("ts") is not None:
        said = message_of(channel, message)
        return Reading(event_id, "marked" if added else "unmarked", channel, said.ts, message=said, mark=PIN)
    return Reading(event_id, "marked" if added else "unmarked", channel, _ts(item.get("ts")), mark=PIN)


def message_of(channel: str, message: dict[str, Any]) -> SlackMessage:
    """A message object of an event or of conversations.history, read."""
    user = message.get("user")
    bot = message.get("bot_profile")
    bot_name = message.get("username") or (bot.get("name") if isinstance(bot, dict) else None)
    thread_ts = message.get("thread_ts")
    return SlackMessage(
        channel_id=channel,
        ts=_ts(message.get("ts")),
        user_id=_user(user) if user is not None else "",
        bot_name=bot_name if isinstance(bot_name, str) else "",
        text=text if isinstance(text := message.get("text"), str) else "",
        thread_ts=_ts(thread_ts) if thread_ts is not None else None,
        files=_files(message.get("files")),
        permalink=message.get("permalink") if isinstance(message.get("permalink"), str) else None,
    )


def _files(value: Any) -> tuple[SharedFile, ...]:
    if not isinstance(value, list):
        return ()
    files = []
    for item in value:
        if not isinstance(item, dict):
            continue
        url = item.get("permalink") or item.get("url_private")
        name = item.get("title") or item.get("name") or "a file"
        if isinstance(url, str) and isinstance(name, str):
            files.append(SharedFile(name=name, url=url))
    return tuple(files)


def _channel(value: Any) -> str:
    if not isinstance(value, str) or not CHANNEL.match(value):
        raise Unreadable("an event without a channel id Slack would send")
    return value


def _ts(value: Any) -> str:
    # Slack's ts is a string; a number here would already have lost digits ("…000100" → "…0001").
    if not isinstance(value, str) or not TS.match(value):
        raise Unreadable("an event without a message ts as Slack sends it (a string such as 1732255380.000200)")
    return value


def _user(value: Any) -> str:
    if not isinstance(value, str) or not USER.match(value):
        raise Unreadable("an event without a user id Slack would send")
    return value


def people_named(reading: Reading) -> list[str]:
    """The Slack user ids whose names the change needs: the author, then those mentioned, each once."""
    message = reading.message
    if message is None:
        return []
    ids = [message.user_id] if message.user_id else []
    ids.extend(MENTION.findall(message.text))
    return list(dict.fromkeys(ids))


def with_names(text: str, speakers: Mapping[str, Speaker]) -> str:
    """Slack's text as a person reads it, mentions shown as @name where the name is known."""

    def named(match: re.Match[str]) -> str:
        speaker = speakers.get(match.group(1))
        return f"<@{match.group(1)}|{speaker.name}>" if speaker is not None and speaker.name else match.group(0)

    return readable(MENTION.sub(named, text))


def said_of(message: SlackMessage, speakers: Mapping[str, Speaker]) -> Said:
    """The domain's message, its author and mentions named."""
    if message.user_id:
        author = speakers.get(message.user_id) or Speaker(key=message.user_id, name=message.user_id)
    else:
        author = Speaker(key="", name=message.bot_name or "a Slack app")
    return Said(
        channel_id=message.channel_id,
        ts=message.ts,
        author=author,
        text=with_names(message.text, speakers),
        thread_ts=message.thread_ts,
        files=message.files,
        permalink=message.permalink,
    )


def change_of(reading: Reading, speakers: Mapping[str, Speaker], *, permalink: str | None = None) -> ChatChange:
    """The domain's change for a reading, once its speakers are known."""
    said = said_of(reading.message, speakers) if reading.message is not None else None
    if reading.what == "posted" and said is not None:
        return Posted(said)
    if reading.what == "edited" and said is not None:
        return Edited(said)
    if reading.what == "deleted":
        return Deleted(reading.channel_id, reading.ts)
    if reading.what == "marked" and reading.mark is not None:
        return Marked(reading.channel_id, reading.ts, reading.mark, message=said, permalink=permalink)
    if reading.what == "unmarked" and reading.mark is not None:
        return Unmarked(reading.channel_id, reading.ts, reading.mark)
    raise Unreadable(f"a {reading.what} event without what it concerns")


def permalink_guess(channel_id: str, ts: str) -> str:
    """A message's link when Slack's own (chat.getPermalink) is out of reach: Slack opens it in the workspace."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
