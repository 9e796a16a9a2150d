"""Failed sign-ins bring growing waits per account and address, never a lock that shuts everybody out;
forwarded headers are believed only from as many proxies as KINTSUGI_TRUSTED_PROXIES says."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, make_user, sign_in
from flask import Flask, request, url_for
from flask.testing import FlaskClient

from app import create_app
from incidents.accounts.throttle import Rule
from incidents.database import engine_of
from incidents.models import Role

PROXY = "10.0.0.2"
WRONG = "not the password at all"
LOGGER = "incidents.accounts.throttle"


@pytest.fixture
def make_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """An app of the given settings, sharing the database of conftest's `app` (which sets it up and cleans it)."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        made.append(
            create_app(
                {"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": app.config["DATABASE_URL"], **config}
            )
        )
        return made[-1]

    yield make
    for each in made:
        engine_of(each).dispose()


def from_address(app: Flask, address: str, forwarded_for: str | None = None) -> FlaskClient:
    """A browser whose requests come from `address`, carrying X-Forwarded-For when given."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded_for is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
        client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
        # Over HTTPS, Flask-WTF also wants a same-origin Referer on a form post, as browsers send.
        client.environ_base["HTTP_REFERER"] = "https://localhost/login"
    return client


def signed_in(response: Any) -> bool:
    return response.status_code == 302 and response.location == "/"


def test_behind_a_trusted_proxy_one_address_failing_stops_no_other(make_app: Callable[..., Flask]) -> None:
    # The default settings but a long first wait, so that the stranger's waits outlast the test.
    app = make_app(TRUSTED_PROXIES=1, LOGIN_FIRST_WAIT_SECONDS=60)
    make_user(app, "alice@example.com")
    make_user(app, "ada@example.com", role=Role.ADMIN)
    stranger = from_address(app, PROXY, forwarded_for="203.0.113.66")
    for email in ("alice@example.com", "ada@example.com"):
        tries = [sign_in(stranger, email, WRONG).status_code for _ in range(10)]
        assert tries == [401] * 6 + [429] * 4  # five free failures; the sixth brings the first wait
    # Everyone else comes through the same proxy, each from an address of their own.
    assert signed_in(sign_in(from_address(app, PROXY, forwarded_for="198.51.100.7"), "alice@example.com"))
    assert signed_in(sign_in(from_address(app, PROXY, forwarded_for="198.51.100.8"), "ada@example.com"))


def test_a_trusted_proxy_takes_the_address_it_saw_not_the_one_the_client_claims(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(TRUSTED_PROXIES=1)
    make_user(app, "alice@example.com")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    # The client claims 192.0.2.1; the proxy appends the address it really saw.
    client = from_address(app, PROXY, forwarded_for="192.0.2.1, 203.0.113.66")
    assert sign_in(client, "alice@example.com", WRONG).status_code == 401
    assert "sign-in failed: account 'alice@example.com' from 203.0.113.66" in caplog.text


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(LOGIN_FREE_FAILURES=3, LOGIN_FIRST_WAIT_SECONDS=60)
    assert app.config["TRUSTED_PROXIES"] == 0
    make_user(app, "alice@example.com")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    for number in range(4):
        forged = from_address(app, "192.0.2.9", forwarded_for=f"198.51.100.{number}")
        assert sign_in(forged, "alice@example.com", WRONG).status_code == 401
    again = sign_in(from_address(app, "192.0.2.9", forwarded_for="198.51.100.200"), "alice@example.com")
    assert again.status_code == 429
    assert "from 192.0.2.9" in caplog.text and "198.51.100" not in caplog.text


def test_a_stranger_failing_against_alice_does_not_stop_alice_elsewhere(make_app: Callable[..., Flask]) -> None:
    app = make_app(LOGIN_FREE_FAILURES=3, LOGIN_FIRST_WAIT_SECONDS=60)
    make_user(app, "alice@example.com")
    stranger = from_address(app, "203.0.113.66")
    answers = [sign_in(stranger, "alice@example.com", WRONG).status_code for _ in range(12)]
    assert answers == [401] * 4 + [429] * 8
    # Even the right password waits at the stranger's address: it is not checked during the wait.
    assert sign_in(stranger, "alice@example.com").status_code == 429
    assert signed_in(sign_in(from_address(app, "198.51.100.7"), "alice@example.com"))


def test_each_failure_beyond_the_free_ones_waits_longer(make_app: Callable[..., Flask]) -> None:
    app = make_app(LOGIN_FREE_FAILURES=2, LOGIN_FIRST_WAIT_SECONDS=1)
    make_user(app, "alice@example.com")
    client = from_address(app, "203.0.113.66")
    assert sign_in(client, "alice@example.com", WRONG).status_code == 401
    assert sign_in(client, "alice@example.com", WRONG).status_code == 401  # the free ones: no wait yet
    waits: list[int] = []
    for _ in range(3):
        if waits:
            time.sleep(waits[-1] + 0.05)
        assert sign_in(client, "alice@example.com", WRONG).status_code == 401
        refused = sign_in(client, "alice@example.com")  # the right password, during the wait: not checked
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        assert f"Try again in {waits[-1]} second" in refused.get_data(as_text=True)
        assert 'value="alice@example.com"' in refused.get_data(as_text=True)  # the form keeps the email
    assert waits == [1, 2, 4]


def test_a_long_wait_is_said_in_minutes_and_keeps_the_reader_out(make_app: Callable[..., Flask]) -> None:
    app = make_app(LOGIN_FREE_FAILURES=2, LOGIN_FIRST_WAIT_SECONDS=900)
    make_user(app, "kim@example.com")
    client = app.test_client()
    for _ in range(3):
        assert sign_in(client, "kim@example.com", WRONG).status_code == 401
    blocked = sign_in(client, "kim@example.com")  # even the right password waits now
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] in ("899", "900")
    assert "Too many failed sign-ins. Try again in 15 minutes." in blocked.get_data(as_text=True)
    assert client.get("/incidents").status_code == 302


def test_the_waits_double_up_to_the_cap() -> None:
    rule = Rule("pair", "this account from this address", free_failures=5, first_wait=1, max_wait=900, memory=86400)
    waits = [rule.wait_after(n) for n in range(1, 20)]
    assert waits[:5] == [0] * 5
    assert waits[5:15] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert waits[15:] == [900] * 4
    assert rule.wait_after(10**6) == 900


def test_signing_in_forgets_the_pairs_failures(make_app: Callable[..., Flask]) -> None:
    app = make_app(LOGIN_FREE_FAILURES=2, LOGIN_FIRST_WAIT_SECONDS=60)
    make_user(app, "alice@example.com")
    client = from_address(app, "203.0.113.66")
    for _ in range(2):
        assert sign_in(client, "alice@example.com", WRONG).status_code == 401
    assert signed_in(sign_in(client, "alice@example.com"))
    later = from_address(app, "203.0.113.66")  # another browser at the same address
    for _ in range(2):
        assert sign_in(later, "alice@example.com", WRONG).status_code == 401
    assert signed_in(sign_in(later, "alice@example.com"))


def test_one_address_failing_for_many_accounts_is_slowed_but_never_locked(make_app: Callable[..., Flask]) -> None:
    app = make_app(LOGIN_ADDRESS_FREE_FAILURES=4, LOGIN_FIRST_WAIT_SECONDS=1, LOGIN_ADDRESS_MAX_WAIT_SECONDS=2)
    make_user(app, "ada@example.com", role=Role.ADMIN)
    office = from_address(app, "192.0.2.50")  # a shared address: a proxy without KINTSUGI_TRUSTED_PROXIES
    for number in range(5):
        assert sign_in(office, f"person{number}@example.com", WRONG).status_code == 401
    waiting = sign_in(office, "ada@example.com")
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    assert signed_in(sign_in(from_address(app, "198.51.100.7"), "ada@example.com"))  # another address: no wait
    waits = []
    for wait in (1, 2):
        time.sleep(wait + 0.05)
        assert sign_in(office, "nobody@example.com", WRONG).status_code == 401
        waits.append(int(sign_in(office, "ada@example.com").headers["Retry-After"]))
    assert waits == [2, 2]  # grown, then held at the cap
    time.sleep(2.05)
    # Not locked: after the wait the admin signs in (the refused tries were not counted as failures).
    assert signed_in(sign_in(office, "ada@example.com"))


def test_failures_and_throttled_attempts_are_logged_without_the_password(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(LOGIN_FREE_FAILURES=1, LOGIN_FIRST_WAIT_SECONDS=60)
    make_user(app, "alice@example.com")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = from_address(app, "203.0.113.66")
    assert sign_in(client, "Alice@Example.com ", "hunter2-secret").status_code == 401
    assert sign_in(client, "alice@example.com", "hunter2-secret").status_code == 401
    assert sign_in(client, "alice@example.com", PASSWORD).status_code == 429
    lines = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert lines == [
        "sign-in failed: account 'alice@example.com' from 203.0.113.66: "
        "failure 1 of this account from this address; failure 1 of this address",
        "sign-in failed: account 'alice@example.com' from 203.0.113.66: "
        "failure 2 of this account from this address, which now waits 60 s; failure 2 of this address",
        "sign-in throttled: account 'alice@example.com' from 203.0.113.66 must wait 60 s more",
    ]
    assert all(record.levelno == logging.WARNING for record in caplog.records if record.name == LOGGER)
    assert "hunter2" not in caplog.text and PASSWORD not in caplog.text


def test_ipv6_clients_are_counted_by_their_64(make_app: Callable[..., Flask]) -> None:
    app = make_app(LOGIN_FREE_FAILURES=2, LOGIN_FIRST_WAIT_SECONDS=60)
    make_user(app, "alice@example.com")
    for host in (1, 2, 3):
        assert sign_in(from_address(app, f"2001:db8:1:2::{host}"), "alice@example.com", WRONG).status_code == 401
    assert sign_in(from_address(app, "2001:db8:1:2::ffff"), "alice@example.com").status_code == 429
    assert signed_in(sign_in(from_address(app, "2001:db8:1:3::1"), "alice@example.com"))


@pytest.mark.parametrize("value", ["-1", "1.5", "true", "two", "11", "[1]"])
def test_a_bad_trusted_proxies_stops_the_start(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Flask]
) -> None:
    # Read the way a deployment sets it: a KINTSUGI_ variable, parsed as JSON by from_prefixed_env.
    monkeypatch.setenv("KINTSUGI_SECRET_KEY", "test-secret")
    monkeypatch.setenv("KINTSUGI_DATABASE_URL", f"sqlite:///{tmp_path / 'start.db'}")
    monkeypatch.setenv("KINTSUGI_TRUSTED_PROXIES", value)
    with pytest.raises(ValueError, match=r"KINTSUGI_TRUSTED_PROXIES must be a whole number from 0 to 10, not "):
        create_app()
    with pytest.raises(ValueError, match="KINTSUGI_TRUSTED_PROXIES"):
        make_app(TRUSTED_PROXIES=value)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("LOGIN_FREE_FAILURES", 0),
        ("LOGIN_FIRST_WAIT_SECONDS", "soon"),
        ("LOGIN_MAX_WAIT_SECONDS", 10**9),
        ("LOGIN_ADDRESS_FREE_FAILURES", -5),
        ("LOGIN_ADDRESS_MAX_WAIT_SECONDS", 7200),
    ],
)
def test_a_bad_throttling_setting_stops_the_start(make_app: Callable[..., Flask], setting: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"KINTSUGI_{setting} must be a whole number"):
        make_app(**{setting: value})


def test_the_old_fixed_limit_is_refused_rather_than_ignored(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="KINTSUGI_LOGIN_FAILURE_LIMIT is no longer read"):
        make_app(LOGIN_FAILURE_LIMIT="10 per 15 minutes")


@pytest.mark.parametrize(
    ("proxies", "seen"),
    [(1, ["203.0.113.66", "https", "kintsugi.example.com"]), (0, [PROXY, "http", "localhost"])],
)
def test_a_trusted_proxy_tells_the_address_scheme_and_host(
    make_app: Callable[..., Flask], proxies: int, seen: list[str]
) -> None:
    app = make_app(TRUSTED_PROXIES=proxies)
    app.add_url_rule(
        "/seen",
        "seen",
        lambda: [request.remote_addr, request.scheme, request.host, url_for("auth.login", _external=True)],
    )
    client = from_address(app, PROXY, forwarded_for="203.0.113.66")
    client.environ_base["HTTP_X_FORWARDED_HOST"] = "kintsugi.example.com"
    address, scheme, host = seen
    assert client.get("/seen").get_json() == [address, scheme, host, f"{scheme}://{host}/login"]


def test_behind_a_trusted_proxy_a_form_post_needs_a_same_origin_referer(make_app: Callable[..., Flask]) -> None:
    # As the README says: once Kintsugi sees HTTPS, Flask-WTF checks the Referer against the public host.
    app = make_app(TRUSTED_PROXIES=1)
    make_user(app, "alice@example.com")
    client = from_address(app, PROXY, forwarded_for="203.0.113.66")
    client.environ_base["HTTP_X_FORWARDED_HOST"] = "kintsugi.example.com"
    client.environ_base["HTTP_REFERER"] = "https://elsewhere.example/login"
    assert sign_in(client, "alice@example.com").status_code == 400
    client.environ_base["HTTP_REFERER"] = "https://kintsugi.example.com/login"
    assert signed_in(sign_in(client, "alice@example.com"))
