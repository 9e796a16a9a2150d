"""A restricted incident and its post-mortem never reach someone outside it through the library: not
in hits, totals, facet counts, suggestions, highlights or similar lists; its participants and admins
find it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Caller
from flask import Flask
from library import index_now, published

# Every test here runs against each engine the run offers (see conftest.pytest_generate_tests).
pytestmark = pytest.mark.usefixtures("search_backend")

SECRET_WORD = "zanzibarite"


@pytest.fixture
def hidden(app: Flask, make_caller: Any, responder: Caller) -> dict[str, Any]:
    """One open post-mortem, and a restricted one whose words appear nowhere else."""
    published(
        responder,
        title="Payments queue backed up",
        summary="The payments queue backed up behind a slow consumer.",
        services=["payments"],
        factors=[("design decision", "One consumer served every queue")],
    )
    insider = make_caller("responder", email="insider@example.com", name="Ina Insider")
    found = published(
        insider,
        title=f"Credential leak in the {SECRET_WORD} vault",
        summary=f"Keys of the {SECRET_WORD} vault were exposed to the payments queue workers.",
        services=["vault"],
        factors=[("dependency", f"The {SECRET_WORD} vault shared its keys with the payments queue")],
        visibility="restricted",
        severity="SEV1",
    )
    index_now(app)
    return {"postmortem": found, "insider": insider}


def search(caller: Caller, **params: Any) -> dict[str, Any]:
    response = caller.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def test_outsiders_never_see_a_restricted_post_mortem_anywhere(
    responder: Caller, make_caller: Any, hidden: dict[str, Any]
) -> None:
    outsider = make_caller("viewer", email="out@example.com", name="Otto Outsider")
    for caller in (outsider, responder):
        for q in (SECRET_WORD, "vault", "credential leak", "payments queue", "", "service:vault", "dependency"):
            answer = search(caller, q=q)
            text = repr(answer).lower()
            assert SECRET_WORD not in text and "vault" not in text.replace(q.lower(), ""), (q, answer)
            assert all(hit["severity"] != "SEV1" for hit in answer["hits"])
        everything = search(caller, q="")
        assert everything["total"] == 1
        facets = {name: {f["value"]: f["count"] for f in values} for name, values in everything["facets"].items()}
        assert facets["severity"] == {"SEV2": 1} and "vault" not in facets["service"]
        assert "dependency" not in facets["category"]
        # A misspelling of the hidden word suggests nothing, and finds nothing fuzzily.
        near = search(caller, q="zanzibarote")
        assert near["suggestion"] is None and near["total"] == 0
        similar = caller.post("/api/similar", {"text": f"{SECRET_WORD} vault keys exposed"}).get_json()["similar"]
        assert all(SECRET_WORD not in hit["title"] for hit in similar)
        assert caller.get(f"/api/incidents/{hidden['postmortem']['incident_id']}/similar").status_code == 404


def test_participants_and_admins_find_it(admin: Caller, hidden: dict[str, Any]) -> None:
    for caller in (hidden["insider"], admin):
        answer = search(caller, q=SECRET_WORD)
        assert [hit["title"] for hit in answer["hits"]] == [f"Credential leak in the {SECRET_WORD} vault"]
        assert any(f"<mark>{SECRET_WORD}</mark>" in h for h in answer["hits"][0]["highlights"])
        assert search(caller, q="")["total"] == 2
        assert search(caller, q="zanzibarote")["suggestion"] == SECRET_WORD


def test_a_new_participant_finds_it_once_the_index_has_seen_the_role(
    app: Flask, make_caller: Any, hidden: dict[str, Any]
) -> None:
    newcomer = make_caller("responder", email="new@example.com", name="Nia Newcomer")
    assert search(newcomer, q=SECRET_WORD)["total"] == 0
    incident_id = hidden["postmortem"]["incident_id"]
    added = hidden["insider"].patch(f"/api/incidents/{incident_id}", {"roles": {"participants": ["new@example.com"]}})
    assert added.status_code == 200, added.get_json()
    index_now(app)
    assert search(newcomer, q=SECRET_WORD)["total"] == 1
