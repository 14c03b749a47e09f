"""Bodies of tenants and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, Field

from api.bodies.common import RequestBody, ResponseBody
from schemas.hours import BusinessHours


class TenantCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    business_hours: BusinessHours | None = None


class TenantOut(ResponseBody):
    id: str
    name: str
    business_hours: dict[str, Any] | None
    created_at: datetime


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
