"""Times shown in the reader's zone with date and zone; durations; wall-clock input across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incidents.errors import BadRequest, InvalidInput
from incidents.timefmt import duration, from_wall_clock, local


def test_local_shows_date_time_and_zone() -> None:
    instant = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert local(instant, "Asia/Tokyo") == "Thu 2026-07-02 08:30 JST"
    assert local(instant, "America/New_York") == "Wed 2026-07-01 19:30 EDT"
    assert local(None, "UTC") == "—"


def test_the_same_wall_clock_across_a_dst_change_is_a_different_offset() -> None:
    before = from_wall_clock(datetime(2026, 10, 24, 12, 0), "Europe/London", field="t")
    after = from_wall_clock(datetime(2026, 10, 26, 12, 0), "Europe/London", field="t")
    assert before == datetime(2026, 10, 24, 11, 0, tzinfo=UTC)
    assert after == datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    assert after - before == timedelta(days=2, hours=1)


def test_a_skipped_wall_clock_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match="does not exist in America/New_York"):
        from_wall_clock(datetime(2026, 3, 8, 2, 30), "America/New_York", field="occurred_at")


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(BadRequest, match="unknown time zone"):
        from_wall_clock(datetime(2026, 3, 8, 2, 30), "Atlantis/Capital", field="occurred_at")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (59, "59s"),
        (61, "1m 01s"),
        (3600 + 5 * 60, "1h 05m"),
        (2 * 86400 + 3 * 3600, "2d 3h 00m"),
        (-90, "-1m 30s"),
    ],
)
def test_durations(seconds: int, shown: str) -> None:
    assert duration(timedelta(seconds=seconds)) == shown
