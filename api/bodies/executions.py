"""Bodies of runs and executions: starting, reading, cancelling, events, tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.bodies.common import RequestBody, ResponseBody, VersionNumber
from schemas.triggers import E164
from store.executions import MAX_PAGE


class RunBody(RequestBody):
    contact: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)
    version: VersionNumber | None = None
    """A version to pin other than the published one (archived; drafts only with `test`)."""
    test: bool = False
    campaign_id: str | None = Field(default=None, max_length=32)
    """The campaign the execution and its recordings belong to."""
    call: CallBody | None = None
    """Place this call first; the flow (its voice steps too) runs on it once answered."""


class CallBody(RequestBody):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    to: str = Field(pattern=E164.pattern, description="The number to call (E.164)")
    from_: str | None = Field(default=None, alias="from", pattern=E164.pattern)
    ring_timeout_s: int = Field(default=30, ge=5, le=600)
    machine_detection: bool = False


class CancelBody(RequestBody):
    reason: str = Field(default="cancelled by API", max_length=1000)


class BulkCancelBody(RequestBody):
    ids: list[str] | None = Field(default=None, max_length=MAX_PAGE)
    """Only these executions (rows picked in a list); the other filters still apply."""
    flow_id: str | None = None
    status: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    test: bool | None = None
    reason: str = Field(default="cancelled by API (bulk)", max_length=1000)


class EventBody(RequestBody):
    data: dict[str, Any] = Field(default_factory=dict)


class CompleteBody(RequestBody):
    data: dict[str, Any] = Field(default_factory=dict)


class StepOut(ResponseBody):
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


class ExecutionSummary(ResponseBody):
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
