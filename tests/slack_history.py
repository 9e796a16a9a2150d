"""A channel's history as Slack's Web API pages it: conversations.history (newest first, `oldest` and
`latest` exclusive unless `inclusive`), conversations.replies (the parent first), cursors, auth.test
and chat.postMessage, taught to the loopback stand-in."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from slack_standin import Call, SlackStandin

BOT_USER = "U0BOT0001"


@dataclass
class History:
    """The messages of channels (top level) and of their threads, served a page at a time."""

    page_size: int = 3
    channels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    posted: list[dict[str, Any]] = field(default_factory=list)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def teach(self, standin: SlackStandin) -> History:
        standin.on("auth.test", lambda call: {"ok": True, "user_id": BOT_USER, "team_id": "T0ACME001"})
        standin.on("conversations.history", self._history)
        standin.on("conversations.replies", self._replies)
        standin.on("chat.postMessage", self._post)
        standin.on("chat.getPermalink", self._permalink)
        return self

    def say(self, channel: str, user: str, text: str, ts: str, **extra: Any) -> dict[str, Any]:
        message = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
        self.channels.setdefault(channel, []).append(message)
        return message

    def reply(self, channel: str, parent: dict[str, Any], user: str, text: str, ts: str) -> dict[str, Any]:
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        message = {"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": parent["ts"]}
        self.threads.setdefault((channel, parent["ts"]), []).append(message)
        return message

    def _page(self, messages: list[dict[str, Any]], call: Call) -> dict[str, Any]:
        start = int(call.body.get("cursor") or 0)
        size = min(int(call.body.get("limit") or 100), self.page_size)
        page = messages[start : start + size]
        more = start + size < len(messages)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }

    def _history(self, call: Call) -> dict[str, Any]:
        channel = call.body["channel"]
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(call.body.get("oldest") or 0)
        latest = float(call.body.get("latest") or 9e12)
        inclusive = str(call.body.get("inclusive", "")).lower() in ("1", "true")

        def within(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        found = [m for m in self.channels[channel] if within(float(m["ts"]))]
        return self._page(sorted(found, key=lambda m: float(m["ts"]), reverse=True), call)

    def _replies(self, call: Call) -> dict[str, Any]:
        channel, ts = call.body["channel"], call.body["ts"]
        parent = next((m for m in self.channels.get(channel, []) if m["ts"] == ts), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        return self._page([parent, *self.threads.get((channel, ts), [])], call)

    def _permalink(self, call: Call) -> dict[str, Any]:
        ts = str(call.body["message_ts"]).replace(".", "")
        return {"ok": True, "permalink": f"https://acme.slack.com/archives/{call.body['channel']}/p{ts}"}

    def _post(self, call: Call) -> dict[str, Any]:
        self.posted.append(call.body)
        return {"ok": True, "channel": call.body.get("channel"), "ts": f"1900000000.{next(self._ts):06d}"}
