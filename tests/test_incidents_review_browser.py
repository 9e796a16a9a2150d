"""The whole blameless review in a real browser (Debian's Chromium driven by Playwright).

From a resolved incident: start the post-mortem, fill the sections, add contributing factors (with a
"how") and a countermeasure, see a blameless finding and resolve it by rewording, publish, and read
the published document. The review page and the document are screenshotted and checked with axe-core.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser import accessibility_violations, screenshot
from conftest import PASSWORD, make_user
from flask import Flask
from sqlalchemy import select

from incidents.database import get_session
from incidents.models import EntryKind, Status, User
from incidents.service import declare_incident, update_incident
from incidents.timeline import record_timeline_entry

pytest.importorskip("playwright.sync_api")
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def resolved_incident(app: Flask, email: str) -> int:
    """A resolved SEV2 incident: an alert, a rollback, key times set."""
    with app.app_context():
        session = get_session()
        actor = session.scalar(select(User).where(User.email == email))
        assert actor is not None
        incident = declare_incident(
            session,
            actor=actor,
            title="Checkout 502s",
            severity="SEV2",
            summary="Card payments failed.",
            services=["checkout"],
            started_at=T0,
            detected_at=T0 + timedelta(minutes=7),
        )
        record_timeline_entry(
            session,
            actor=actor,
            incident_id=incident.id,
            text="HighErrorRate firing for checkout",
            occurred_at=T0 + timedelta(minutes=6),
            kind=EntryKind.ALERT,
        )
        record_timeline_entry(
            session,
            actor=actor,
            incident_id=incident.id,
            text="Rolled back gateway 4.12",
            occurred_at=T0 + timedelta(minutes=40),
            kind=EntryKind.ACTION,
        )
        update_incident(
            session,
            actor=actor,
            incident_id=incident.id,
            status=Status.RESOLVED,
            mitigated_at=T0 + timedelta(minutes=45),
            resolved_at=T0 + timedelta(minutes=90),
        )
        return incident.id


def submit(page: Any, button: Any) -> None:
    """Click a button that submits a form and wait for the page it leads to."""
    with page.expect_navigation():
        button.click()


def save_section(page: Any, key: str, title: str, text: str) -> None:
    section = page.locator(f"#section-{key}")
    section.get_by_label(title, exact=True).fill(text)
    submit(page, section.get_by_role("button", name=f"Save “{title}”"))


def test_the_whole_review_from_a_resolved_incident_to_the_published_document(
    app: Flask, chromium: Any, base_url: str
) -> None:
    make_user(app, "pat@example.com", zone="Europe/Berlin")
    incident_id = resolved_incident(app, "pat@example.com")
    context = chromium.new_context(timezone_id="Europe/Berlin", locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill("pat@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))

    # Start from the incident page, with the template suggested for its severity.
    page.goto(f"{base_url}/incidents/{incident_id}")
    area = page.locator("#postmortem")
    assert area.get_by_label("Template").input_value() == "handbook"
    submit(page, area.get_by_role("button", name="Start the post-mortem"))
    assert re.search(r"/postmortems/\d+$", page.url)
    review_url = page.url
    assert page.locator("[data-review-status]").inner_text() == "draft"
    # The agreed timeline starts with the alert ticked; the rollback is ticked into it.
    timeline = page.locator("#timeline")
    assert timeline.get_by_label(re.compile("HighErrorRate firing")).is_checked()
    timeline.get_by_label(re.compile("Rolled back gateway")).check()
    submit(page, timeline.get_by_role("button", name="Save agreed timeline"))
    assert page.locator("#timeline").get_by_label(re.compile("Rolled back gateway")).is_checked()

    # While typing, before any save, the check already points at the counterfactual.
    summary = page.locator("#section-summary")
    summary.get_by_label("Summary", exact=True).press_sequentially("If only we had known.", delay=5)
    live = summary.locator(".live-findings .finding")
    live.first.wait_for(timeout=5_000)
    assert "“If only”" in live.first.inner_text() and "why did it make sense" in live.first.inner_text()
    assert summary.locator("ul.findings").count() == 0  # the saved text has none: this is the draft's

    # Fill the sections; one says what we should have done, and the check says why that hurts.
    save_section(page, "summary", "Summary", "Card payments failed for 45 minutes. We should have rolled back sooner.")
    finding = page.locator("#section-summary .finding")
    assert finding.count() == 1
    assert "should have" in finding.inner_text() and "Counterfactuals" in finding.inner_text()
    save_section(page, "lucky", "Where we got lucky", "The failure began outside the sale's peak hour.")
    save_section(page, "went_well", "What went well", "The alert fired within a minute.")
    assert page.locator(".flash-status").inner_text() == "Saved “What went well”."
    # The required sections pre-filled from the record count once a person adds what the review found.
    for key, title, words in (
        ("impact", "Impact", "Every card payment in the EU failed."),
        ("detection", "How it was discovered", "The error-rate alert paged the on-call engineer."),
    ):
        prefilled = page.locator(f"#section-{key}").get_by_label(title, exact=True).input_value()
        assert "Fri 2026-11-20 11:00 CET" in prefilled or key == "detection"
        save_section(page, key, title, prefilled + "\n\n" + words)

    # Contributing factors, with a "how" under one.
    factors = page.locator("#factors")
    factors.get_by_label("Contributing factor").fill("The canary check ignored 502 responses")
    factors.get_by_label("Category").select_option("detection")
    submit(page, factors.get_by_role("button", name="Add contributing factor"))
    factor = page.locator("#factors li", has_text="The canary check ignored 502 responses").first
    factor.locator("summary", has_text="Ask how").click()
    factor.get_by_label("How?").fill("Its query counted only status 500")
    submit(page, factor.get_by_role("button", name="Add the how"))
    assert page.locator("#factors .how").count() == 1

    # A countermeasure, owned; its due date defaults by priority.
    items = page.locator("#action-items")
    items.get_by_label("Countermeasure").fill("Count every 5xx in the canary check")
    items.get_by_label("Owner (a person)").select_option(label="Pat")
    items.get_by_label("Type").select_option("detect")
    submit(page, items.get_by_role("button", name="Add action item"))
    assert "Owner: Pat" in page.locator("#action-items .item").inner_text()
    screenshot(page, "review-with-finding")
    assert accessibility_violations(page, "review") == []

    # Publishing now is refused: the finding must be reworded or acknowledged.
    submit(page, page.get_by_role("button", name="Submit for review"))
    assert page.locator("[data-review-status]").inner_text() == "in review"
    submit(page, page.get_by_role("button", name="Publish"))
    assert page.url.split("#")[0] == review_url
    assert "Not published yet." in page.locator(".refusal").inner_text()
    assert page.get_by_label("Acknowledge “should have”").count() == 1
    screenshot(page, "review-publish-refused")

    # Reword it: describe what happened and why it made sense; the finding goes away.
    page.goto(review_url)
    save_section(
        page,
        "summary",
        "Summary",
        "Card payments failed for 45 minutes. The runbook said to wait for retries, so the rollback came at 10:40.",
    )
    assert page.locator("#section-summary .finding").count() == 0
    submit(page, page.get_by_role("button", name="Publish"))

    # The published document: every part in one readable page, with a Markdown download.
    assert page.url.endswith("/document")
    document = page.locator("article.document")
    assert page.locator("h1").inner_text() == "Checkout 502s"
    text = document.inner_text()
    assert "The runbook said to wait for retries" in text
    assert "Its query counted only status 500" in text and "Count every 5xx in the canary check" in text
    assert "Rolled back gateway 4.12" in text and "Fri 2026-11-20 11:40 CET" in text
    assert "published" in document.locator(".facts").inner_text()
    assert page.get_by_role("link", name="Download as Markdown").count() == 1
    screenshot(page, "postmortem-document")
    assert accessibility_violations(page, "postmortem-document") == []

    # The history and the action items list, checked too.
    page.get_by_role("link", name="History").click()
    assert "Published (0 finding(s) acknowledged)." in page.locator("main").inner_text()
    assert page.locator(".diff-add", has_text="The runbook said to wait for retries").count() == 1
    screenshot(page, "postmortem-history")
    assert accessibility_violations(page, "postmortem-history") == []
    page.get_by_role("link", name="Action items").click()
    assert page.locator("table.action-items tbody tr").count() == 1
    screenshot(page, "action-items")
    assert accessibility_violations(page, "action-items") == []

    # On a phone, the review page stays within the screen.
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, timezone_id="Europe/Berlin")
    small = phone.new_page()
    small.goto(f"{base_url}/login")
    small.get_by_label("Email").fill("pat@example.com")
    small.get_by_label("Password").fill(PASSWORD)
    submit(small, small.get_by_role("button", name="Sign in"))
    small.goto(review_url)
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(small, "review-phone")
    small.goto(f"{base_url}/")
    screenshot(small, "home-with-review-phone")
    phone.close()
    context.close()
