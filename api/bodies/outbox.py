"""Bodies of the sandbox outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class OutboxItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    channel: str
    provider: str
    to: str
    subject: str | None
    content: dict[str, Any] | None
    status: str
    provider_id: str | None
    """The provider's id: Twilio's CallSid / MessageSid (a made-up one in the sandbox)."""
    execution_id: str | None
    node_id: str | None
    created_at: datetime


class OutboxPage(BaseModel):
    items: list[OutboxItem]
    next_cursor: str | None
