"""Business hours: whether a moment is inside them, and when they next open.

Plain functions over aware datetimes, so the interpreter workflow can call them (passed
through the sandbox) with `workflow.now()`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(BaseModel):
    """`{"start": "09:30", "end": "18:30", "timezone": "Asia/Kolkata", "days": ["mon", ...]}`."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
    timezone: str = "UTC"
    days: list[Day] = Field(default_factory=lambda: list(DAYS[:5]), min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if _parse(self.start) >= _parse(self.end):
            raise ValueError("`start` must be before `end`")
        return self


def _parse(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _at(day: datetime, minutes: int) -> datetime:
    """`day` (local, aware) at `minutes` after midnight; 24:00 is the next midnight."""
    midnight = datetime.combine(day.date(), time(0), tzinfo=day.tzinfo)
    return midnight + timedelta(minutes=minutes)


def is_open(hours: BusinessHours, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(hours.timezone))
    if DAYS[local.weekday()] not in hours.days:
        return False
    minute = local.hour * 60 + local.minute
    return _parse(hours.start) <= minute < _parse(hours.end)


def next_opening(hours: BusinessHours, now: datetime) -> datetime:
    """`now` itself when open, else the next moment the hours open (in UTC)."""
    if is_open(hours, now):
        return now
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    for offset in range(8):
        day = local + timedelta(days=offset)
        if DAYS[day.weekday()] not in hours.days:
            continue
        opening = _at(day, _parse(hours.start)).replace(tzinfo=None)
        # Re-attach the zone so a DST change between today and that day is honoured.
        opening_aware = opening.replace(tzinfo=zone)
        if opening_aware > now:
            return opening_aware.astimezone(ZoneInfo("UTC"))
    raise ValueError("business hours never open")  # unreachable: days is never empty
