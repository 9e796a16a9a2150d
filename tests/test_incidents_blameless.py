"""The blameless check: its findings, its scores on a labelled corpus, and POST /api/lint."""

from __future__ import annotations

from typing import Any

from blameless_corpus import load, score

from incidents.postmortems.blameless import BLAME, COUNTERFACTUAL, TRY_HARDER, check_language


def test_the_corpus_holds_both_kinds_of_sentence() -> None:
    people, cases = load()
    kinds = [rule for rule, _ in cases]
    assert len(people) >= 5
    assert kinds.count("neutral") >= 40
    assert min(kinds.count(r) for r in (COUNTERFACTUAL, BLAME, TRY_HARDER)) >= 12


def test_precision_and_recall_on_the_corpus() -> None:
    result = score()
    assert result.false_alarms == []  # a neutral sentence flagged teaches people to ignore the check
    assert result.precision >= 0.95
    assert result.recall >= 0.9, result.misses
    assert result.wrong_rule == []


def test_a_finding_names_its_exact_span_and_explains_itself() -> None:
    text = "At 14:10 we rolled back. We should have paged sooner."
    [finding] = check_language(text)
    assert text[finding.start : finding.end] == "should have"
    assert finding.rule == COUNTERFACTUAL
    assert "hindsight" in finding.message
    assert finding.suggestion == "Describe what happened and ask: why did it make sense at the time?"


def test_findings_come_in_order_without_overlaps() -> None:
    text = "Human error: Bob forgot to drain the node. Engineers must double-check drains. It could've been worse."
    findings = check_language(text, people=["Bob Stone"])
    assert [(f.rule, text[f.start : f.end]) for f in findings] == [
        (BLAME, "Human error"),
        (BLAME, "forgot to"),
        (TRY_HARDER, "double-check"),
        (COUNTERFACTUAL, "could've"),
    ]


def test_named_people_are_persons_only_when_they_are_people_of_the_organisation() -> None:
    assert [f.rule for f in check_language("Ana caused the outage.", people=["Ana Lima"])] == [BLAME]
    assert check_language("Ana Lima rolled back the deploy at 14:10.", people=["Ana Lima"]) == []
    # A system named like a word is never a person: only the people given are.
    assert check_language("The scheduler caused the outage.", people=["Ana Lima"]) == []


def test_the_api_lints_text_with_the_organisations_names(make_caller: Any) -> None:
    caller = make_caller("viewer", name="Zed Quinn")
    response = caller.post("/api/lint", {"text": "Zed caused it. Zed Quinn rolled back at 14:10."})
    assert response.status_code == 200
    findings = response.get_json()["findings"]
    assert findings == [
        {
            "start": 0,
            "end": 10,
            "rule": BLAME,
            "message": findings[0]["message"],
            "suggestion": "Ask: what made this easy to get wrong? What did the system, tools or process allow?",
        }
    ]
    assert caller.post("/api/lint", {"text": "All green."}).get_json() == {"findings": []}


def test_the_api_refuses_what_it_cannot_read(make_caller: Any, client: Any) -> None:
    caller = make_caller("viewer")
    for body, field in [
        ({}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x" * 200_001}, "text"),
        ({"text": "ok", "more": 1}, "more"),
    ]:
        response = caller.post("/api/lint", body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["field"] == field
    assert caller.post("/api/lint", raw=b'{"text": "unterminated').status_code == 400
    assert client.post("/api/lint", json={"text": "should have"}).status_code == 401
