"""Speaking to Slack from the outbox's worker: a patient client, links to Kintsugi's pages, and which of
Slack's refusals a retry cannot mend.

A handler lets every other failure raise (Slack down, answering 5xx, rate limiting past a short
wait, `ok: false` for a reason an admin can mend, such as a missing scope): the outbox then tries
again with backoff, and parks the row for an admin after its last attempt. Nothing is lost.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler

from .people import BriefRateLimitRetry
from .settings import SlackSettings

PROVIDER = "slack"
# The worker answers nobody waiting: it can give Slack longer than a command's one second, and wait
# out a rate limit of a few seconds, but not one that would outlast its lease on the row.
CALL_SECONDS = 10
LONGEST_RETRY_AFTER = 10
# Refusals about one channel or message that no retry mends: the channel is gone or archived, the app
# was removed from it, the message was deleted. Told in the log, and the handler goes on.
CHANNEL_GONE = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)


def worker_client(settings: SlackSettings) -> WebClient:
    """A Web API client for the worker: 10-second calls, two retries of a dropped connection, and one of a
    rate limit that asks for a wait of 10 seconds at most (a longer one is left to the outbox's backoff)."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=CALL_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            BriefRateLimitRetry(max_retry_count=1, longest=LONGEST_RETRY_AFTER),
        ],
    )


# Where Slack reached this process (its request's host URL), remembered by the Slack views.
SEEN_AT = "kintsugi.slack.seen_at"


def error_of(exc: SlackApiError) -> str:
    """Slack's error code of a refused call (`channel_not_found`), or `http_<status>` when it sent none."""
    data: Any = exc.response.data
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return f"http_{exc.response.status_code}"


def page_url(settings: SlackSettings, endpoint: str, **values: Any) -> str | None:
    """The public address of one of Kintsugi's pages, built outside any request: under KINTSUGI_PUBLIC_URL,
    else the address Slack last reached this process at; None when neither is known (the message then
    names the incident without a link)."""
    public = settings.public_url or current_app.extensions.get(SEEN_AT)
    if public is None:
        return None
    base = urlsplit(public)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
