"""Who typed a command: a Slack member as a Kintsugi account, matched once by email and remembered."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryState
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from sqlalchemy.orm import Session

from incidents.accounts.service_chat import SLACK_ISSUER, person_known_to_chat, remember_chat_person
from incidents.models import User

from .settings import SlackSettings

ISSUER = SLACK_ISSUER
log = logging.getLogger(__name__)
# Slack waits 3 seconds for the answer to a command: a call of a second (users.info answers in a
# fraction of that), and one wait of a second at most when Slack asks for one.
CALL_SECONDS = 1
LONGEST_RETRY_AFTER = 1


class NoPerson(Exception):
    """The member cannot be known as a Kintsugi account now; the message says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BriefRateLimitRetry(RateLimitErrorRetryHandler):
    """Honour Slack's Retry-After only when it is short enough to wait for (`longest` seconds at most):
    a command must be answered in time, and a worker must finish within its lease."""

    def __init__(self, max_retry_count: int = 1, *, longest: int = LONGEST_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.longest = longest

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response.headers, self.longest) <= self.longest

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        # The SDK's handler adds up to a second of jitter, which the three seconds cannot spare.
        assert response is not None
        time.sleep(retry_after(response.headers, self.longest))
        state.next_attempt_requested = True
        state.increment_current_attempt()


def person_of(session: Session, settings: SlackSettings, slack_user_id: str) -> User:
    """The account of a Slack member: the one remembered, else the one with their Slack email, else a new one."""
    known = person_known_to_chat(session, issuer=ISSUER, subject=slack_user_id)
    if known is None:
        profile = _profile(settings, slack_user_id)
        known = _remembered(session, slack_user_id, profile)
    if not known.is_active:
        # A deactivated account acts nowhere, Slack included; its history stays.
        raise NoPerson(f"The Kintsugi account of <@{slack_user_id}> is deactivated: ask a Kintsugi admin.")
    return known


def _remembered(session: Session, slack_user_id: str, profile: dict[str, Any]) -> User:
    email = (profile.get("profile") or {}).get("email")
    if profile.get("is_bot") or not isinstance(email, str) or not email.strip():
        raise NoPerson(
            f"Kintsugi knows people by their email, and Slack shows none for <@{slack_user_id}> (a bot, or a "
            "profile whose email is hidden from the app). Ask a Kintsugi admin to add the account."
        )
    name = (profile.get("profile") or {}).get("real_name") or profile.get("real_name") or profile.get("name")
    return remember_chat_person(
        session, issuer=ISSUER, subject=slack_user_id, email=email, name=name if isinstance(name, str) else None
    )


def web_client(settings: SlackSettings) -> WebClient:
    """A Web API client with the bot token, retrying a dropped connection and a short rate limit once."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=CALL_SECONDS,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1), BriefRateLimitRetry(max_retry_count=1)],
    )


def _profile(settings: SlackSettings, slack_user_id: str) -> dict[str, Any]:
    try:
        answer = web_client(settings).users_info(user=slack_user_id)
    except SlackApiError as exc:
        status = exc.response.status_code
        if status == 429:
            wait = retry_after(exc.response.headers)
            raise NoPerson(f"Slack asks Kintsugi to slow down; try again in {wait} seconds.") from None
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else f"HTTP {status}"
        log.warning("users.info for %s failed: %s", slack_user_id, error)
        raise NoPerson(
            f"Kintsugi could not look up <@{slack_user_id}> in Slack ({error}). An admin may need to give the app "
            "the users:read and users:read.email scopes."
        ) from None
    except (SlackClientError, OSError) as exc:
        log.warning("users.info for %s could not reach Slack: %s", slack_user_id, exc)
        raise NoPerson("Kintsugi could not reach Slack to look you up; try again in a moment.") from None
    user = answer.get("user")
    return user if isinstance(user, dict) else {}


def retry_after(headers: Any, longest: int = LONGEST_RETRY_AFTER) -> int:
    """The seconds Slack's Retry-After asks for; more than `longest` when it names none."""
    for name, value in dict(headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            return int(raw) if str(raw).strip().isdigit() else longest + 1
    return longest + 1
