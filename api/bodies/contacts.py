"""Bodies of contacts: one, many at once, and what posting them started."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from api.bodies.common import check_e164

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Tag = Annotated[str, Field(min_length=1, max_length=64)]
MAX_BULK = 500
"""The most contacts one bulk request may post."""


class _ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, description="E.164, e.g. +919812345678")
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL)
    lead_source: str | None = Field(default=None, max_length=64, examples=["IndiaMART"])
    entry_type: str | None = Field(default=None, max_length=32, examples=["api"])
    tags: list[Tag] | None = Field(default=None, max_length=100)
    custom: dict[str, Any] | None = None

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return check_e164(value)

    def given(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class ContactIn(_ContactFields):
    """A lead. A phone the tenant already has merges into that contact (tags, custom fields)."""

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if not self.phone and not self.email:
            raise ValueError("a contact needs a `phone` or an `email`")
        return self

    def given(self) -> dict[str, Any]:
        fields = super().given()
        return {k: v for k, v in fields.items() if v is not None or k not in ("tags", "custom")}


class ContactPatch(_ContactFields):
    """Given fields replace (tags too); `custom` is merged and a null value removes a key."""


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str | None
    phone: str | None
    email: str | None
    lead_source: str | None
    entry_type: str | None
    tags: list[str] | None
    custom: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class ContactEngaged(ContactOut):
    engagement: dict[str, Any]
    """`{"status": "started" | "skipped" | "no_match" | "error" | "not_triggered", ...}`."""


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class BulkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacts: list[Any] = Field(min_length=1, max_length=MAX_BULK)


class BulkItem(BaseModel):
    index: int
    status: str
    """created, updated or invalid."""
    contact: ContactEngaged | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BulkOut(BaseModel):
    created: int
    updated: int
    invalid: int
    results: list[BulkItem]
