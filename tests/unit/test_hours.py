"""Business hours: open or not at a moment, and the next opening, in the flow's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas.hours import BusinessHours, is_open, next_opening

KOLKATA = BusinessHours(
    start="09:30",
    end="18:30",
    timezone="Asia/Kolkata",
    days=["mon", "tue", "wed", "thu", "fri", "sat"],
)
NEW_YORK = BusinessHours(start="09:00", end="17:00", timezone="America/New_York")


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2024, 5, 6, 4, 0), True),  # Monday 09:30 IST: opening minute
        (utc(2024, 5, 6, 3, 59), False),  # 09:29 IST
        (utc(2024, 5, 6, 12, 59), True),  # 18:29 IST
        (utc(2024, 5, 6, 13, 0), False),  # 18:30 IST: closed at the end minute
        (utc(2024, 5, 4, 8, 0), True),  # Saturday 13:30 IST
        (utc(2024, 5, 5, 8, 0), False),  # Sunday
        (utc(2024, 5, 5, 22, 0), False),  # Monday 03:30 IST, Sunday in UTC
    ],
)
def test_is_open_in_kolkata(moment: datetime, expected: bool) -> None:
    assert is_open(KOLKATA, moment) is expected


def test_is_open_accepts_any_aware_time_zone() -> None:
    ist_moment = datetime.fromisoformat("2024-05-06T10:00:00+05:30")
    assert is_open(KOLKATA, ist_moment)


def test_next_opening_is_now_when_open() -> None:
    moment = utc(2024, 5, 6, 6, 0)
    assert next_opening(KOLKATA, moment) == moment


def test_next_opening_later_the_same_day() -> None:
    assert next_opening(KOLKATA, utc(2024, 5, 6, 2, 0)) == utc(2024, 5, 6, 4, 0)


def test_next_opening_across_the_weekend() -> None:
    saturday_evening = utc(2024, 5, 4, 14, 0)  # 19:30 IST, after closing; Sunday is closed
    opening = next_opening(KOLKATA, saturday_evening)
    assert opening == utc(2024, 5, 6, 4, 0)  # Monday 09:30 IST
    assert opening.utcoffset() == timedelta(0)


def test_next_opening_across_a_weekend_with_a_dst_change() -> None:
    # Friday 18:00 EST; clocks go forward on Sunday 10 March 2024.
    friday_evening = utc(2024, 3, 8, 23, 0)
    assert next_opening(NEW_YORK, friday_evening) == utc(2024, 3, 11, 13, 0)  # 09:00 EDT
    # Friday 18:00 EDT; clocks go back on Sunday 3 November 2024.
    friday_evening = utc(2024, 11, 1, 22, 0)
    assert next_opening(NEW_YORK, friday_evening) == utc(2024, 11, 4, 14, 0)  # 09:00 EST


def test_is_open_follows_dst() -> None:
    assert not is_open(NEW_YORK, utc(2024, 3, 8, 13, 30))  # 08:30 EST
    assert is_open(NEW_YORK, utc(2024, 3, 11, 13, 30))  # 09:30 EDT
    assert is_open(NEW_YORK, utc(2024, 11, 4, 14, 0))  # 09:00 EST
    assert not is_open(NEW_YORK, utc(2024, 11, 4, 13, 30))  # 08:30 EST


def test_only_one_open_day_a_week() -> None:
    mondays = BusinessHours(start="10:00", end="11:00", timezone="UTC", days=["mon"])
    monday_noon = utc(2024, 5, 6, 12, 0)
    assert next_opening(mondays, monday_noon) == utc(2024, 5, 13, 10, 0)


def test_open_until_midnight() -> None:
    late = BusinessHours(start="18:00", end="24:00", timezone="UTC", days=["mon"])
    assert is_open(late, utc(2024, 5, 6, 23, 59))
    assert not is_open(late, utc(2024, 5, 7, 0, 0))


def test_rejects_unknown_zone_and_reversed_hours() -> None:
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        BusinessHours(start="09:00", end="17:00", timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="`start` must be before `end`"):
        BusinessHours(start="17:00", end="09:00")
    with pytest.raises(ValidationError):
        BusinessHours(start="9am", end="17:00")
