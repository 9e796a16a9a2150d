"""Who speaks in a linked channel, and what a marked message said: looked up within the event's time.

Slack waits three seconds for an event's answer. A member Kintsugi knows costs no call; one it does
not is asked of users.info once, then remembered (an account when Slack shows their email, else a
name kept in this process for an hour). Every call shares one budget: past it, a name stays the id
Slack sent and a message's text stays unknown, and the event is still kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from incidents.accounts.service_chat import person_known_to_chat, remember_chat_person
from incidents.chat.messages import Speaker
from incidents.errors import DomainError

from .events_translate import SlackMessage, Unreadable, message_of
from .people import CALL_SECONDS, ISSUER
from .settings import SlackSettings

log = logging.getLogger(__name__)
BUDGET_SECONDS = 1.5
NAME_KEPT_SECONDS = 3600.0
NAMES_KEPT = 5000

_names: dict[str, tuple[float, str]] = {}
_names_lock = threading.Lock()


def _kept_name(user_id: str) -> str | None:
    with _names_lock:
        kept = _names.get(user_id)
    if kept is None or kept[0] < time.monotonic():
        return None
    return kept[1]


def _keep_name(user_id: str, name: str) -> None:
    with _names_lock:
        if len(_names) >= NAMES_KEPT:
            _names.clear()  # a workspace this large turns over rarely; start afresh rather than grow
        _names[user_id] = (time.monotonic() + NAME_KEPT_SECONDS, name)


@dataclass
class Lookups:
    """Slack calls for one event, all within one budget."""

    session: Session
    settings: SlackSettings
    budget: float = BUDGET_SECONDS
    # Each call's own limit: a second in the three seconds of an event, more in a worker.
    call_seconds: int = CALL_SECONDS
    _deadline: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.budget

    def _left(self) -> float:
        return self._deadline - time.monotonic()

    def speakers(self, user_ids: Iterable[str]) -> dict[str, Speaker]:
        """Each member as the log names them: the account's name, else Slack's, else the id."""
        return {user_id: self.speaker(user_id) for user_id in user_ids}

    def speaker(self, user_id: str) -> Speaker:
        known = person_known_to_chat(self.session, issuer=ISSUER, subject=user_id)
        if known is not None:
            return Speaker(key=user_id, name=known.name, user_id=known.id)
        name = _kept_name(user_id)
        if name is not None:
            return Speaker(key=user_id, name=name)
        profile = self._call("users_info", user=user_id).get("user")
        if not isinstance(profile, dict):
            return Speaker(key=user_id, name=user_id)
        given = profile.get("profile")
        details: dict[str, Any] = given if isinstance(given, dict) else {}
        shown = details.get("real_name") or profile.get("real_name") or details.get("display_name")
        name = shown.strip() if isinstance(shown, str) and shown.strip() else user_id
        email = details.get("email")
        if isinstance(email, str) and email.strip() and not profile.get("is_bot"):
            try:
                user = remember_chat_person(
                    self.session, issuer=ISSUER, subject=user_id, email=email.strip(), name=name
                )
            except DomainError as exc:
                # An email Kintsugi cannot take as an account's: the message is kept under Slack's name.
                self.session.rollback()
                log.warning("Slack member %s kept by name only: %s", user_id, exc)
            else:
                return Speaker(key=user_id, name=user.name, user_id=user.id)
        _keep_name(user_id, name)
        return Speaker(key=user_id, name=name)

    def message(self, channel_id: str, ts: str) -> SlackMessage | None:
        """A top-level message of the channel, asked of conversations.history (None when out of reach)."""
        answer = self._call("conversations_history", channel=channel_id, latest=ts, oldest=ts, inclusive=True, limit=1)
        for found in answer.get("messages") or ():
            if isinstance(found, dict) and found.get("ts") == ts:
                try:
                    return message_of(channel_id, found)
                except Unreadable:
                    return None
        return None

    def permalink(self, channel_id: str, ts: str) -> str | None:
        """Slack's link to the message (chat.getPermalink), or None when out of reach."""
        link = self._call("chat_getPermalink", channel=channel_id, message_ts=ts).get("permalink")
        return link if isinstance(link, str) else None

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        left = self._left()
        if left < 0.1:
            return {}
        # No retries: a second try would not fit in Slack's three seconds.
        client = WebClient(
            token=self.settings.bot_token, base_url=self.settings.api_url, timeout=self.call_seconds, retry_handlers=[]
        )
        try:
            answer = getattr(client, method)(**arguments)
        except SlackApiError as exc:
            log.warning("Slack %s failed: %s", method, exc.response.get("error") if exc.response else exc)
            return {}
        except (SlackClientError, OSError) as exc:
            log.warning("Slack %s could not be reached: %s", method, exc)
            return {}
        data = answer.data
        return data if isinstance(data, dict) else {}
