"""Flows: their settings, priorities, and validating a definition."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.bodies.flows import (
    DefinitionBody,
    FlowCreate,
    FlowDetail,
    FlowOut,
    FlowUpdate,
    PriorityOrder,
    ScheduleOut,
    ValidationOut,
    VersionSummary,
)
from api.deps import ManagerKey, SessionDep, SettingsDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import schedules
from api.services.references import reference_warnings
from schemas.validation import validate_flow
from store import flows, tenants
from store.flows import invalid_flow_error, problem_detail
from store.models import Flow

router = APIRouter(prefix="/flows", tags=["flows"], responses=KEYED)
AT = "$.definition"


def flow_detail(session: Session, flow: Flow) -> FlowDetail:
    versions = flows.list_versions(session, tenant_id=flow.tenant_id, flow_id=flow.id)
    return FlowDetail(
        **FlowOut.model_validate(flow).model_dump(),
        versions=[VersionSummary.model_validate(v) for v in versions],
    )


@router.post("/validate")
def validate_definition(
    body: DefinitionBody, session: SessionDep, key: ViewerKey, settings: SettingsDep
) -> ValidationOut:
    """Check a definition without saving it: 200 with warnings, or 422 with every problem.
    What it names that the tenant does not have (a department, a subflow…) is a warning here:
    publishing refuses it."""
    report, document = validate_flow(
        body.definition, live_call=body.live_call, limits=settings.flow_limits()
    )
    if not report.valid or document is None:
        raise invalid_flow_error(report, at=AT)
    warnings = [problem_detail(p, at=AT) for p in report.warnings]
    warnings += reference_warnings(
        session, tenant_id=key.tenant_id, document=document, settings=settings, at=AT
    )
    return ValidationOut(valid=True, errors=[], warnings=warnings)


@router.put("/priorities", responses=CONFLICT)
def reorder_priorities(body: PriorityOrder, session: SessionDep, key: ManagerKey) -> list[FlowOut]:
    """Priorities 1..n in the order given (1 wins when several flows match a lead)."""
    ordered = flows.reorder_priorities(session, tenant_id=key.tenant_id, order=body.order)
    return [FlowOut.model_validate(f) for f in ordered]


@router.get("")
def list_flows(session: SessionDep, key: ViewerKey) -> list[FlowOut]:
    return [FlowOut.model_validate(f) for f in flows.list_flows(session, tenant_id=key.tenant_id)]


@router.post("", status_code=201, responses=CONFLICT)
def create_flow(
    body: FlowCreate, session: SessionDep, key: ManagerKey, settings: SettingsDep
) -> FlowDetail:
    """A flow; a `definition` given here becomes its draft version 1. Without its own
    `cooldown_minutes` (or a schedule's `timezone`), it takes the tenant's (`GET /api/tenant`)."""
    defaults = tenants.tenant_settings(session, tenant_id=key.tenant_id)
    if body.trigger is not None:
        body.trigger.check(timezone=defaults.timezone)
    fields = body.flow_fields()
    if "cooldown_minutes" not in body.model_fields_set:
        fields["cooldown_minutes"] = defaults.cooldown_minutes
    flow = flows.create_flow(
        session,
        tenant_id=key.tenant_id,
        fields=fields,
        definition=body.definition,
        change_notes=body.change_notes,
        created_by=key.name,
        limits=settings.flow_limits(),
    )
    return flow_detail(session, flow)


@router.get("/{flow_id}", responses=NOT_FOUND)
def read_flow(flow_id: str, session: SessionDep, key: ViewerKey) -> FlowDetail:
    return flow_detail(session, flows.get_flow(session, tenant_id=key.tenant_id, flow_id=flow_id))


@router.patch("/{flow_id}", responses=NOT_FOUND | CONFLICT)
async def update_flow(
    flow_id: str,
    body: FlowUpdate,
    request: Request,
    session: SessionDep,
    key: ManagerKey,
    settings: SettingsDep,
) -> FlowDetail:
    """A `schedule` trigger's Temporal Schedule follows: created, changed, paused while the
    flow is disabled, deleted when the trigger changes to another type."""
    if body.trigger is not None:
        defaults = await run_in_threadpool(
            tenants.tenant_settings, session, tenant_id=key.tenant_id
        )
        body.trigger.check(timezone=defaults.timezone)
    flow = await schedules.update_flow(
        session=session,
        state=request.app.state,
        settings=settings,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        changes=body.changes(),
    )
    return await run_in_threadpool(flow_detail, session, flow)


@router.get("/{flow_id}/schedule", responses=NOT_FOUND)
async def read_schedule(
    flow_id: str, request: Request, session: SessionDep, key: ViewerKey, settings: SettingsDep
) -> ScheduleOut:
    """The flow's Temporal Schedule (a `schedule` trigger and a published version): paused or
    not, its next and recent firings (with the executions they started), its Web UI link."""
    described = await schedules.describe_schedule(
        session=session, state=request.app.state, tenant_id=key.tenant_id, flow_id=flow_id
    )
    url = schedules.schedule_url(settings, described.id)
    return ScheduleOut.of(described, temporal_url=url)


@router.delete("/{flow_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
async def delete_flow(
    flow_id: str, request: Request, session: SessionDep, key: ManagerKey, settings: SettingsDep
) -> Response:
    """Soft delete: the flow disappears and stops triggering (its schedule is deleted); its
    executions stay."""
    await schedules.delete_flow(
        session=session,
        state=request.app.state,
        settings=settings,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
    )
    return Response(status_code=204)
