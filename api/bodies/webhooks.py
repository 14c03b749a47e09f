"""Bodies of outgoing webhooks and their delivery log."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.webhooks import pattern_problem

_KEY_FORMAT = (
    "`whsec_` and the base64 of 24 to 64 random bytes (Standard Webhooks); generated when "
    "not given, and shown only in the answer to the creation"
)


def _check_pattern(pattern: str) -> str:
    problem = pattern_problem(pattern)
    if problem is not None:
        raise ValueError(problem)
    return pattern


def _check_url(url: str | None) -> str | None:
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise ValueError("the URL must begin with http:// or https://")
    return url


def _check_secret(secret: str | None) -> str | None:
    if secret is None:
        return None
    if not secret.startswith("whsec_"):
        raise ValueError("a secret begins with `whsec_`")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("after `whsec_`, a secret is base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a secret stands for 24 to 64 bytes")
    return secret


EventPattern = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_pattern)]


class _WebhookFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=500)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class WebhookCreate(_WebhookFields):
    """A subscription: the events it hears (names, `prefix.*` or `*`) sent to `url`."""

    url: str = Field(min_length=1, max_length=2000)
    events: list[EventPattern] = Field(min_length=1, max_length=50)
    secret: str | None = Field(default=None, max_length=200, description=_KEY_FORMAT)
    active: bool = True

    _url = field_validator("url")(_check_url)
    _secret = field_validator("secret")(_check_secret)


class WebhookUpdate(_WebhookFields):
    """Only the fields given change. The secret cannot be read back, only replaced."""

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: list[EventPattern] | None = Field(default=None, min_length=1, max_length=50)
    secret: str | None = Field(default=None, max_length=200, description=_KEY_FORMAT)
    active: bool | None = None

    _url = field_validator("url")(_check_url)
    _secret = field_validator("secret")(_check_secret)

    @model_validator(mode="after")
    def _no_nulls(self) -> WebhookUpdate:
        for name in ("url", "events", "secret", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    failed_in_a_row: int
    """Deliveries in a row that failed every retry (the webhook is disabled at the limit)."""
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str
    """Shown this once: keep it to verify the signatures."""


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: int
    event_type: str
    execution_id: str | None
    status: str
    """pending, delivered, or failed (every retry used)."""
    attempts: int
    response_status: int | None
    """The receiver's last answer (none when it could not be reached)."""
    latency_ms: int | None
    """How long the last attempt took."""
    error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
