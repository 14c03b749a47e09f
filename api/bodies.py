"""Request and response bodies of the flow, version and execution routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from schemas.api_errors import request_error_details
from schemas.hours import BusinessHours
from schemas.triggers import E164, LEAD_CREATED, condition_problems
from store.errors import InvalidInputError

INT32_MAX = 2**31 - 1
"""The largest value of an INTEGER column on PostgreSQL (version numbers, counters)."""
VersionNumber = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A flow's version number, as its column can hold it: larger ones are 422, not a 500."""

TriggerType = Literal["lead_created", "call_incoming", "campaign", "event", "schedule", "manual"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Trigger(BaseModel):
    """What starts the flow; keys beyond `type` depend on it (`conditions`, `cron` …)."""

    model_config = ConfigDict(extra="allow")
    type: TriggerType

    def check(self) -> None:
        """A `lead_created` trigger's conditions must parse: 422 at each problem's path."""
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


# --- flows -------------------------------------------------------------------------------


class FlowCreate(_Body):
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


class FlowUpdate(_Body):
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


class PriorityOrder(_Body):
    order: list[str] = Field(max_length=10_000)
    """Flow ids, highest priority (1) first."""


class VersionSummary(_Out):
    number: int
    status: str
    change_notes: str | None
    created_by: str | None
    rolled_back_from: int | None
    created_at: datetime
    published_at: datetime | None


class FlowOut(_Out):
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


class DefinitionBody(_Body):
    definition: Any
    live_call: bool = False
    """The flow starts on a call (voice steps then have one: no warning about it)."""


class VersionCreate(_Body):
    definition: Any
    change_notes: str | None = Field(default=None, max_length=10_000)


class RollbackBody(_Body):
    version: VersionNumber


class VersionOut(VersionSummary):
    flow_id: str
    definition: dict[str, Any]


class ValidationOut(BaseModel):
    valid: bool
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


# --- executions --------------------------------------------------------------------------


class RunBody(_Body):
    contact: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)
    version: VersionNumber | None = None
    """A version to pin other than the published one (archived; drafts only with `test`)."""
    test: bool = False
    campaign_id: str | None = Field(default=None, max_length=32)
    """The campaign the execution and its recordings belong to."""
    call: CallBody | None = None
    """Place this call first; the flow (its voice steps too) runs on it once answered."""


class CallBody(_Body):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    to: str = Field(pattern=E164.pattern, description="The number to call (E.164)")
    from_: str | None = Field(default=None, alias="from", pattern=E164.pattern)
    ring_timeout_s: int = Field(default=30, ge=5, le=600)
    machine_detection: bool = False


class CancelBody(_Body):
    reason: str = Field(default="cancelled by API", max_length=1000)


class BulkCancelBody(_Body):
    flow_id: str | None = None
    status: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    test: bool | None = None
    reason: str = Field(default="cancelled by API (bulk)", max_length=1000)


class EventBody(_Body):
    data: dict[str, Any] = Field(default_factory=dict)


class CompleteBody(_Body):
    data: dict[str, Any] = Field(default_factory=dict)


class StepOut(_Out):
    seq: int
    node_id: str
    node_type: str
    status: str
    port: str | None
    attempt: int
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None
    result: dict[str, Any] | None
    error: str | None
    skip_reason: str | None


class ExecutionSummary(_Out):
    id: str
    flow_id: str
    version: int
    status: str
    workflow_id: str
    temporal_url: str = ""
    contact_name: str | None
    contact_phone: str | None
    test: bool
    reason: str | None
    current_node: str | None
    retry_of: str | None
    parent_execution_id: str | None
    contact_id: str | None = None
    campaign_id: str | None = None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    updated_at: datetime


class ExecutionOut(ExecutionSummary):
    match: dict[str, Any] | None = None
    """For triggered runs: the flow that matched, the losing candidates and why."""
    flow_name: str | None = None
    contact: dict[str, Any] | None
    trigger: dict[str, Any] | None
    variables: dict[str, Any] | None
    context: dict[str, Any] | None
    steps: list[StepOut] = Field(default_factory=list)


class ExecutionPage(BaseModel):
    items: list[ExecutionSummary]
    next_cursor: str | None


class BulkCancelOut(BaseModel):
    matched: int
    signalled: int


class Accepted(BaseModel):
    accepted: bool = True


# --- administration ----------------------------------------------------------------------


class TenantCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    business_hours: BusinessHours | None = None


class TenantOut(_Out):
    id: str
    name: str
    business_hours: dict[str, Any] | None
    created_at: datetime


class TenantCreated(TenantOut):
    admin_key: str
    """The tenant's first admin key: shown once, stored only as a hash."""


class KeyCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "manager", "viewer", "agent"]
    campaigns: list[str] | None = Field(default=None, max_length=1000)
    """Campaign ids whose recordings the key may read; omitted or null: every campaign.
    Admin keys read every campaign and take no list."""


class KeyOut(_Out):
    id: str
    name: str
    role: str
    prefix: str
    operator: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    campaigns: list[str] | None = Field(
        default=None, validation_alias=AliasChoices("campaign_ids", "campaigns")
    )
    """The campaigns whose recordings the key reads; null: every campaign."""


class KeyCreated(KeyOut):
    secret: str
    """Shown once; keep it, it cannot be read again."""
