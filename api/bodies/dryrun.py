"""Bodies of test mode (the dry run)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.bodies.common import VersionNumber


class DryRunBody(BaseModel):
    """A contact (inline or `contact_id`), simulated outcomes, a start time."""

    model_config = ConfigDict(extra="forbid")

    contact: dict[str, Any] | None = None
    contact_id: str | None = Field(default=None, max_length=64)
    version: VersionNumber | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    outcomes: dict[str, str] = Field(default_factory=dict)
    """`{"call": "missed", "reply": "yes", "<node id>": "<port>"}`."""
    start_at: datetime | None = None
    """When the run would start (default now); without a zone, UTC."""

    @model_validator(mode="after")
    def _one_contact(self) -> DryRunBody:
        if self.contact is not None and self.contact_id is not None:
            raise ValueError("give `contact` or `contact_id`, not both")
        return self


class DryRunCost(BaseModel):
    """Estimated cost per channel at the configured prices (`FLOWDECK_PRICE_*`)."""

    sms: float
    whatsapp: float
    email: float
    voice: float
    total: float
    currency: str
    counts: dict[str, int]


class DryRunOut(BaseModel):
    flow_id: str
    version: int
    match: dict[str, Any]
    """For lead_created flows: whether the contact matches, why, and flows that rank ahead."""
    skips: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    """Each step: node_id, type, port, rendered (actions), result, waits_until, error."""
    cost: DryRunCost
    ends: str
    """completed, failed, skipped, or incomplete (the step cap stopped a cycle)."""
    reason: str | None
