"""Bodies of departments, and of a live call routed to one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.bodies.common import check_e164
from schemas.hours import BusinessHours


class _DepartmentFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str | None = Field(
        default=None,
        description="E.164: the department's line. With no queue, a transfer dials it when no "
        "agent is free; agents dialled see it as the caller ID.",
    )
    queue: str | None = Field(default=None, min_length=1, max_length=64)
    """Callers wait in the department's queue when no agent is available (the name is a
    label: Twilio's queue is named after the department, priority and skills)."""
    business_hours: BusinessHours | None = None
    overflow_department_id: str | None = Field(default=None, max_length=32)
    """A department of the tenant that takes the calls this one cannot."""

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return check_e164(value)

    def given(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class DepartmentCreate(_DepartmentFields):
    """A department needs a `phone_number` or a `queue`; its name is unique in the tenant."""

    name: str = Field(min_length=1, max_length=200)


class DepartmentUpdate(_DepartmentFields):
    """Only the fields given change; `null` clears the optional ones."""

    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _name_not_null(self) -> DepartmentUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("`name` cannot be null")
        return self


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    phone_number: str | None
    queue: str | None
    business_hours: dict[str, Any] | None
    overflow_department_id: str | None
    created_at: datetime
    updated_at: datetime


class RouteCallBody(BaseModel):
    """Route a live call (by CallSid) to a department, with a priority (lower first) and
    context for the agent (the caller's path through its flow is added when known)."""

    model_config = ConfigDict(extra="forbid")

    call_sid: str = Field(pattern=r"^CA[0-9a-fA-F]{32}$")
    department: str = Field(min_length=1, max_length=200, description="id or name")
    priority: int = Field(default=5, ge=0, le=100)
    skills: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    context: dict[str, Any] = Field(default_factory=dict)


class RoutedAgentOut(BaseModel):
    id: str
    name: str
    phone: str | None
    client_identity: str | None


class RoutedDepartmentOut(BaseModel):
    id: str
    name: str


class RoutedCallOut(BaseModel):
    """Where the call went: `dialing` an agent, or `queued` at `position` in `queue`."""

    status: Literal["dialing", "queued"]
    agent: RoutedAgentOut | None = None
    queue: str | None = None
    position: int | None = None
    queue_entry_id: str
    department: RoutedDepartmentOut
    overflow_from: str | None = None
    """The department that was closed, when the call overflowed from it."""
    execution_id: str | None = None
    """The execution handling the call, when it runs through a flow."""


class QueuedCallOut(BaseModel):
    id: str
    position: int
    call_sid: str
    execution_id: str | None
    priority: int
    skills: list[str]
    enqueued_at: datetime
    waited_s: int
    context: dict[str, Any]
