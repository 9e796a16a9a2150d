"""Beside an incident and its review, the past post-mortems like it, with their countermeasures still
open; never one the reader may not see; filled in by the browser after the page, and a link without it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSWORD, Caller, declare, make_user, sign_in
from flask import Flask
from library import index_now, published

# Every test here runs against each engine the run offers (see conftest.pytest_generate_tests).
pytestmark = pytest.mark.usefixtures("search_backend")


@pytest.fixture
def earlier(app: Flask, responder: Caller, make_caller: Any) -> dict[str, Any]:
    """A published post-mortem about an exhausted pool with a countermeasure open, a restricted one
    like it, and a running incident that looks like both."""
    pool = published(
        responder,
        title="Checkout 502s from an exhausted connection pool",
        summary="Card payments failed when the database connection pool ran out.",
        services=["checkout"],
        factors=[("design decision", "The connection pool was shared by checkout and search")],
        countermeasure="Give search a connection pool of its own",
    )
    insider = make_caller("responder", email="insider@example.com", name="Ina Insider")
    hidden = published(
        insider,
        title="Ledger pool exhausted by the reconciliation job",
        summary="The ledger's connection pool ran out during reconciliation.",
        services=["checkout"],
        factors=[("process", "Reconciliation ran at peak")],
        visibility="restricted",
    )
    now = declare(
        responder,
        title="Checkout errors: connection pool exhausted",
        summary="Payments fail; the pool has no free connections.",
        services=["checkout"],
    )
    index_now(app)
    return {"pool": pool, "hidden": hidden, "now": now}


def test_the_incident_page_has_a_place_for_similar_post_mortems_that_works_without_script(
    app: Flask, earlier: dict[str, Any]
) -> None:
    make_user(app, "kim@example.com")
    browser = app.test_client()
    sign_in(browser, "kim@example.com")
    page = browser.get(f"/incidents/{earlier['now']['id']}").get_data(as_text=True)
    assert f'data-fragment="/search/similar/{earlier["now"]["id"]}?fragment=1"' in page
    listed = browser.get(f"/search/similar/{earlier['now']['id']}").get_data(as_text=True)
    assert "Checkout 502s from an exhausted connection pool" in listed
    assert "Still open: “Give search a connection pool of its own”" in listed
    assert "Ledger pool" not in listed  # restricted, and kim takes no part in it
    fragment = browser.get(f"/search/similar/{earlier['now']['id']}?fragment=1").get_data(as_text=True)
    assert "<html" not in fragment and "Checkout 502s" in fragment
    review = browser.get(f"/postmortems/{earlier['pool']['id']}").get_data(as_text=True)
    assert f'data-fragment="/search/similar/{earlier["pool"]["incident_id"]}?fragment=1"' in review
    # The post-mortem is not similar to itself.
    own = browser.get(f"/search/similar/{earlier['pool']['incident_id']}?fragment=1").get_data(as_text=True)
    assert "Checkout 502s" not in own


def test_a_hidden_incident_has_no_similar_list_for_outsiders(app: Flask, earlier: dict[str, Any]) -> None:
    make_user(app, "kim@example.com")
    browser = app.test_client()
    sign_in(browser, "kim@example.com")
    missing = browser.get("/search/similar/999999")
    hidden = browser.get(f"/search/similar/{earlier['hidden']['incident_id']}")
    assert hidden.status_code == missing.status_code == 404


def test_the_browser_fills_the_panel_after_the_page(
    app: Flask, earlier: dict[str, Any], chromium: Any, base_url: str
) -> None:
    make_user(app, "kim@example.com")
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill("kim@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base_url}/incidents/{earlier['now']['id']}")
    panel = page.locator("section.similar")
    panel.get_by_role("link", name="Checkout 502s from an exhausted connection pool").wait_for()
    assert "Give search a connection pool of its own" in panel.inner_text()
    context.close()
