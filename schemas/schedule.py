"""A flow's `schedule` trigger: when it fires (a cron expression or an interval), in which
IANA time zone, between which dates, and what happens to overlapping or missed firings.

Checked here, before anything is stored, so a bad cron or zone is a 422 at its path and
never a Temporal Schedule that silently never fires. The cron accepted is the classic five
fields (minute, hour, day of month, month, day of week) with `*`, lists, ranges, `*/n` and
`a-b/n` steps, month and day names, or one of `@yearly @monthly @weekly @daily @hourly`:
the part of Temporal's cron syntax that means the same in every cron.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from temporalio.common import SearchAttributeKey

from schemas.execution import ExecutionInput

SCHEDULE: Literal["schedule"] = "schedule"
MACROS = ("@yearly", "@monthly", "@weekly", "@daily", "@hourly")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

Overlap = Literal[
    "skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"
]


class CronField:
    """One field of a cron expression: its name, its bounds and the names it takes."""

    def __init__(self, name: str, low: int, high: int, names: tuple[str, ...] = ()) -> None:
        self.name, self.low, self.high, self.names = name, low, high, names

    def value(self, text: str) -> int:
        if text.isdigit():
            number = int(text)
        elif text.lower() in self.names:
            number = self.names.index(text.lower()) + (1 if self.name == "month" else 0)
        else:
            raise ValueError(f"{self.name}: {text!r} is not a number or a name")
        if not self.low <= number <= self.high:
            raise ValueError(f"{self.name}: {number} is outside {self.low}-{self.high}")
        return number

    def values(self, text: str) -> set[int]:
        """The values the field matches; ValueError saying what is wrong with it."""
        matched: set[int] = set()
        for item in text.split(","):
            matched |= self._item_values(item)
        return matched

    def _item_values(self, item: str) -> set[int]:
        span, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            raise ValueError(f"{self.name}: step {step!r} is not a positive number")
        every = int(step) if step else 1
        if span == "*":
            return set(range(self.low, self.high + 1, every))
        low, dash, high = span.partition("-")
        if not dash:
            if step:
                raise ValueError(f"{self.name}: a step goes with `*` or a range, not {item!r}")
            return {self.value(low)}
        first, last = self.value(low), self.value(high)
        if first > last:
            raise ValueError(f"{self.name}: range {span!r} runs backwards")
        return set(range(first, last + 1, every))


DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

CRON_FIELDS = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day of month", 1, 31),
    CronField("month", 1, 12, MONTHS),
    CronField("day of week", 0, 7, WEEKDAYS),
)


def check_cron(expression: str) -> str:
    """The expression, trimmed; ValueError saying what is wrong with it."""
    text = " ".join(expression.split())
    if text.lower() in MACROS:
        return text.lower()
    if re.match(r"^(CRON_)?TZ=", text):
        raise ValueError("give the time zone as `timezone`, not inside the cron expression")
    fields = text.split(" ")
    if len(fields) != len(CRON_FIELDS):
        raise ValueError(
            "a cron expression has 5 fields (minute hour day-of-month month day-of-week) "
            f"or is one of {', '.join(MACROS)}; this one has {len(fields)}"
        )
    matched = [field.values(part) for field, part in zip(CRON_FIELDS, fields, strict=True)]
    day, month = matched[2], matched[3]
    if not any(d <= DAYS_IN_MONTH[m - 1] for d in day for m in month):
        raise ValueError("no month has such a day: this schedule would never fire")
    return text


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


class ScheduleTrigger(BaseModel):
    """`{"type": "schedule", "cron": "0 9 * * mon-fri", "timezone": "Asia/Kolkata"}`, or
    `interval_s` instead of `cron`; `start`/`end` bound it, `overlap` and `catchup_window_s`
    say what happens to a firing while the previous run is still going, or missed while
    Temporal was away."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["schedule"] = SCHEDULE
    cron: str | None = Field(default=None, max_length=200)
    interval_s: int | None = Field(default=None, ge=5, le=366 * 86_400)
    """Every this many seconds (counted from the Unix epoch, so firings fall on the minute
    or the hour when the interval divides it)."""
    timezone: str = "UTC"
    """The zone the cron's hours and days are read in (daylight saving included)."""
    start: datetime | None = None
    end: datetime | None = None
    overlap: Overlap = "skip"
    """A firing while the previous scheduled run still runs: skipped (the default), one or
    all buffered, the other run cancelled or terminated, or both run."""
    catchup_window_s: int = Field(default=300, ge=10, le=366 * 86_400)
    """Firings missed (Temporal away) by no more than this are still made, once they can be."""

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its offset (`2027-01-01T09:00:00+05:30`)")
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> ScheduleTrigger:
        if (self.cron is None) == (self.interval_s is None):
            raise ValueError("a schedule has either `cron` or `interval_s`")
        if self.start and self.end and self.start >= self.end:
            raise ValueError("`start` must be before `end`")
        if self.end and self.end <= datetime.now(UTC):
            raise ValueError("`end` has passed: this schedule would never fire")
        return self


# --- what a firing starts ------------------------------------------------------------------

SCHEDULED_WORKFLOW_NAME = "ScheduledFlowStart"
ACTIVITY_PREPARE_SCHEDULED_RUN = "prepare_scheduled_run"
SCHEDULED_START_TIME = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""Set by Temporal on every workflow a schedule starts: the time it was due."""
SCHEDULED_BY_ID = SearchAttributeKey.for_keyword("TemporalScheduledById")


def schedule_id_for(flow_id: str) -> str:
    """The Temporal Schedule of a flow: one per flow (flow ids are unique across tenants)."""
    return f"schedule-{flow_id}"


def firing_workflow_id_for(flow_id: str) -> str:
    """The id the schedule's action starts under; Temporal appends each firing's time."""
    return f"scheduled-{flow_id}"


class ScheduledStartInput(BaseModel):
    """The action of a flow's schedule: which flow to run. The version is the one published
    when it fires, read then, so the schedule never changes on a publish."""

    tenant_id: str
    flow_id: str
    schedule_id: str


class ScheduledRunInput(BaseModel):
    """One firing, for the activity that records its execution row."""

    tenant_id: str
    flow_id: str
    schedule_id: str
    execution_id: str
    """Derived from the firing's workflow id: a retried activity finds its first row."""
    scheduled_at: datetime


class ScheduledRun(BaseModel):
    """The execution a firing starts (`input`), or why it starts none (`skipped`)."""

    execution_id: str
    input: ExecutionInput | None = None
    skipped: str | None = None


class ScheduledStartResult(BaseModel):
    execution_id: str
    status: str
    """The execution's end (`completed`, `cancelled`…), `skipped`, or `started elsewhere`."""
    reason: str | None = None


def execution_id_for_firing(firing_workflow_id: str) -> str:
    """The execution a firing starts, derived from the firing's own workflow id (unique per
    firing), in the shape of every execution id (32 hex digits)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"flowdeck:{firing_workflow_id}").hex
