"""Bodies of stored message templates and their previews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Channel = Literal["email", "sms", "whatsapp"]
Text = Annotated[str | None, Field(default=None, max_length=100_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    channel: Channel
    subject: str | None = Field(default=None, max_length=1000)
    body: Text = None
    html: Text = None


class TemplateUpdate(_Body):
    """Only the fields given change; `null` clears subject, body or html."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Channel | None = None
    subject: str | None = Field(default=None, max_length=1000)
    body: Text = None
    html: Text = None

    @model_validator(mode="after")
    def _required_not_null(self) -> TemplateUpdate:
        for name in ("name", "channel"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    channel: str
    subject: str | None
    body: str | None
    html: str | None
    created_at: datetime
    updated_at: datetime


class PreviewTexts(_Body):
    """Unsaved texts to render instead of the stored ones (an editor's live preview)."""

    subject: str | None = Field(default=None, max_length=1000)
    body: Text = None
    html: Text = None


class PreviewBody(_Body):
    texts: PreviewTexts | None = None
    contact: dict[str, Any] | None = None
    contact_id: str | None = Field(default=None, max_length=64)
    vars: dict[str, Any] = Field(default_factory=dict)
    trigger: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_contact(self) -> PreviewBody:
        if self.contact is not None and self.contact_id is not None:
            raise ValueError("give `contact` or `contact_id`, not both")
        return self


class PreviewOut(BaseModel):
    channel: str
    subject: str | None
    body: str | None
    html: str | None
