"""Recovering an account in a real browser: a person changes their password on the profile page (their other
browser is signed out), and an admin resets a colleague's, who signs in with what the page showed once."""

from __future__ import annotations

from typing import Any

import pytest
from browser import screenshot
from conftest import PASSWORD, make_user
from flask import Flask

from incidents.models import Role

pytest.importorskip("playwright.sync_api")

NEW_PASSWORD = "a brand new passphrase"


def signed_in_page(chromium: Any, base_url: str, email: str, password: str = PASSWORD) -> Any:
    context = chromium.new_context(locale="en-US", timezone_id="UTC")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{base_url}/", page.content()
    return page


def test_a_person_changes_their_password_on_the_profile_page(app: Flask, chromium: Any, base_url: str) -> None:
    make_user(app, "kim@example.com")
    other_browser = signed_in_page(chromium, base_url, "kim@example.com")
    page = signed_in_page(chromium, base_url, "kim@example.com")
    page.goto(f"{base_url}/account")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD + " typo")
    with page.expect_navigation():
        page.get_by_role("button", name="Change password").click()
    assert page.get_by_role("alert").inner_text() == "New password again: The two new passwords differ."
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Change password").click()
    assert page.url == f"{base_url}/account"
    assert (
        page.get_by_role("status").filter(has_text="Password changed").inner_text()
        == "Password changed. Any other browser signed in as you has been signed out."
    )
    screenshot(page, "account-password-changed")
    other_browser.reload()
    assert other_browser.url.startswith(f"{base_url}/login")
    signed_in_page(chromium, base_url, "kim@example.com", NEW_PASSWORD)


def test_an_admin_resets_a_colleagues_password(app: Flask, chromium: Any, base_url: str) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "kim@example.com")
    page = signed_in_page(chromium, base_url, "ada@example.com")
    page.goto(f"{base_url}/admin/users")
    with page.expect_navigation():
        page.get_by_role("button", name="Reset password Kim").click()
    password = page.locator("#new-password").inner_text()
    assert len(password) >= 12
    screenshot(page, "admin-password-reset")
    page.goto(f"{base_url}/admin/users")  # back on the list, it is shown no more
    assert page.locator("#new-password").count() == 0
    signed_in_page(chromium, base_url, "kim@example.com", password)
