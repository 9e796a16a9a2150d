"""Sign-in throttling: growing waits after failed sign-ins, never a lock that shuts everybody out.

Failures are counted per pair (the account tried, the address it was tried from) and per address.
Each may fail a few times free; after each further failure it waits, LOGIN_FIRST_WAIT_SECONDS (1 s)
at first, then twice as long as the time before, up to a cap. A stranger failing against alice from
their address therefore slows only themselves, not alice at hers; one address failing for many
accounts is slowed too, but later and more gently (a shared office or proxy address holds many honest
people), and never for long.

A throttled attempt is answered without checking its password. A successful sign-in forgets its
pair's failures (not its address's: signing in to one's own account must not buy guesses at others).
The counts live in the `limits` library's storage (RATELIMIT_STORAGE_URI; memory:// by default, so
each process counts its own and a restart forgets them).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from limits.storage import Storage, storage_from_string

from ..settings import whole_number

log = logging.getLogger(__name__)
EXTENSION = "kintsugi.sign_in_throttle"
# Failures are forgotten this long after the first of them (or, for a pair, at a successful sign-in).
PAIR_MEMORY_SECONDS = 24 * 3600
ADDRESS_MEMORY_SECONDS = 3600
# IPv6 clients get a /64 each: counting single addresses would let one client change address per guess.
IPV6_PREFIX = 64


@dataclass(frozen=True)
class Rule:
    """How failures of one kind (a pair, or an address) turn into waits."""

    kind: str  # part of the storage keys
    label: str  # what the log calls it
    free_failures: int
    first_wait: int
    max_wait: int
    memory: int

    def wait_after(self, failures: int) -> int:
        """Seconds to wait after this many failures: none while free, then first_wait doubling up to max_wait."""
        beyond = failures - self.free_failures
        if beyond <= 0:
            return 0
        return int(min(self.max_wait, self.first_wait * 2 ** min(beyond - 1, 40)))


@dataclass(frozen=True)
class Throttle:
    """The counts' storage and the two rules."""

    storage: Storage
    pair: Rule
    address: Rule


def read_rules(config: Mapping[str, Any]) -> tuple[Rule, Rule]:
    """The pair's and the address's rules from KINTSUGI_LOGIN_*; a clear ValueError for a bad value."""
    if "LOGIN_FAILURE_LIMIT" in config:
        raise ValueError(
            "KINTSUGI_LOGIN_FAILURE_LIMIT is no longer read: failed sign-ins now bring growing waits, set by "
            "KINTSUGI_LOGIN_FREE_FAILURES, KINTSUGI_LOGIN_MAX_WAIT_SECONDS and their ADDRESS twins"
        )
    first = whole_number(config, "LOGIN_FIRST_WAIT_SECONDS", minimum=1, maximum=3600)
    pair = Rule(
        "pair",
        "this account from this address",
        whole_number(config, "LOGIN_FREE_FAILURES", minimum=1, maximum=1000),
        first,
        whole_number(config, "LOGIN_MAX_WAIT_SECONDS", minimum=1, maximum=PAIR_MEMORY_SECONDS),
        PAIR_MEMORY_SECONDS,
    )
    address = Rule(
        "address",
        "this address",
        whole_number(config, "LOGIN_ADDRESS_FREE_FAILURES", minimum=1, maximum=100_000),
        first,
        whole_number(config, "LOGIN_ADDRESS_MAX_WAIT_SECONDS", minimum=1, maximum=ADDRESS_MEMORY_SECONDS),
        ADDRESS_MEMORY_SECONDS,
    )
    return pair, address


def init_app(app: Flask) -> None:
    """Check the throttling settings and open the storage of the counts."""
    pair, address = read_rules(app.config)
    uri = app.config["RATELIMIT_STORAGE_URI"]
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):  # an async:// storage: the views are synchronous
        raise ValueError(f"KINTSUGI_RATELIMIT_STORAGE_URI must name a synchronous storage, not {uri!r}")
    app.extensions[EXTENSION] = Throttle(storage, pair, address)


def sign_in_blocked(email: str | None) -> int | None:
    """Whole seconds until this request's sign-in may be tried (its pair's or its address's wait), or None.

    email is None when the account is not known yet (single sign-on's callback): the address alone counts.
    A throttled attempt is logged.
    """
    throttle: Throttle = current_app.extensions[EXTENSION]
    account, address = _account(email), client_address()
    wait = max(_remaining(throttle, rule, key) for rule, key in _keys(throttle, account, address))
    if not wait:
        return None
    log.warning("sign-in throttled: account %s from %s must wait %d s more", _named(account), address, wait)
    return wait


def record_failed_sign_in(email: str | None) -> None:
    """Count a failed sign-in against its pair (when the account is named) and its address, and log it."""
    throttle: Throttle = current_app.extensions[EXTENSION]
    account, address = _account(email), client_address()
    said = []
    for rule, key in _keys(throttle, account, address):
        failures = throttle.storage.incr(f"{key}/failures", rule.memory)
        wait = rule.wait_after(failures)
        if wait:
            # One key per count: the newest failure's wait is the one read, whatever order racing failures end in.
            throttle.storage.incr(f"{key}/wait/{failures}", wait)
        said.append(f"failure {failures} of {rule.label}" + (f", which now waits {wait} s" if wait else ""))
    log.warning("sign-in failed: account %s from %s: %s", _named(account), address, "; ".join(said))


def forget_failed_sign_ins(email: str | None) -> None:
    """Forget the failures of this account from this address: it has just signed in."""
    throttle: Throttle = current_app.extensions[EXTENSION]
    account = _account(email)
    if not account:
        return
    key = _pair_key(account, client_address())
    failures = throttle.storage.get(f"{key}/failures")
    throttle.storage.clear(f"{key}/wait/{failures}")
    throttle.storage.clear(f"{key}/failures")


def wait_message(seconds: int) -> str:
    """What the sign-in page says to a throttled attempt."""
    if seconds >= 120:
        return f"Too many failed sign-ins. Try again in {math.ceil(seconds / 60)} minutes."
    return f"Too many failed sign-ins. Try again in {seconds} second{'s' if seconds != 1 else ''}."


def client_address() -> str:
    """The address sign-ins are counted against: the client's (as KINTSUGI_TRUSTED_PROXIES lets it be
    known), an IPv6 client's /64 network."""
    raw = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return raw[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False))
    return str(parsed)


def _account(email: str | None) -> str:
    return (email or "").strip().lower()[:320]


def _named(account: str) -> str:
    # repr: what a stranger typed goes into the log quoted, its line breaks escaped, so it forges no line.
    return repr(account) if account else "(not named)"


def _keys(throttle: Throttle, account: str, address: str) -> list[tuple[Rule, str]]:
    keys = [(throttle.pair, _pair_key(account, address))] if account else []
    return [*keys, (throttle.address, _key("address", address))]


def _pair_key(account: str, address: str) -> str:
    return _key("pair", f"{account}\x00{address}")


def _key(kind: str, value: str) -> str:
    # Hashed: an email may hold characters (or a length) that a storage's keys may not.
    return f"kintsugi/sign-in/{kind}/{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _remaining(throttle: Throttle, rule: Rule, key: str) -> int:
    failures = throttle.storage.get(f"{key}/failures")
    if not rule.wait_after(failures) or not throttle.storage.get(f"{key}/wait/{failures}"):
        return 0
    return max(1, math.ceil(throttle.storage.get_expiry(f"{key}/wait/{failures}") - time.time()))
