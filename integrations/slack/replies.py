"""Telling someone in Slack what came of their click or form, once Slack has had its answer.

Slack waits 3 seconds for the answer to an interaction; a word back to the person who clicked
needs no such hurry, so it is sent after the answer has gone (Werkzeug and gunicorn close a
response only once it is sent). It is a courtesy, not state: the change is committed and shows
on the incident's page and its headline, so a lost word costs nothing the outbox should keep.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Response
from slack_sdk.errors import SlackApiError, SlackClientError

from .people import web_client
from .settings import SlackSettings

log = logging.getLogger(__name__)
# Where Slack's response_url points. Anything else is refused: the URL arrives inside the payload,
# and a server that posted wherever a payload said would be a way into the network it stands in.
SLACK_HOOKS = "hooks.slack.com"
REPLY_SECONDS = 2

Later = Callable[[], None]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: it would lead away from the host that was checked."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def may_reply_to(settings: SlackSettings, url: str) -> bool:
    """Whether a response_url may be posted to: https://hooks.slack.com, or the configured Web API's own
    scheme, host and port (a stand-in for Slack, in tests); never a URL with a user name or password."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return False
    if parts.scheme == "https" and parts.hostname == SLACK_HOOKS and port in (None, 443):
        return True
    api = urlsplit(settings.api_url)
    return (parts.scheme, parts.hostname, port) == (api.scheme, api.hostname, api.port)


def reply_to_response_url(settings: SlackSettings, url: str, text: str) -> None:
    """Post an ephemeral message to a response_url Slack gave (only to Slack: see may_reply_to)."""
    if not may_reply_to(settings, url):
        log.warning("did not reply to a response_url outside Slack: %r", url[:200])
        return
    body = {"response_type": "ephemeral", "replace_original": False, "text": text}
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=REPLY_SECONDS) as answer:
            answer.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("the reply to a Slack click was not delivered: %s", exc)


def message_to_member(settings: SlackSettings, slack_user_id: str, text: str) -> None:
    """A direct message from the app to a member (chat.postMessage to their user id)."""
    try:
        web_client(settings).chat_postMessage(channel=slack_user_id, text=text)
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        log.warning("chat.postMessage to %s was refused: %s", slack_user_id, error)
    except (SlackClientError, OSError) as exc:
        log.warning("chat.postMessage to %s could not reach Slack: %s", slack_user_id, exc)


def after_answer(response: Response, later: list[Later]) -> Response:
    """The response, with what is to be done once it is sent; a failure there is logged, never raised."""

    def run() -> None:
        for work in later:
            try:
                work()
            except Exception:
                log.exception("a reply to Slack failed after the answer")

    if later:
        response.call_on_close(run)
    return response
