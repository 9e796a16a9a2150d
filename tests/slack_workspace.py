"""A small in-memory Slack workspace behind the Web API stand-in: channels with members, and the messages
the app posts, edits and deletes in them, answered as Slack answers (ts ids, name_taken, not_in_channel,
already_in_channel, invalid_blocks for an action id used twice in one block ...).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from slack_standin import Call, SlackStandin

BOT = "U0KINTSUGI"
NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


@dataclass
class Channel:
    """A channel as Slack keeps it."""

    id: str
    name: str
    is_private: bool = False
    creator: str = "U0SOMEONE"
    is_archived: bool = False
    members: set[str] = field(default_factory=set)


@dataclass
class Posted:
    """A message in a channel: its ts, what it shows now, and how many times it was edited."""

    ts: str
    text: str
    blocks: list[dict[str, Any]]
    edits: int = 0


class SlackWorkspace:
    """Teaches the stand-in the conversations.* and chat.* methods, over channels and messages kept here."""

    def __init__(self, standin: SlackStandin, *, page_size: int = 2) -> None:
        self.standin = standin
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Posted]] = {}
        self.page_size = page_size
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        for method, behaviour in {
            "auth.test": lambda _call: {"ok": True, "user_id": BOT, "team_id": "T0ACME001"},
            "conversations.create": self._create,
            "conversations.list": self._list,
            "conversations.invite": self._invite,
            "conversations.join": self._join,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.delete": self._delete,
        }.items():
            standin.on(method, behaviour)

    def add_channel(self, name: str, *, creator: str = "U0SOMEONE", bot_in: bool = True, **kw: Any) -> Channel:
        """A channel someone made before; the app is in it unless told otherwise."""
        channel = Channel(id=self._channel_id(), name=name, creator=creator, **kw)
        if bot_in:
            channel.members.add(BOT)
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def named(self, name: str) -> Channel:
        found = [c for c in self.channels.values() if c.name == name]
        assert len(found) == 1, f"{len(found)} channels named {name}: {sorted(c.name for c in self.channels.values())}"
        return found[0]

    def in_channel(self, channel_id: str) -> list[Posted]:
        return self.messages[channel_id]

    def _channel_id(self) -> str:
        return f"C0CH{next(self._ids):05d}"

    def _create(self, call: Call) -> dict[str, Any]:
        name = str(call.body.get("name", ""))
        with self._lock:
            if not NAME.match(name):
                return {"ok": False, "error": "invalid_name_specials"}
            if any(c.name == name for c in self.channels.values()):
                return {"ok": False, "error": "name_taken"}
            private = str(call.body.get("is_private", "")).lower() in ("1", "true")
            channel = Channel(id=self._channel_id(), name=name, is_private=private, creator=BOT, members={BOT})
            self.channels[channel.id] = channel
            self.messages[channel.id] = []
        return {"ok": True, "channel": self._shown(channel)}

    def _list(self, call: Call) -> dict[str, Any]:
        start = int(str(call.body.get("cursor") or "0"))
        # A bot sees every public channel and the private ones it is in.
        seen = [c for c in self.channels.values() if not c.is_private or BOT in c.members]
        page = seen[start : start + self.page_size]
        more = start + self.page_size < len(seen)
        cursor = str(start + self.page_size) if more else ""
        return {"ok": True, "channels": [self._shown(c) for c in page], "response_metadata": {"next_cursor": cursor}}

    def _invite(self, call: Call) -> dict[str, Any]:
        channel = self.channels.get(str(call.body.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        user = str(call.body.get("users"))
        if user in channel.members:
            return {"ok": False, "error": "already_in_channel"}
        channel.members.add(user)
        return {"ok": True, "channel": self._shown(channel)}

    def _join(self, call: Call) -> dict[str, Any]:
        channel = self.channels.get(str(call.body.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.is_private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        channel.members.add(BOT)
        return {"ok": True, "channel": self._shown(channel)}

    def _post(self, call: Call) -> dict[str, Any]:
        wanted = str(call.body.get("channel"))
        found = [c for c in self.channels.values() if c.id == wanted or f"#{c.name}" == wanted]
        if not found or (found[0].is_private and BOT not in found[0].members):
            return {"ok": False, "error": "channel_not_found"}
        channel = found[0]
        if channel.is_archived:
            return {"ok": False, "error": "is_archived"}
        if BOT not in channel.members:
            return {"ok": False, "error": "not_in_channel"}
        blocks = call.body.get("blocks") or []
        refused = _refusal(blocks)
        if refused:
            return {"ok": False, "error": "invalid_blocks", "errors": [refused]}
        posted = Posted(ts=f"1764572400.{next(self._ts):06d}", text=str(call.body.get("text")), blocks=blocks)
        self.messages[channel.id].append(posted)
        return {"ok": True, "channel": channel.id, "ts": posted.ts, "message": {"text": posted.text, "ts": posted.ts}}

    def _update(self, call: Call) -> dict[str, Any]:
        channel = self.channels.get(str(call.body.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.is_archived:
            return {"ok": False, "error": "is_archived"}
        message = next((m for m in self.messages[channel.id] if m.ts == call.body.get("ts")), None)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = _decoded(call.body.get("blocks"))
        refused = _refusal(blocks)
        if refused:
            return {"ok": False, "error": "invalid_blocks", "errors": [refused]}
        message.text, message.blocks, message.edits = str(call.body.get("text")), blocks, message.edits + 1
        return {"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text}

    def _delete(self, call: Call) -> dict[str, Any]:
        channel = self.channels.get(str(call.body.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        kept = [m for m in self.messages[channel.id] if m.ts != call.body.get("ts")]
        if len(kept) == len(self.messages[channel.id]):
            return {"ok": False, "error": "message_not_found"}
        self.messages[channel.id] = kept
        return {"ok": True, "channel": channel.id, "ts": call.body.get("ts")}

    def _shown(self, channel: Channel) -> dict[str, Any]:
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private,
            "is_private": channel.is_private,
            "is_archived": channel.is_archived,
            "creator": channel.creator,
            "created": 1764572400,
        }


def _decoded(blocks: Any) -> list[dict[str, Any]]:
    # chat.update is form-encoded: the SDK sends blocks as a JSON string there.
    if isinstance(blocks, str):
        decoded: list[dict[str, Any]] = json.loads(blocks)
        return decoded
    return list(blocks or [])


def _refusal(blocks: list[dict[str, Any]]) -> str:
    """What Slack refuses in blocks that matters here: an action id twice in one block, an over-long header."""
    for number, block in enumerate(blocks):
        if block.get("type") == "actions":
            ids = [element.get("action_id") for element in block.get("elements", [])]
            if len(ids) != len(set(ids)):
                return f"action_id already exists [json-pointer:/blocks/{number}]"
        if block.get("type") == "header" and len(block["text"]["text"]) > 150:
            return f"must be less than 151 characters [json-pointer:/blocks/{number}/text]"
    return ""


def fields_of(blocks: list[dict[str, Any]]) -> list[str]:
    """The fields of a message's first section (a headline's status, severity, roles and times)."""
    section = next(b for b in blocks if b["type"] == "section")
    return [field["text"] for field in section["fields"]]


def actions_of(blocks: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    """Each actions block's elements as (action_id, what it carries: a button's value or url, a menu's choice)."""
    shown = []
    for block in blocks:
        if block["type"] != "actions":
            continue
        row = []
        for element in block["elements"]:
            if element["type"] == "static_select":
                row.append((element["action_id"], element.get("initial_option", {}).get("value", "")))
            elif "url" in element:
                row.append((element["action_id"], element["url"]))
            else:
                row.append((element["action_id"], element["value"]))
        shown.append(row)
    return shown
