"""Who may see and change what: viewers read, restricted incidents exist only for participants and admins."""

from __future__ import annotations

from typing import Any

from conftest import Caller, declare


def test_a_viewer_reads_but_cannot_write(responder: Caller, make_caller: Any) -> None:
    viewer = make_caller("viewer")
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}"
    assert viewer.get(path).status_code == 200
    assert viewer.get(path + "/timeline").status_code == 200
    assert [i["id"] for i in viewer.get("/api/incidents").get_json()["incidents"]] == [incident["id"]]
    for response in (
        viewer.post("/api/incidents", {"title": "x", "severity": "SEV1"}),
        viewer.patch(path, {"title": "mine now"}),
        viewer.post(path + "/timeline", {"text": "hello"}),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert responder.get(path).get_json()["title"] == "Checkout errors"


def test_a_restricted_incident_does_not_exist_for_outsiders(responder: Caller, admin: Caller, make_caller: Any) -> None:
    outsider = make_caller("responder")
    insider = make_caller("responder", email="ines@example.com")
    open_one = declare(responder, title="open")
    secret = declare(responder, title="secret", visibility="restricted")
    responder.patch(f"/api/incidents/{secret['id']}", {"roles": {"participants": ["ines@example.com"]}})
    path = f"/api/incidents/{secret['id']}"

    for response in (
        outsider.get(path),
        outsider.get(path + "/timeline"),
        outsider.patch(path, {"title": "x"}),
        outsider.post(path + "/timeline", {"text": "x"}),
    ):
        assert response.status_code == 404
    missing = outsider.get("/api/incidents/987654")
    assert outsider.get(path).get_json()["error"]["message"] == f"incident {secret['id']} not found"
    assert missing.get_json()["error"]["message"] == "incident 987654 not found"
    assert [i["title"] for i in outsider.get("/api/incidents").get_json()["incidents"]] == ["open"]
    assert outsider.get("/api/incidents?q=secret").get_json()["incidents"] == []

    assert insider.get(path).status_code == 200
    assert {i["title"] for i in insider.get("/api/incidents").get_json()["incidents"]} == {"open", "secret"}
    assert admin.get(path).status_code == 200
    assert {i["title"] for i in admin.get("/api/incidents").get_json()["incidents"]} == {"open", "secret"}
    assert open_one["visibility"] == "open"


def test_a_restricted_viewer_participant_reads_but_cannot_write(responder: Caller, make_caller: Any) -> None:
    viewer = make_caller("viewer", email="vic@example.com")
    secret = declare(responder, visibility="restricted")
    responder.patch(f"/api/incidents/{secret['id']}", {"roles": {"participants": ["vic@example.com"]}})
    assert viewer.get(f"/api/incidents/{secret['id']}").status_code == 200
    assert viewer.post(f"/api/incidents/{secret['id']}/timeline", {"text": "x"}).status_code == 403


def test_removing_an_outsider_from_roles_hides_the_incident_again(responder: Caller, make_caller: Any) -> None:
    guest = make_caller("responder", email="guest@example.com")
    secret = declare(responder, visibility="restricted", commander="guest@example.com")
    path = f"/api/incidents/{secret['id']}"
    assert guest.get(path).status_code == 200
    responder.patch(path, {"roles": {"commander": "riley@example.com"}})
    assert guest.get(path).status_code == 404


def test_each_request_answers_for_its_own_token_while_an_app_context_is_held(
    app: Any, responder: Caller, make_caller: Any
) -> None:
    # A test or script that holds an app context open shares it (and its g) across requests.
    outsider = make_caller("responder", email="otto@example.com")
    secret = declare(responder, visibility="restricted")
    with app.app_context():
        assert responder.get("/api/me").get_json()["email"] == "riley@example.com"
        assert outsider.get("/api/me").get_json()["email"] == "otto@example.com"
        assert outsider.get(f"/api/incidents/{secret['id']}").status_code == 404
