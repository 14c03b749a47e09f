"""Bodies of phone numbers and their deployments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.bodies.common import check_e164
from store.models import Deployment


class PhoneNumberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(description="E.164, e.g. +15550100001; registered by one tenant only")
    label: str | None = Field(default=None, max_length=200)

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str | None:
        return check_e164(value)


class PhoneNumberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str | None = None
    label: str | None = Field(default=None, max_length=200)

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("`number` cannot be null")
        return check_e164(value)


class DeploymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    flow_id: str
    version: int
    phone_number_id: str
    number: str
    environment: str
    schedule: dict[str, Any] | None
    fallback_flow_id: str | None
    campaign_id: str | None = None
    active: bool
    created_at: datetime
    replaced_at: datetime | None

    @classmethod
    def of(cls, deployment: Deployment) -> DeploymentOut:
        return cls.model_validate(
            {**deployment.model_dump(), "active": deployment.replaced_at is None}
        )


class PhoneNumberOut(BaseModel):
    id: str
    number: str
    label: str | None
    deployments: dict[str, DeploymentOut | None]
    """The active deployment of each environment (production, staging), or null."""
    created_at: datetime
    updated_at: datetime
