"""Test mode: `POST /api/flows/{id}/test`, the path a contact would take, nothing sent."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter

from api.bodies.dryrun import DryRunBody, DryRunOut
from api.deps import ManagerKey, SessionDep, SettingsDep
from api.errors import KEYED, NOT_FOUND
from api.services.dryrun import dry_run_flow

router = APIRouter(prefix="/flows", tags=["test mode"], responses=KEYED | NOT_FOUND)


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
