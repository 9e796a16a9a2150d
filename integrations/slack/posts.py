"""A message kept in step with an incident: posted once, remembered at once, then edited in place.

The message's id (Slack's ts) is committed right after Slack accepts the post, in a transaction of
its own, so a retry after any later failure edits that message instead of posting a second one.
An edit is sent only when what the message shows has changed (its digest).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from incidents.chat.models import ChatPost
from incidents.chat.queries import posts_of_incident
from incidents.chat.service import remember_edit, remember_post
from incidents.errors import Conflict

from .outbound import CHANNEL_GONE, PROVIDER, error_of

log = logging.getLogger(__name__)


class ClosedChannel(Exception):
    """A channel Kintsugi cannot post in, for a reason no retry mends."""


@dataclass(frozen=True)
class Message:
    """What a message shows: the text of notifications and the blocks people see."""

    text: str
    blocks: list[dict[str, Any]]

    @property
    def digest(self) -> str:
        """A fingerprint of what the message shows, to tell whether an edit would change anything."""
        shown = json.dumps({"text": self.text, "blocks": self.blocks}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(shown.encode("utf-8")).hexdigest()


def keep_posted(
    client: WebClient,
    session: Session,
    *,
    incident_id: int,
    purpose: str,
    channel: str,
    message: Message,
    may_post: bool = True,
) -> ChatPost | None:
    """Post the message in the channel once (when `may_post`), or edit the one posted when it shows
    something else now; the post, or None when none was made.

    A channel that is gone, archived or closed to the app is told in the log and left: no retry mends
    it. Any other refusal raises, and the outbox tries again later.
    """
    post = _remembered(session, incident_id, purpose, channel)
    if post is None:
        if not may_post:
            return None
        try:
            answer = _posted(client, channel, message)
        except ClosedChannel as exc:
            log.warning("no %s of incident %s in %s: %s", purpose, incident_id, channel, exc)
            return None
        try:
            return remember_post(
                session,
                provider=PROVIDER,
                incident_id=incident_id,
                channel_id=str(answer["channel"]),
                purpose=purpose,
                message_id=str(answer["ts"]),
                digest=message.digest,
            )
        except Conflict:
            # Another worker posted it first: take ours back and keep theirs.
            client.chat_delete(channel=str(answer["channel"]), ts=str(answer["ts"]))
            post = _remembered(session, incident_id, purpose, channel)
            if post is None:
                raise
    if post.digest == message.digest:
        return post
    try:
        client.chat_update(channel=post.channel_id, ts=post.message_id, text=message.text, blocks=message.blocks)
    except SlackApiError as exc:
        if error_of(exc) in CHANNEL_GONE:
            log.warning(
                "the %s of incident %s in %s stays as it was: Slack says %s",
                purpose,
                incident_id,
                post.channel_id,
                error_of(exc),
            )
            return post
        raise
    remember_edit(session, post_id=post.id, digest=message.digest)
    return post


def _remembered(session: Session, incident_id: int, purpose: str, channel: str) -> ChatPost | None:
    session.rollback()  # read what other workers committed meanwhile
    posts = posts_of_incident(session, provider=PROVIDER, incident_id=incident_id, purpose=purpose)
    # The announcement's channel may be configured by name (#incidents); Slack answers with its id.
    same = [p for p in posts if p.channel_id == channel] or (posts if channel.startswith("#") else [])
    return same[0] if same else None


def _posted(client: WebClient, channel: str, message: Message) -> dict[str, Any]:
    def post() -> dict[str, Any]:
        answer = client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False
        )
        return dict(answer.data) if isinstance(answer.data, dict) else {}

    try:
        return post()
    except SlackApiError as exc:
        error = error_of(exc)
        if error not in CHANNEL_GONE:
            raise
        if error != "not_in_channel":
            raise ClosedChannel(f"Slack says {error}") from None
    # A public channel linked with /incident attach that the app was never added to: it joins (with the
    # channels:join scope) and posts; a private one must invite the app.
    try:
        client.conversations_join(channel=channel)
    except SlackApiError as exc:
        if error_of(exc).startswith("http_") or error_of(exc) == "ratelimited":
            raise
        raise ClosedChannel(f"the app is not in it and may not join it ({error_of(exc)})") from None
    return post()
