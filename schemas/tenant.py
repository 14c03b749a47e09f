"""A tenant's own defaults: business hours, time zone, cooldown.

Kept, without a migration of their own, in the tenant's JSON column `business_hours`, which
before held only the hours: a document with `start` at its top is such hours (as written by
earlier versions), anything else is this settings document.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.hours import BusinessHours
from schemas.schedule import check_zone

DEFAULT_COOLDOWN_MINUTES = 60
MAX_COOLDOWN_MINUTES = 525_600


class TenantSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_hours: BusinessHours | None = None
    """Used by a flow that has none of its own (a lead's wait for the opening, `until_open`)."""
    timezone: str = "UTC"
    """A new schedule trigger that names no `timezone` is read in this one."""
    cooldown_minutes: int = Field(default=DEFAULT_COOLDOWN_MINUTES, ge=0, le=MAX_COOLDOWN_MINUTES)
    """A new flow created without a `cooldown_minutes` takes this one."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)


def read_settings(column: dict[str, Any] | None) -> TenantSettings:
    """The tenant's settings from its stored column (either shape)."""
    if not column:
        return TenantSettings()
    if "start" in column:
        hours = BusinessHours.model_validate(column)
        return TenantSettings(business_hours=hours, timezone=hours.timezone)
    return TenantSettings.model_validate(column)


def settings_column(settings: TenantSettings) -> dict[str, Any]:
    """What the column holds for these settings."""
    return settings.model_dump(mode="json")
