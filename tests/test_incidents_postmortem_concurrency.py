"""Saves made at once never lose an edit: of eight saves of one section on one version, exactly one
wins and the others get 409 with the text that won, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from conftest import Caller, declare
from flask import Flask

from incidents.database import get_session
from incidents.errors import Conflict
from incidents.models import User
from incidents.postmortems import service as postmortem_service

SAVERS = 8


def test_eight_saves_on_one_version_one_wins_the_rest_are_told(
    app: Flask, responder: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = declare(responder, title="Checkout 502s", severity="SEV2")
    postmortem = responder.post(f"/api/incidents/{incident['id']}/postmortem", {}).get_json()
    section = postmortem["sections"][0]
    # Every saver reads the section, then all wait here (the text check runs after the read and
    # before the write) until all have read: the race a busy review meeting makes, made certain.
    everyone_read = threading.Barrier(SAVERS, timeout=20)
    real_text = postmortem_service.validation.text

    def text_after_everyone_read(value: str, **kw: Any) -> str:
        if kw.get("field") == "body":
            everyone_read.wait()
        return real_text(value, **kw)

    monkeypatch.setattr(postmortem_service.validation, "text", text_after_everyone_read)
    outcomes: list[str] = []

    def save(n: int) -> None:
        with app.app_context():
            session = get_session()
            actor = session.get(User, responder.user.id)
            assert actor is not None
            try:
                postmortem_service.save_section(
                    session,
                    actor=actor,
                    postmortem_id=postmortem["id"],
                    key=section["key"],
                    body=f"Saver {n} was here.",
                    version=section["version"],
                )
                outcomes.append(f"saved {n}")
            except Conflict as exc:
                assert exc.details is not None
                outcomes.append(f"refused, current: {exc.details['current_body']}")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(SAVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    monkeypatch.undo()
    saved = [o for o in outcomes if o.startswith("saved")]
    assert len(outcomes) == SAVERS and len(saved) == 1, outcomes
    winner = saved[0].removeprefix("saved ")
    assert outcomes.count(f"refused, current: Saver {winner} was here.") == SAVERS - 1
    stored = responder.get(f"/api/postmortems/{postmortem['id']}").get_json()
    stored_section = next(s for s in stored["sections"] if s["key"] == section["key"])
    assert stored_section["body"] == f"Saver {winner} was here."
    assert stored_section["version"] == section["version"] + 1
