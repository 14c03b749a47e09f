"""Bodies of the event log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from api.bodies.common import RequestBody
from api.bodies.contacts import _ContactFields


class EventPage(BaseModel):
    items: list[dict[str, Any]]
    last_id: int
    """Pass it back as `after` to read on."""


class EventContact(_ContactFields):
    """Who the event is about: `{"id": …}` of a stored contact, or the contact's fields
    (upserted as `POST /api/contacts` does: a known phone merges into its contact)."""

    id: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _one_way(self) -> EventContact:
        others = self.model_fields_set - {"id"}
        if self.id is not None and others:
            raise ValueError("give the contact's `id` or its fields, not both")
        if self.id is None and not self.phone and not self.email:
            raise ValueError("a contact needs an `id`, a `phone` or an `email`")
        return self


class EventIn(RequestBody):
    contact: EventContact
    payload: dict[str, Any] = Field(default_factory=dict)
    """The event's data: `trigger.<key>` in the runs it starts, and in trigger conditions."""


class EventStart(BaseModel):
    flow_id: str
    flow_name: str
    execution_id: str


class EventSkip(BaseModel):
    flow_id: str
    flow_name: str
    reason: str
    execution_id: str | None = None
    """The skipped execution recorded for a DNC contact or the cooldown; none otherwise."""


class EventFired(BaseModel):
    event: str
    contact_id: str
    started: list[EventStart]
    skipped: list[EventSkip]


class EventHookOut(BaseModel):
    flow_id: str
    event: str
    url: str
    """Relative to the API's base URL; POST the signed body there."""
    secret: str
    """Shown once: sign each body with it (HMAC-SHA256)."""
    signature_header: str
