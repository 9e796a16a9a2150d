"""The review page and the document in a real browser, read at desktop width by a responder in New York
and a viewer in Tokyo, each with an en-US browser: every time in the reader's zone (the pre-filled ones
too), date-time inputs year first in 24 hours with the zone beside them, and a refused publish that
stays on the review page and survives a reload without publishing again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser import screenshot
from conftest import PASSWORD, make_user
from flask import Flask
from sqlalchemy import func, select
from test_incidents_review_browser import resolved_incident, submit

from incidents.database import get_session
from incidents.models import Role
from incidents.postmortems.models import PostmortemChange

pytest.importorskip("playwright.sync_api")
DESKTOP = {"width": 1280, "height": 900}


def signed_in_page(chromium: Any, base_url: str, email: str, zone: str) -> Any:
    """A desktop page of an en-US browser in the zone, signed in (the profile names no zone: the browser's counts)."""
    context = chromium.new_context(timezone_id=zone, locale="en-US", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))
    page.wait_for_function("document.cookie.includes('kintsugi_tz=')")
    return page


def shown_times(page: Any) -> list[str]:
    """The words of every <time> with a time of day on the page's main part."""
    texts: list[str] = page.locator("main time").all_inner_texts()
    return [t for t in texts if re.search(r"\d{2}:\d{2}", t)]


def changes(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(PostmortemChange)) or 0


def test_times_are_the_readers_and_a_refused_publish_survives_a_reload(
    app: Flask, chromium: Any, base_url: str
) -> None:
    make_user(app, "rae@example.com", zone=None)
    make_user(app, "vic@example.com", role=Role.VIEWER, zone=None)
    incident_id = resolved_incident(app, "rae@example.com")

    page = signed_in_page(chromium, base_url, "rae@example.com", "America/New_York")
    page.goto(f"{base_url}/incidents/{incident_id}")
    submit(page, page.locator("#postmortem").get_by_role("button", name="Start the post-mortem"))
    review_url = page.url
    assert page.locator(".account .zone").inner_text() == "America/New_York"
    # The pre-filled times are the reader's, in the editor too; so is every other time on the page.
    impact = page.locator("#section-impact").get_by_label("Impact", exact=True).input_value()
    assert "Fri 2026-11-20 05:00 EST" in impact and "Fri 2026-11-20 05:45 EST" in impact and "UTC" not in impact
    detection = page.locator("#section-detection").get_by_label("How it was discovered", exact=True).input_value()
    assert "Fri 2026-11-20 05:06 EST" in detection
    times = shown_times(page)
    assert times and all(t.endswith(" EST") for t in times), times
    assert " UTC" not in page.locator("main").inner_text()

    # The meeting time: typed year first in 24 hours, the zone named beside the box, whatever the locale.
    details = page.locator("#review details")
    details.locator("summary").click()
    meeting = details.get_by_label("Review meeting")
    assert meeting.get_attribute("type") == "text"
    assert page.locator("#meeting_at-zone").inner_text() == "America/New_York"
    meeting.fill("2026-11-23 14:30")
    submit(page, details.get_by_role("button", name="Save the review details"))
    assert page.locator(".flash-status").inner_text() == "Saved the review details."
    assert "Mon 2026-11-23 14:30 EST" in page.locator("#review dl").inner_text()
    page.locator("#review details summary").click()
    assert page.locator("#review").get_by_label("Review meeting").input_value() == "2026-11-23 14:30"
    entry_when = page.locator("#timeline").get_by_label("When it happened")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", entry_when.input_value())

    # A countermeasure, then publish: refused, because the required sections hold only the pre-fill.
    items = page.locator("#action-items")
    items.get_by_label("Countermeasure").fill("Count every 5xx in the canary check")
    items.get_by_label("Owner (a person)").select_option(label="Rae")
    submit(page, items.get_by_role("button", name="Add action item"))
    assert page.locator(".flash-status").inner_text() == "Added “Count every 5xx in the canary check”."
    before = changes(app)
    submit(page, page.get_by_role("button", name="Publish"))
    assert page.url.split("#")[0] == review_url
    methods: list[str] = []
    page.on("request", lambda request: methods.append(request.method) if request.resource_type == "document" else None)
    for _ in range(2):
        assert "Not published yet." in page.locator(".refusal").inner_text()
        assert "“Impact” is required and holds only the pre-filled text and its prompt" in (
            page.locator("#problem-impact").inner_text()
        )
        assert page.locator("#problem-summary").is_visible() and page.locator("#problem-detection").is_visible()
        page.reload()
    assert methods == ["GET", "GET"]  # a reload reads the page; it does not publish again
    screenshot(page, "review-refused-new-york")
    assert changes(app) == before
    assert page.locator("[data-review-status]").inner_text() == "draft"
    page.context.close()

    # A viewer in Tokyo reads the same review and the document in Tokyo's time.
    viewer = signed_in_page(chromium, base_url, "vic@example.com", "Asia/Tokyo")
    viewer.goto(review_url)
    prose = viewer.locator("#section-impact .prose").inner_text()
    assert "Impact began: Fri 2026-11-20 19:00 JST" in prose
    times = shown_times(viewer)
    assert times and all(t.endswith(" JST") for t in times), times
    assert " UTC" not in viewer.locator("main").inner_text()
    viewer.get_by_role("link", name="Read as one document").click()
    document = viewer.locator("article.document")
    assert document.locator(".zone-note").inner_text() == "Times are in Asia/Tokyo."
    text = document.inner_text()
    assert "Fri 2026-11-20 19:00 JST" in text and "Fri 2026-11-20 19:06 JST" in text
    assert " UTC" not in text and " EST" not in text
    times = shown_times(viewer)
    assert times and all(t.endswith(" JST") for t in times), times
    viewer.context.close()
