"""Bodies of the event log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class EventPage(BaseModel):
    items: list[dict[str, Any]]
    last_id: int
    """Pass it back as `after` to read on."""
