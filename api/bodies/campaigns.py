"""Bodies of campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.bodies.common import INT32_MAX, RequestBody
from api.bodies.events import EventContact
from schemas.campaign_triggers import CampaignCondition, CampaignTrigger


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="unique in the tenant")
    description: str | None = Field(default=None, max_length=10_000)


class CampaignUpdate(BaseModel):
    """Only the fields given change; `null` clears the description."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _name_not_null(self) -> CampaignUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("`name` cannot be null")
        return self


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class CampaignFlowCreate(RequestBody):
    flow_id: str = Field(min_length=1, max_length=32)
    trigger: CampaignTrigger
    priority: int | None = Field(
        default=None, ge=0, le=INT32_MAX, description="lower wins; none ranks after any number"
    )
    conditions: list[CampaignCondition] = Field(default_factory=list, max_length=50)
    """All must hold: on `trigger.<path>` (`trigger.context.language`) or a contact field."""
    active: bool = True


class CampaignFlowUpdate(RequestBody):
    """Only the fields given change; `priority: null` ranks it after any numbered one."""

    priority: int | None = Field(default=None, ge=0, le=INT32_MAX)
    conditions: list[CampaignCondition] | None = Field(default=None, max_length=50)
    active: bool | None = None

    @model_validator(mode="after")
    def _not_null(self) -> CampaignFlowUpdate:
        for name in ("conditions", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self


class CampaignFlowOut(BaseModel):
    id: str
    campaign_id: str
    flow_id: str
    flow_name: str
    trigger: CampaignTrigger
    priority: int | None
    conditions: list[dict[str, Any]]
    active: bool
    created_at: datetime
    updated_at: datetime


class CampaignTriggerIn(RequestBody):
    call_id: str = Field(min_length=1, max_length=64)
    agent_id: str = Field(min_length=1, max_length=64)
    trigger: CampaignTrigger
    context: dict[str, Any] = Field(default_factory=dict)
    """`trigger.context` in the run, and in conditions (`trigger.context.language`)."""
    contact: EventContact
    """Who the call is with: `{"id": …}` of a stored contact, or its fields (upserted)."""


class CampaignFlowSkip(BaseModel):
    assignment_id: str
    flow_id: str
    flow_name: str
    reason: str


class CampaignTriggered(BaseModel):
    status: Literal["started", "skipped", "no_match"]
    """`started`; `skipped` (the chosen flow did not start: DNC or cooldown, see `reason`);
    `no_match` (no active assignment of an enabled, published flow matched)."""
    reason: str
    campaign_id: str
    trigger: CampaignTrigger
    contact_id: str
    assignment_id: str | None = None
    flow_id: str | None = None
    flow_name: str | None = None
    execution_id: str | None = None
    """The started run, or the skipped execution recorded for DNC or the cooldown."""
    passed_over: list[CampaignFlowSkip]
    """Every other assignment for the trigger, and why it did not start."""
