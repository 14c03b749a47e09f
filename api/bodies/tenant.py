"""Bodies of the tenant's own settings (`GET/PATCH /api/tenant`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from api.bodies.common import RequestBody, ResponseBody
from schemas.hours import BusinessHours
from schemas.schedule import check_zone
from schemas.tenant import MAX_COOLDOWN_MINUTES, TenantSettings
from store.models import Tenant


class TenantSettingsOut(ResponseBody):
    id: str
    name: str
    business_hours: BusinessHours | None
    """Used by flows that have none of their own; null: none (a wait for the opening does
    not wait)."""
    timezone: str
    """The zone of a new schedule trigger that names none."""
    cooldown_minutes: int
    """The cooldown of a new flow created without one."""

    @classmethod
    def of(cls, tenant: Tenant, settings: TenantSettings) -> TenantSettingsOut:
        return cls(id=tenant.id, name=tenant.name, **settings.model_dump())


class TenantSettingsUpdate(RequestBody):
    """Only the settings given change; `business_hours: null` removes the hours. Hours given
    without a `timezone` are in the tenant's time zone."""

    business_hours: BusinessHours | None = None
    timezone: str | None = Field(default=None, max_length=64)
    cooldown_minutes: int | None = Field(default=None, ge=0, le=MAX_COOLDOWN_MINUTES)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @model_validator(mode="after")
    def _required_not_null(self) -> TenantSettingsUpdate:
        for name in ("timezone", "cooldown_minutes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self

    def changes(self, *, current_timezone: str) -> dict[str, Any]:
        changes = self.model_dump(mode="json", exclude_unset=True)
        hours = self.business_hours
        if hours is not None and "timezone" not in hours.model_fields_set:
            changes["business_hours"]["timezone"] = self.timezone or current_timezone
        return changes
