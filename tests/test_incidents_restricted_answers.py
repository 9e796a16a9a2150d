"""A restricted incident's contributing factors, action items and external ids answer an outsider exactly
as if they did not exist: the same status and the same bytes, through the API and the pages, for a
viewer and for a responder outside the incident.

Each test asks about the hidden record, then deletes it and asks again with the same id (now an id
that does not exist), and compares the two answers byte for byte; only what differs between any two
pages drawn a second apart (CSRF tokens, a form's default time of "now") is set aside."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import PASSWORD, Caller, csrf_of, declare, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from incidents.database import get_session
from incidents.models import TimelineEntry
from incidents.postmortems.models import ActionItem, ContributingFactor

SECRET_TITLE = "Payroll export mailed to the wrong bank"
ROLES = ("viewer", "responder")


@dataclass(frozen=True)
class Review:
    incident_id: int
    postmortem_id: int
    factor_id: int
    action_item_id: int


def review_of(caller: Caller, **incident: Any) -> Review:
    """An incident with a post-mortem holding one contributing factor and one action item."""
    declared = declare(caller, **incident)
    postmortem = caller.post(f"/api/incidents/{declared['id']}/postmortem", {}).get_json()
    factor = caller.post(
        f"/api/postmortems/{postmortem['id']}/factors",
        {"text": "The export job read a stale config", "category": "process"},
    )
    item = caller.post(
        f"/api/postmortems/{postmortem['id']}/action-items",
        {"title": "Check the bank of every export", "owner": caller.user.email},
    )
    assert factor.status_code == 201 and item.status_code == 201
    return Review(declared["id"], postmortem["id"], factor.get_json()["id"], item.get_json()["id"])


@pytest.fixture
def riley(make_caller: Any) -> Caller:
    return make_caller("responder", email="riley@example.com", name="Riley Responder", password=PASSWORD)


@pytest.fixture
def secret(riley: Caller) -> Review:
    return review_of(riley, title=SECRET_TITLE, visibility="restricted")


@pytest.fixture
def open_review(riley: Caller) -> Review:
    return review_of(riley, title="Search was slow")


def outsider(make_caller: Any, role: str) -> Caller:
    return make_caller(role, email=f"out-{role}@example.com", name=f"Out {role.title()}", password=PASSWORD)


def forget(app: Flask, model: type[Any], record_id: int) -> None:
    """Delete the record, so that its id is one that does not exist."""
    with app.app_context():
        session = get_session()
        session.execute(delete(model).where(model.id == record_id))
        session.commit()


def same_answer_once_gone(app: Flask, model: type[Any], record_id: int, ask: Callable[[], Any]) -> Any:
    """Ask about the hidden record, delete it, ask again; the two answers must be the same bytes."""
    hidden = ask()
    forget(app, model, record_id)
    missing = ask()
    assert hidden == missing
    return hidden


def api_answer(response: Any) -> tuple[int, str, bytes]:
    return response.status_code, response.headers.get("Content-Type", ""), response.get_data()


# What differs between any two pages drawn a second apart: the CSRF token, and the default time of
# the review page's form for a timeline entry found in the meeting, which is "now".
OF_THE_MOMENT = re.compile(r'(name="(?:csrf_token|occurred_at)"[^>]*?value=")[^"]*(")')


def page_answer(response: Any) -> tuple[int, str, str]:
    page = OF_THE_MOMENT.sub(r"\1…\2", response.get_data(as_text=True))
    return response.status_code, response.headers.get("Location", ""), page


def signed_in_client(app: Flask, caller: Caller) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, caller.user.email).status_code == 302
    return client


def form_post(client: FlaskClient, url: str, data: dict[str, str], *, follow: bool = False) -> Any:
    token = csrf_of(client.get("/incidents").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=follow)


# The JSON API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_a_hidden_factor_answers_the_api_as_a_missing_one(
    app: Flask, make_caller: Any, secret: Review, role: str, method: str
) -> None:
    stranger = outsider(make_caller, role)
    body = {"text": "Reworded by a stranger", "category": "process"} if method == "PATCH" else None
    status, _, raw = same_answer_once_gone(
        app,
        ContributingFactor,
        secret.factor_id,
        lambda: api_answer(stranger.call(method, f"/api/factors/{secret.factor_id}", body)),
    )
    expected = 403 if role == "viewer" else 404
    assert status == expected
    assert SECRET_TITLE.encode() not in raw and f"post-mortem {secret.postmortem_id}".encode() not in raw


@pytest.mark.parametrize("role", ROLES)
def test_a_hidden_factor_as_parent_answers_as_a_missing_one(
    app: Flask, make_caller: Any, secret: Review, role: str
) -> None:
    stranger = outsider(make_caller, role)
    own = review_of(make_caller("responder", email="own@example.com"), title="Own review")
    body = {"text": "How it happened", "category": "process", "parent_id": secret.factor_id}
    status, _, _ = same_answer_once_gone(
        app,
        ContributingFactor,
        secret.factor_id,
        lambda: api_answer(stranger.post(f"/api/postmortems/{own.postmortem_id}/factors", body)),
    )
    assert status == (403 if role == "viewer" else 422)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("change", [{"status": "done"}, {"title": "Renamed by a stranger"}])
def test_a_hidden_action_item_answers_the_api_as_a_missing_one(
    app: Flask, make_caller: Any, secret: Review, role: str, change: dict[str, str]
) -> None:
    stranger = outsider(make_caller, role)
    status, _, raw = same_answer_once_gone(
        app,
        ActionItem,
        secret.action_item_id,
        lambda: api_answer(stranger.patch(f"/api/action-items/{secret.action_item_id}", change)),
    )
    assert status == (403 if role == "viewer" else 404)
    assert f"incident {secret.incident_id}".encode() not in raw


def test_a_responder_outside_is_told_only_that_the_id_is_not_found(
    app: Flask, make_caller: Any, secret: Review
) -> None:
    stranger = outsider(make_caller, "responder")
    factor = stranger.patch(f"/api/factors/{secret.factor_id}", {"text": "x"}).get_json()["error"]
    item = stranger.patch(f"/api/action-items/{secret.action_item_id}", {"status": "done"}).get_json()["error"]
    assert factor == {
        "code": "not_found",
        "message": f"contributing factor {secret.factor_id} not found",
        "field": None,
    }
    assert item == {"code": "not_found", "message": f"action item {secret.action_item_id} not found", "field": None}


def test_a_viewer_is_refused_writing_before_any_id_is_looked_up(make_caller: Any, open_review: Review) -> None:
    viewer = outsider(make_caller, "viewer")
    for response in (
        viewer.patch(f"/api/factors/{open_review.factor_id}", {"text": "x"}),
        viewer.delete("/api/factors/987654"),
        viewer.patch("/api/action-items/987654", {"status": "done"}),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"]["message"] == "your account may read incidents but not change them"


# The pages ------------------------------------------------------------------------------------------


def page_requests(review: Review, item: int, factor: int) -> dict[str, tuple[str, dict[str, str], bool]]:
    """Each form that names a factor or an action item: its URL (under the given review), data, and
    whether its answer is a redirect to follow (a status change from the action items list)."""
    base = f"/postmortems/{review.postmortem_id}"
    decided = {"title": "Renamed", "owner": "", "owner_team": "payments", "priority": "idea", "type": "process"}
    return {
        "reword factor": (f"{base}/factors/{factor}", {"text": "Reworded", "category": "process"}, False),
        "remove factor": (f"{base}/factors/{factor}/remove", {}, False),
        "add a how": (f"{base}/factors", {"text": "How", "category": "process", "parent_id": str(factor)}, False),
        "change item": (f"{base}/action-items/{item}", decided, False),
        "move item": (f"{base}/action-items/{item}/status", {"status": "done"}, False),
        "move item from the list": (
            f"{base}/action-items/{item}/status",
            {"status": "done", "back": "/action-items"},
            True,
        ),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("under", ["a review the outsider sees", "the hidden review"])
@pytest.mark.parametrize(
    "name", ["reword factor", "remove factor", "add a how", "change item", "move item", "move item from the list"]
)
def test_a_hidden_factor_or_item_answers_the_pages_as_a_missing_one(
    app: Flask, make_caller: Any, secret: Review, open_review: Review, role: str, under: str, name: str
) -> None:
    client = signed_in_client(app, outsider(make_caller, role))
    review = open_review if under == "a review the outsider sees" else secret
    url, data, follow = page_requests(review, secret.action_item_id, secret.factor_id)[name]
    model = ContributingFactor if "factor" in name or "how" in name else ActionItem
    record_id = secret.factor_id if model is ContributingFactor else secret.action_item_id
    status, _, page = same_answer_once_gone(
        app, model, record_id, lambda: page_answer(form_post(client, url, data, follow=follow))
    )
    assert SECRET_TITLE not in page
    if follow:
        assert status == 200 and "Action items" in page
    elif role == "viewer":
        assert status in (403, 404)
    else:
        assert status in (404, 422)
    if under == "the hidden review" and not follow:
        assert f"post-mortem {secret.postmortem_id} not found" in page


# External ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_an_external_id_held_by_a_hidden_incident_says_only_that_it_is_taken(
    app: Flask, make_caller: Any, riley: Caller, role: str
) -> None:
    stranger = outsider(make_caller, role)
    # A viewer cannot declare: the incident it writes to is someone else's (open, so it sees it).
    own = declare(stranger if role == "responder" else make_caller("responder"), title="Own incident")
    hidden = declare(riley, title=SECRET_TITLE, visibility="restricted")
    visible = declare(riley, title="Search was slow")
    event = {"text": "Imported from the old tracker", "source": "import", "external_id": "legacy-7"}
    assert riley.post(f"/api/incidents/{hidden['id']}/timeline", event).status_code == 201

    def ask() -> tuple[int, str, bytes]:
        return api_answer(stranger.post(f"/api/incidents/{own['id']}/timeline", {**event, "text": "mine"}))

    held_by_hidden = ask()
    with app.app_context():
        session = get_session()
        session.execute(delete(TimelineEntry).where(TimelineEntry.external_id == "legacy-7"))
        session.commit()
    assert riley.post(f"/api/incidents/{visible['id']}/timeline", event).status_code == 201
    held_by_visible = ask()
    assert held_by_hidden == held_by_visible
    status, _, raw = held_by_hidden
    if role == "viewer":
        assert status == 403
        return
    assert status == 409
    error = stranger.post(f"/api/incidents/{own['id']}/timeline", event).get_json()["error"]
    assert error == {
        "code": "conflict",
        "message": "external_id 'legacy-7' is taken for import events: choose another",
        "field": "external_id",
    }
    assert SECRET_TITLE.encode() not in raw and b"incident" not in raw
