"""Read a linked channel's history into the incident's chat log, after the answer, in a worker.

For the 3 a.m. incident where nobody pinned anything: conversations.history over the incident's
window and conversations.replies for each thread, page by page, waiting as long as Slack asks when it
limits the rate. Each page is one delivery of the chat room's use case, kept raw and keyed by its
content: reading the same history again changes nothing, and a page that changed since (an edit)
brings the log up to date. Pins and 📌 reactions already on a message mark it as a key moment.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy.orm import Session

from incidents.chat.messages import ChatChange, Marked, receive_chat_delivery
from incidents.events import ChatHistoryRequested, Event
from incidents.models import Incident, utcnow

from .events_translate import (
    KEY_REACTIONS,
    PIN,
    Reading,
    Unreadable,
    change_of,
    people_named,
    permalink_guess,
    read_history_message,
)
from .settings import SlackSettings
from .speakers import Lookups
from .translate import escaped

log = logging.getLogger(__name__)
PROVIDER = "slack"
PAGE = 200
# Before the incident started and after it ended, what was said still belongs to it.
MARGIN = timedelta(hours=1)
CALL_SECONDS = 10
# Slack's Tier 3 allows about 50 calls a minute; a long history waits as often as Slack asks.
RATE_LIMIT_RETRIES = 20
LOOKUP_BUDGET_SECONDS = 60.0


@dataclass
class Tally:
    """What a reading found, for the note posted in the channel."""

    messages: int = 0
    replies: int = 0
    key_moments: int = 0


def client_of(settings: SlackSettings) -> WebClient:
    """A Web API client for a worker: patient with a slow Slack and with its rate limits."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=CALL_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


def read_history(session: Session, settings: SlackSettings, event: Event) -> dict[str, Tally]:
    """Read each requested channel's history into the log; what was read, by channel.

    Slack unreachable or answering ok: false raises, and the outbox tries the whole reading again
    later (what was kept already is kept once)."""
    assert isinstance(event, ChatHistoryRequested)
    incident = session.get(Incident, event.incident_id)
    if incident is None:
        return {}
    oldest = min(incident.started_at, incident.declared_at) - MARGIN
    ended = incident.closed_at or incident.resolved_at
    latest = min(ended + MARGIN, utcnow()) if ended else utcnow()
    session.rollback()
    client = client_of(settings)
    own = _own_user(client)
    tallies = {}
    for channel in event.channel_ids:
        tallies[channel] = _read_channel(session, settings, client, channel, oldest, latest, own)
        _tell(client, channel, event, tallies[channel])
    return tallies


def _own_user(client: WebClient) -> frozenset[str]:
    answer = client.auth_test()
    user = answer.get("user_id")
    return frozenset({user}) if isinstance(user, str) else frozenset()


def _read_channel(
    session: Session,
    settings: SlackSettings,
    client: WebClient,
    channel: str,
    oldest: datetime,
    latest: datetime,
    own: frozenset[str],
) -> Tally:
    tally = Tally()
    lookups = Lookups(session, settings, budget=LOOKUP_BUDGET_SECONDS, call_seconds=CALL_SECONDS)
    for page in _pages(client, "conversations_history", channel=channel, oldest=_ts(oldest), latest=_ts(latest)):
        threads = [m["ts"] for m in page if _has_replies(m)]
        tally.messages += _keep(session, lookups, channel, page, own, tally)
        for parent in threads:
            for replies in _pages(client, "conversations_replies", channel=channel, ts=parent):
                replies = [m for m in replies if m.get("ts") != parent]
                tally.replies += _keep(session, lookups, channel, replies, own, tally)
    return tally


def _pages(client: WebClient, method: str, **arguments: Any) -> Iterator[list[dict[str, Any]]]:
    cursor = None
    while True:
        answer = getattr(client, method)(limit=PAGE, cursor=cursor, **arguments)
        messages = answer.get("messages") or []
        yield [m for m in messages if isinstance(m, dict)]
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _has_replies(message: dict[str, Any]) -> bool:
    return bool(message.get("reply_count")) and message.get("thread_ts") == message.get("ts")


def _keep(
    session: Session,
    lookups: Lookups,
    channel: str,
    messages: list[dict[str, Any]],
    own: frozenset[str],
    tally: Tally,
) -> int:
    """Keep one page of messages as one delivery; how many of them were messages to keep."""
    readings: list[Reading] = []
    for message in messages:
        try:
            reading = read_history_message(channel, message, own_user_ids=own)
        except Unreadable as exc:
            log.warning("a message of %s's history could not be read: %s", channel, exc)
            continue
        if reading is not None:
            readings.append(reading)
    if not readings:
        return 0
    speakers = lookups.speakers(dict.fromkeys(user for r in readings for user in people_named(r)))
    changes: list[ChatChange] = []
    for reading, message in ((r, _raw(messages, r.ts)) for r in readings):
        changes.append(change_of(reading, speakers))
        for mark in _marks(channel, message):
            permalink = lookups.permalink(channel, reading.ts) or permalink_guess(channel, reading.ts)
            changes.append(Marked(channel, reading.ts, mark, permalink=permalink))
    body = json.dumps({"channel": channel, "messages": messages}, sort_keys=True).encode("utf-8")
    key = "history:" + hashlib.sha256(body).hexdigest()
    receipt = receive_chat_delivery(session, provider=PROVIDER, delivery_key=key, body=body, changes=changes)
    if receipt.incident_id is None:
        log.info("%s is no longer linked to an incident: its history was not kept", channel)
    tally.key_moments += len(receipt.entry_ids)
    return len(readings)


def _raw(messages: list[dict[str, Any]], ts: str) -> dict[str, Any]:
    return next((m for m in messages if m.get("ts") == ts), {})


def _marks(channel: str, message: dict[str, Any]) -> list[str]:
    """The marks a message already carries: a pin in this channel, and each 📌 or 📍 with who gave it."""
    marks = []
    pinned = message.get("pinned_to")
    if isinstance(pinned, list) and channel in pinned:
        marks.append(PIN)
    for reaction in message.get("reactions") or ():
        if isinstance(reaction, dict) and reaction.get("name") in KEY_REACTIONS:
            for user in reaction.get("users") or ():
                if isinstance(user, str):
                    marks.append(f"{reaction['name']}:{user}")
    return marks


def _ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def _tell(client: WebClient, channel: str, event: ChatHistoryRequested, tally: Tally) -> None:
    """Say in the channel what was read; a note that cannot be posted is not worth reading it all again."""
    text = (
        f"Read this channel's history into incident #{event.incident_id}'s chat log, as "
        f"{escaped(event.actor_name)} asked: {tally.messages} messages and {tally.replies} thread replies"
        + (f", {tally.key_moments} of them pinned as key moments." if tally.key_moments else ".")
    )
    try:
        client.chat_postMessage(channel=channel, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s its history was read: %s", channel, exc.response.get("error"))
