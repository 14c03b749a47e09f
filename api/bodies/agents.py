"""Bodies of agents: who takes transferred calls, and what they take part in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.bodies.common import check_e164

Status = Literal["available", "busy", "offline"]
Skill = Annotated[str, Field(min_length=1, max_length=64)]
DepartmentId = Annotated[str, Field(min_length=1, max_length=32)]


class _AgentFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, description="E.164: dialled on transfer")
    client_identity: str | None = Field(default=None, min_length=1, max_length=200)
    """A Twilio Client identity, dialled with `<Client>` instead of a phone."""
    department_ids: list[DepartmentId] | None = Field(default=None, max_length=100)
    skills: list[Skill] | None = Field(default=None, max_length=100)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return check_e164(value)

    def given(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class AgentCreate(_AgentFields):
    """An agent needs a `phone` or a `client_identity`; new agents are offline by default."""

    name: str = Field(min_length=1, max_length=200)
    status: Status = "offline"

    def given(self) -> dict[str, Any]:
        return {"status": self.status, **super().given()}


class AgentUpdate(_AgentFields):
    """Only the fields given change; a new `status` stamps `status_changed_at`."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Status | None = None

    @model_validator(mode="after")
    def _required_not_null(self) -> AgentUpdate:
        for name in ("name", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self


class AgentStatusBody(BaseModel):
    """An agent's availability, set by a manager or by the agent itself."""

    model_config = ConfigDict(extra="forbid")

    status: Status


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    phone: str | None
    client_identity: str | None
    department_ids: list[str]
    skills: list[str]
    status: str
    status_changed_at: datetime
    created_at: datetime
    updated_at: datetime

    @field_validator("department_ids", "skills", mode="before")
    @classmethod
    def _list(cls, value: list[str] | None) -> list[str]:
        return list(value or [])


class AgentWorkOut(BaseModel):
    """An open execution the agent takes part in."""

    execution_id: str
    flow_id: str
    flow_name: str
    version: int
    status: str
    kind: Literal["call", "task"]
    """`call`: a call the agent holds or is offered; `task`: a human task assigned to it."""
    node_id: str | None
    """The waiting human task's step."""
    call_sid: str | None
    """The caller's call."""
    since: datetime | None
