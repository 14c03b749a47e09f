"""Bodies of flows: their settings, triggers, priorities, and a definition to validate."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleDescription

from api.bodies.common import RequestBody, ResponseBody
from schemas.api_errors import request_error_details
from schemas.campaign_triggers import CAMPAIGN, CampaignFlowTrigger
from schemas.event_triggers import EVENT, EventTrigger
from schemas.hours import BusinessHours
from schemas.message_triggers import MESSAGE_RECEIVED, MessageTrigger
from schemas.schedule import SCHEDULE, ScheduleTrigger, execution_id_for_firing
from schemas.triggers import LEAD_CREATED, condition_problems
from store.errors import InvalidInputError

_Checked = TypeVar("_Checked", bound=BaseModel)

TriggerType = Literal[
    "lead_created", "call_incoming", "campaign", "event", "schedule", "message_received", "manual"
]


class Trigger(BaseModel):
    """What starts the flow; keys beyond `type` depend on it (`conditions`, `cron` …)."""

    model_config = ConfigDict(extra="allow")
    type: TriggerType

    def check(self, *, timezone: str = "UTC") -> None:
        """A `lead_created` trigger's conditions must parse: 422 at each problem's path. A
        `schedule`'s cron and the rest must hold (`timezone` is its zone when it names none)."""
        if self.type == SCHEDULE:
            self._check_schedule(timezone)
            return
        if self.type == EVENT:
            self._check_event()
            return
        if self.type == MESSAGE_RECEIVED:
            self._check_message()
            return
        if self.type == CAMPAIGN:
            self._check_campaign()
            return
        if self.type != LEAD_CREATED:
            return
        problems = condition_problems((self.model_extra or {}).get("conditions"))
        if problems:
            errors = [
                {"loc": ("body", "trigger", *p.loc), "type": p.kind, "msg": p.message}
                for p in problems
            ]
            details = [d.model_dump() for d in request_error_details(errors)]
            raise InvalidInputError("the request is invalid", details=details)

    def _check_campaign(self) -> None:
        """A `campaign` trigger names one of a campaign's triggers (`outbound_start`,
        `inbound_start`, `manual`): 422 at `$.trigger.campaign_trigger` otherwise."""
        _validated(CampaignFlowTrigger, self.model_dump(), "the campaign trigger is invalid")

    def _check_event(self) -> None:
        """An event trigger names its event; its conditions are on `trigger.*`: 422 at each
        problem's path (a trigger that could never fire is refused, not stored)."""
        _validated(EventTrigger, self.model_dump(), "the event trigger is invalid")

    def _check_message(self) -> None:
        """A `message_received` trigger's channel, number, keywords and regex: 422 at each
        problem's path (`$.trigger.regex` for a pattern RE2 cannot run)."""
        _validated(MessageTrigger, self.model_dump(), "the message trigger is invalid")

    def _check_schedule(self, timezone: str) -> None:
        """A schedule's cron, zone, dates and policies: 422 at each problem's path; valid, its
        keys are stored as they will be applied (defaults filled in, the cron trimmed)."""
        schedule = _validated(
            ScheduleTrigger,
            self.model_dump(),
            "the schedule is invalid",
            defaults={"timezone": timezone},
        )
        extra = self.__pydantic_extra__
        assert extra is not None
        extra.clear()
        extra.update(schedule.model_dump(mode="json", exclude={"type"}, exclude_none=True))


def _validated(
    model: type[_Checked],
    trigger: dict[str, Any],
    message: str,
    *,
    defaults: dict[str, Any] | None = None,
) -> _Checked:
    """The trigger read as `model`, or a 422 at each problem's path under `$.trigger`."""
    try:
        return model.model_validate({**(defaults or {}), **trigger})
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", "trigger", *e["loc"])} for e in exc.errors()]
        details = [d.model_dump() for d in request_error_details(errors)]
        raise InvalidInputError(message, details=details) from None


# --- flows -------------------------------------------------------------------------------


class FlowCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    enabled: bool = True
    priority: int | None = Field(default=None, ge=1, le=1_000_000)
    trigger: Trigger | None = None
    business_hours: BusinessHours | None = None
    cooldown_minutes: int = Field(default=60, ge=0, le=525_600)
    definition: Any = None
    """Optional: saved as draft version 1."""
    change_notes: str | None = Field(default=None, max_length=10_000)

    def flow_fields(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"definition", "change_notes"})


class FlowUpdate(RequestBody):
    """Only the fields given change; `null` clears the nullable ones."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    enabled: bool | None = None
    priority: int | None = Field(default=None, ge=1, le=1_000_000)
    trigger: Trigger | None = None
    business_hours: BusinessHours | None = None
    cooldown_minutes: int | None = Field(default=None, ge=0, le=525_600)

    @model_validator(mode="after")
    def _required_not_null(self) -> FlowUpdate:
        for name in ("name", "enabled", "cooldown_minutes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class PriorityOrder(RequestBody):
    order: list[str] = Field(max_length=10_000)
    """Flow ids, highest priority (1) first."""


class VersionSummary(ResponseBody):
    number: int
    status: str
    change_notes: str | None
    created_by: str | None
    rolled_back_from: int | None
    created_at: datetime
    published_at: datetime | None


class FlowOut(ResponseBody):
    id: str
    name: str
    description: str | None
    enabled: bool
    priority: int | None
    trigger: dict[str, Any] | None
    business_hours: dict[str, Any] | None
    cooldown_minutes: int
    published_version: int | None
    created_at: datetime
    updated_at: datetime


class FlowDetail(FlowOut):
    versions: list[VersionSummary]


# --- versions ----------------------------------------------------------------------------


class DefinitionBody(RequestBody):
    definition: Any
    live_call: bool = False
    """The flow starts on a call (voice steps then have one: no warning about it)."""


class ValidationOut(BaseModel):
    valid: bool
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


# --- executions --------------------------------------------------------------------------


# --- administration ----------------------------------------------------------------------


# --- schedules ---------------------------------------------------------------------------


class ScheduleFiring(ResponseBody):
    scheduled_at: datetime
    started_at: datetime
    execution_id: str | None
    """The execution it started (its id is derived from the firing)."""


class ScheduleOut(ResponseBody):
    """A flow's Temporal Schedule as Temporal has it now."""

    schedule_id: str
    paused: bool
    note: str
    next_runs: list[datetime]
    """The next few times it fires (none while paused)."""
    recent_runs: list[ScheduleFiring]
    fired: int
    skipped_overlap: int
    """Firings dropped because the previous run still ran (`overlap: skip`)."""
    missed_catchup_window: int
    temporal_url: str
    """The schedule in the Temporal Web UI."""

    @classmethod
    def of(cls, described: ScheduleDescription, *, temporal_url: str) -> ScheduleOut:
        info = described.info
        paused = described.schedule.state.paused
        return cls(
            schedule_id=described.id,
            paused=paused,
            note=described.schedule.state.note or "",
            next_runs=[] if paused else info.next_action_times[:5],
            recent_runs=[
                ScheduleFiring(
                    scheduled_at=firing.scheduled_at,
                    started_at=firing.started_at,
                    execution_id=(
                        execution_id_for_firing(firing.action.workflow_id)
                        if isinstance(firing.action, ScheduleActionExecutionStartWorkflow)
                        else None
                    ),
                )
                for firing in reversed(info.recent_actions)
            ],
            fired=info.num_actions,
            skipped_overlap=info.num_actions_skipped_overlap,
            missed_catchup_window=info.num_actions_missed_catchup_window,
            temporal_url=temporal_url,
        )
