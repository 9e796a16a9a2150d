"""The responder's pages in a real browser (Debian's Chromium driven by Playwright).

A responder whose browser is in New York declares an incident that spans the night the clocks
went forward, builds its timeline, marks detection and mitigation from entries, hands out roles,
resolves it, and reads it back; a colleague in Kolkata and the UTC switch read the same instants.
Every main page is screenshotted into test-output/ and checked with axe-core.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from alerting import AM_TOKEN, am_alert, am_notification, am_post
from browser import accessibility_violations, screenshot
from conftest import PASSWORD, make_user
from flask import Flask

from incidents.models import Role

pytest.importorskip("playwright.sync_api")


def open_as(chromium: Any, base_url: str, email: str, *, zone: str) -> Any:
    """A fresh browser whose clock is in the zone, signed in as the user."""
    context = chromium.new_context(timezone_id=zone, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))
    assert page.url == f"{base_url}/"
    return page


def submit(page: Any, button: Any) -> None:
    """Click a button that submits a form and wait for the page it leads to."""
    with page.expect_navigation():
        button.click()


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def test_a_whole_incident_across_a_daylight_saving_change(app: Flask, chromium: Any, base_url: str) -> None:
    make_user(app, "nia@example.com", zone=None)  # follows her browser: New York
    make_user(app, "sam@example.com")
    make_user(app, "kai@example.com", zone="Asia/Kolkata")
    page = open_as(chromium, base_url, "nia@example.com", zone="America/New_York")
    # The browser told the server its zone; the page now says so.
    assert text_of(page, ".account .zone") == "America/New_York"
    screenshot(page, "home-empty")

    # Declare: on 2026-03-08 the clocks in New York jump from 02:00 EST to 03:00 EDT.
    page.get_by_role("link", name="Declare incident").click()
    page.get_by_label("What is happening?").fill("Checkout returns 502 for card payments")
    page.get_by_label("Severity").select_option("SEV2")
    page.get_by_label("Services (comma-separated)").fill("checkout, payments")
    page.locator("summary", has_text="More").click()
    page.get_by_label("Impact started (empty: now)").fill("2026-03-08T01:30")
    screenshot(page, "declare")
    page.get_by_role("button", name="Declare").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    incident_url = page.url
    assert text_of(page, "[data-role=commander]") == "Nia"
    assert text_of(page, "[data-key-time=started_at]") == "Sun 2026-03-08 01:30 EST"

    # Two entries, each at the time it happened, in the reader's zone.
    add_entry(page, "Card payments 5xx alert fired (502 from the gateway)", "2026-03-08T01:50", "alert")
    add_entry(page, "Rolled back gateway release 4.12", "2026-03-08T03:20", "action")
    screenshot(page, "incident-two-entries")
    assert text_of(page, "h2#timeline-h") == "Timeline (3 entries)"  # the declaration is the first

    # Mark the alert as detection and the rollback as mitigation.
    mark_entry(page, "Card payments 5xx alert fired", "detected_at")
    mark_entry(page, "Rolled back gateway release", "mitigated_at")
    assert text_of(page, "[data-key-time=detected_at]") == "Sun 2026-03-08 01:50 EST"
    assert text_of(page, "[data-key-time=mitigated_at]") == "Sun 2026-03-08 03:20 EDT"
    # 01:30 EST to 03:20 EDT is 50 minutes of impact, not the 1h 50m the wall clock suggests.
    assert text_of(page, "[data-duration=time_to_detect]") == "20m 00s"
    assert text_of(page, "[data-duration=time_to_mitigate]") == "30m 00s"
    assert text_of(page, "[data-duration=impact_duration]") == "50m 00s"

    # Roles: Sam becomes scribe, Kai a participant.
    page.locator("#roles summary").click()
    page.get_by_label("Scribe").select_option(label="Sam")
    page.get_by_label("Participants").select_option(label="Kai")
    submit(page, page.get_by_role("button", name="Save roles"))
    assert text_of(page, "[data-role=scribe]") == "Sam"
    assert text_of(page, "[data-role=participants]") == "Kai"

    # Resolve.
    page.get_by_label("Status", exact=True).select_option("resolved")
    submit(page, page.get_by_role("button", name="Set status"))
    assert "resolved" in text_of(page, ".incident-head .facts")
    assert re.fullmatch(r"\w{3} \d{4}-\d\d-\d\d \d\d:\d\d E[SD]T", text_of(page, "[data-key-time=resolved_at]"))
    # Resolved: nothing counts any more, and a time never recorded stays unknown.
    assert "(running)" not in text_of(page, "#durations-h + dl")
    assert text_of(page, "[data-duration=time_to_acknowledge]") == "—"
    day_headings = page.locator("h3.day").all_inner_texts()
    assert day_headings[0] == "Sunday 2026-03-08"
    screenshot(page, "incident")
    assert accessibility_violations(page, "incident") == []

    # The same instants in UTC, one click away.
    submit(page, page.locator(".account").get_by_role("button", name="Show UTC"))
    assert text_of(page, "[data-key-time=started_at]") == "Sun 2026-03-08 06:30 UTC"
    assert text_of(page, "[data-key-time=mitigated_at]") == "Sun 2026-03-08 07:20 UTC"
    page.context.close()

    # A colleague whose profile says Kolkata reads the same incident in her zone.
    kai = open_as(chromium, base_url, "kai@example.com", zone="Europe/Paris")
    kai.goto(incident_url)
    assert text_of(kai, "[data-key-time=started_at]") == "Sun 2026-03-08 12:00 IST"
    assert text_of(kai, "[data-key-time=detected_at]") == "Sun 2026-03-08 12:20 IST"
    assert text_of(kai, "[data-duration=impact_duration]") == "50m 00s"
    first_day = kai.locator("ol.timeline").first.locator("time").all_inner_texts()
    assert first_day == ["12:20:00 IST", "12:50:00 IST"]
    kai.context.close()


def add_entry(page: Any, text: str, occurred_at: str, kind: str) -> None:
    form = page.locator("form", has=page.get_by_role("button", name="Add entry"))
    form.get_by_label("What happened (Markdown)").fill(text)
    form.get_by_label("Occurred at").fill(occurred_at)
    form.get_by_label("Kind").select_option(kind)
    submit(page, form.get_by_role("button", name="Add entry"))
    assert page.locator("ol.timeline li", has_text=text.replace("**", "")).count() == 1  # as rendered


def mark_entry(page: Any, text: str, key_time: str) -> None:
    entry = page.locator("ol.timeline li", has_text=text)
    submit(page, entry.get_by_role("link", name="Mark as a key time, correct or delete"))
    page.get_by_label("Mark as").select_option(key_time)
    submit(page, page.get_by_role("button", name="Set key time"))


def test_main_pages_have_no_serious_accessibility_violations(app: Flask, chromium: Any, base_url: str) -> None:
    make_user(app, "ada@example.com", role=Role.ADMIN, zone="Europe/Berlin")
    context = chromium.new_context(timezone_id="Europe/Berlin")
    page = context.new_page()
    page.goto(f"{base_url}/login")
    screenshot(page, "login")
    found = {"login": accessibility_violations(page, "login")}
    context.close()
    page = open_as(chromium, base_url, "ada@example.com", zone="Europe/Berlin")
    page.goto(f"{base_url}/incidents/new")
    page.get_by_label("What is happening?").fill("Search results are stale")
    page.get_by_label("Severity").select_option("SEV3")
    page.get_by_role("button", name="Declare").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    add_entry(page, "Index lag at **40 minutes**", "2026-11-20T10:00", "detection")
    # An alert declares incident 2, so the alerts admin page and the incident's Alerts section have rows.
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    assert (
        am_post(app.test_client(), am_notification(am_alert(), am_alert("LatencyHigh", fingerprint="f2"))).status_code
        == 200
    )
    for name, path in [
        ("home", "/"),
        ("list", "/incidents"),
        ("declare-form", "/incidents/new"),
        ("incident-small", "/incidents/1"),
        ("entry-edit", "/incidents/1/timeline/2/edit"),
        ("account", "/account"),
        ("tokens", "/account/tokens"),
        ("admin-users", "/admin/users"),
        ("incident-alerts", "/incidents/2"),
        ("admin-alerts", "/admin/alerts?sender=alertmanager&facts=severity%3Dcritical"),
        ("admin-deliveries", "/admin/deliveries"),
    ]:
        page.goto(base_url + path)
        screenshot(page, name)
        found[name] = accessibility_violations(page, name)
    assert {name: v for name, v in found.items() if v} == {}


def test_the_accessibility_check_itself_finds_violations(chromium: Any) -> None:
    page = chromium.new_page()
    page.set_content('<html lang="en"><body><main><img src="chart.png"><input type="text"></main></body></html>')
    found = {v["id"] for v in accessibility_violations(page, "known-bad")}
    page.close()
    assert {"image-alt", "label"} <= found


def test_core_flow_without_javascript_and_on_a_phone(app: Flask, chromium: Any, base_url: str) -> None:
    make_user(app, "lu@example.com", zone="Europe/Lisbon")
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, is_mobile=True, timezone_id="Europe/Lisbon"
    )
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill("lu@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))
    submit(page, page.get_by_role("link", name="Declare incident"))
    page.get_by_label("What is happening?").fill("Login page times out")
    page.get_by_label("Severity").select_option("SEV1")
    submit(page, page.get_by_role("button", name="Declare"))
    add_entry(page, "Paged the identity team", "2026-07-01T09:15", "communication")
    assert (
        page.locator("ol.timeline li", has_text="Paged the identity team").locator("time").inner_text()
        == "09:15:00 WEST"
    )
    page.get_by_label("Status", exact=True).select_option("mitigated")
    submit(page, page.get_by_role("button", name="Set status"))
    assert "mitigated" in text_of(page, ".incident-head .facts")
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "incident-phone-no-js")
    for path in ("/", "/incidents"):
        page.goto(base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    screenshot(page, "list-phone")
    context.close()
