"""Test mode: `POST /api/flows/{id}/test`, the path a contact would take, nothing sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.bodies import VersionNumber
from api.deps import ManagerKey, SessionDep, SettingsDep
from api.errors import KEYED, NOT_FOUND
from api.services.dryrun import dry_run_flow

router = APIRouter(prefix="/flows", tags=["test mode"], responses=KEYED | NOT_FOUND)


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


@router.post("/{flow_id}/test")
def dry_run(
    flow_id: str, body: DryRunBody, session: SessionDep, settings: SettingsDep, key: ManagerKey
) -> DryRunOut:
    """Dry run: the match, skips, each step rendered and simulated, waits' end times, cost."""
    start_at = body.start_at
    if start_at is not None and start_at.tzinfo is None:
        start_at = start_at.replace(tzinfo=UTC)
    result = dry_run_flow(
        session,
        settings=settings,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        contact=body.contact,
        contact_id=body.contact_id,
        version=body.version,
        variables=body.variables,
        outcomes=body.outcomes,
        start_at=start_at,
    )
    return DryRunOut.model_validate(result)
