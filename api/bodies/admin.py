"""Bodies of tenants and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator

from api.bodies.common import RequestBody, ResponseBody
from schemas.hours import BusinessHours
from schemas.schedule import check_zone
from schemas.tenant import (
    DEFAULT_COOLDOWN_MINUTES,
    MAX_COOLDOWN_MINUTES,
    TenantSettings,
    read_settings,
)
from store.models import Tenant


class TenantCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    business_hours: BusinessHours | None = None
    timezone: str = Field(default="UTC", max_length=64)
    """The tenant's time zone (`GET/PATCH /api/tenant`); default: its hours' zone, else UTC."""
    cooldown_minutes: int = Field(default=DEFAULT_COOLDOWN_MINUTES, ge=0, le=MAX_COOLDOWN_MINUTES)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    def settings(self) -> TenantSettings:
        zone = self.timezone
        if "timezone" not in self.model_fields_set and self.business_hours is not None:
            zone = self.business_hours.timezone
        return TenantSettings(
            business_hours=self.business_hours,
            timezone=zone,
            cooldown_minutes=self.cooldown_minutes,
        )


class TenantOut(ResponseBody):
    id: str
    name: str
    business_hours: dict[str, Any] | None
    timezone: str = "UTC"
    cooldown_minutes: int = DEFAULT_COOLDOWN_MINUTES
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        settings = read_settings(tenant.business_hours)
        hours = settings.business_hours
        return cls(
            id=tenant.id,
            name=tenant.name,
            business_hours=hours.model_dump(mode="json") if hours else None,
            timezone=settings.timezone,
            cooldown_minutes=settings.cooldown_minutes,
            created_at=tenant.created_at,
        )


class TenantCreated(TenantOut):
    admin_key: str
    """The tenant's first admin key: shown once, stored only as a hash."""


class KeyCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "manager", "viewer", "agent"]
    campaigns: list[str] | None = Field(default=None, max_length=1000)
    """Campaign ids whose recordings the key may read; omitted or null: every campaign.
    Admin keys read every campaign and take no list."""


class KeyOut(ResponseBody):
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
