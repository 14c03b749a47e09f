"""Bodies of deploying a flow to phone numbers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.bodies.common import VersionNumber, check_e164
from api.bodies.phone_numbers import DeploymentOut
from schemas.hours import BusinessHours


class DeployBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_numbers: list[str] = Field(
        min_length=1, max_length=100, description="numbers registered in /api/phone-numbers"
    )
    environment: Literal["production", "staging"] = "production"
    schedule: BusinessHours | None = None
    """Outside it, calls go to the fallback flow."""
    fallback_flow_id: str | None = Field(default=None, max_length=32)
    """A published flow of the tenant, for calls outside the schedule or when the flow fails."""
    version: VersionNumber | None = None
    """Default: the published version."""
    campaign_id: str | None = Field(default=None, max_length=32)
    """The campaign calls to these numbers (and their recordings) belong to."""

    @field_validator("phone_numbers")
    @classmethod
    def _e164(cls, value: list[str]) -> list[str]:
        for number in value:
            check_e164(number)
        if len(set(value)) != len(value):
            raise ValueError("a number is listed twice")
        return value


class DeployOut(BaseModel):
    deployments: list[DeploymentOut]
