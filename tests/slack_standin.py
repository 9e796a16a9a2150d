"""A stand-in for Slack's Web API on 127.0.0.1: a real HTTP server the real slack_sdk.WebClient talks to.

Like Slack, it takes every method as a POST to /api/<method>, form-encoded (chat.postMessage as JSON),
with the bot token as a Bearer token, and answers HTTP 200 JSON with "ok". It records every call, and
can be told to answer the next call of a method otherwise: ok false, or 429 with Retry-After.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Call:
    """One call the stand-in received."""

    method: str
    body: dict[str, Any]
    authorization: str
    content_type: str


@dataclass
class Answer:
    """An answer to give instead of the usual one."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


# A method's behaviour: the call in, the JSON body to answer with HTTP 200 (or a whole Answer) out.
Behaviour = Callable[["Call"], "dict[str, Any] | Answer"]


class SlackStandin:
    """Slack's Web API as far as Kintsugi uses it: users.info here, other methods as tests teach it (`on`)."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self._behaviours: dict[str, Behaviour] = {}
        self.calls: list[Call] = []
        self._next: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The Web API's base URL, as KINTSUGI_SLACK_API_URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> SlackStandin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_member(self, user_id: str, email: str | None, name: str, *, is_bot: bool = False) -> None:
        """A workspace member users.info will describe (email None: hidden, as without users:read.email)."""
        profile: dict[str, Any] = {"real_name": name, "display_name": name.split()[0]}
        if email is not None:
            profile["email"] = email
        self.users[user_id] = {"id": user_id, "name": name.lower(), "is_bot": is_bot, "profile": profile}

    def answer_next(
        self, method: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next call of a method with this instead."""
        with self._lock:
            self._next.setdefault(method, []).append(Answer(status, body, headers or {}))

    def on(self, method: str, behaviour: Behaviour) -> None:
        """Answer every call of a method (after the bot token is checked) with what `behaviour` returns."""
        with self._lock:
            self._behaviours[method] = behaviour

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _answer(self, call: Call) -> Answer:
        with self._lock:
            self.calls.append(call)
            queued = self._next.get(call.method)
            if queued:
                return queued.pop(0)
        if call.authorization != "Bearer xoxb-test-token":
            return Answer(200, {"ok": False, "error": "invalid_auth"})
        if call.method == "users.info":
            user = self.users.get(str(call.body.get("user")))
            return Answer(200, {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"})
        behaviour = self._behaviours.get(call.method)
        if behaviour is not None:
            answered = behaviour(call)
            return answered if isinstance(answered, Answer) else Answer(200, answered)
        return Answer(200, {"ok": False, "error": "unknown_method"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                call = Call(
                    method=self.path.rsplit("/", 1)[-1],
                    body=body,
                    authorization=self.headers.get("Authorization", ""),
                    content_type=content_type,
                )
                answer = standin._answer(call)
                data = json.dumps(answer.body).encode("utf-8")
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the tests read the calls, not a log

        return Handler
