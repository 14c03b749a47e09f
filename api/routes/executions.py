"""Executions: running a flow, following, filtering, exporting, cancelling, retrying."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from api.bodies.executions import (
    Accepted,
    BulkCancelBody,
    BulkCancelOut,
    CancelBody,
    CompleteBody,
    EventBody,
    ExecutionOut,
    ExecutionPage,
    ExecutionSummary,
    RunBody,
    StepOut,
)
from api.deps import (
    AgentKey,
    EngineDep,
    ManagerKey,
    SessionDep,
    SettingsDep,
    TemporalDep,
    ViewerKey,
)
from api.errors import CONFLICT, KEYED, NOT_FOUND, UNAVAILABLE
from api.services import runs
from api.services.export import csv_lines
from api.temporal import temporal_url
from schemas.call import OutboundCall
from schemas.execution import ExecutionStatus
from schemas.settings import Settings
from store import executions
from store.errors import InvalidInputError
from store.executions import MAX_PAGE, ExecutionFilter
from store.models import Execution, Flow

router = APIRouter(tags=["executions"], responses=KEYED)
ON_AN_EXECUTION = NOT_FOUND | CONFLICT | UNAVAILABLE
"""What acting on a workflow may answer besides: no such execution, one that has ended, or
Temporal out of reach."""
StepId = Annotated[str, Path(min_length=1, max_length=64)]
EventName = Annotated[str, Path(min_length=1, max_length=200)]


def _utc(moment: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _statuses(raw: list[str] | None, *, path: str) -> tuple[str, ...]:
    statuses = tuple(s.strip() for item in raw or () for s in item.split(",") if s.strip())
    known = {s.value for s in ExecutionStatus}
    unknown = [s for s in statuses if s not in known]
    if unknown:
        raise InvalidInputError(
            f"unknown status {', '.join(unknown)}",
            details=[
                {
                    "path": path,
                    "code": "invalid_value",
                    "message": f"expected one of {sorted(known)}",
                }
            ],
        )
    return statuses


def execution_filter(
    flow_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[list[str] | None, Query(description="comma-separated statuses")] = None,
    q: Annotated[str | None, Query(max_length=200, description="name or phone")] = None,
    since: Annotated[datetime | None, Query(description="created at or after")] = None,
    until: Annotated[datetime | None, Query(description="created before")] = None,
    test: bool | None = None,
    contact_id: Annotated[str | None, Query(max_length=64)] = None,
) -> ExecutionFilter:
    return ExecutionFilter(
        flow_id=flow_id,
        statuses=_statuses(status, path="$.query.status"),
        q=q or None,
        since=_utc(since),
        until=_utc(until),
        test=test,
        contact_id=contact_id,
    )


FilterDep = Annotated[ExecutionFilter, Depends(execution_filter)]


def summary(execution: Execution, settings: Settings) -> ExecutionSummary:
    url = temporal_url(settings, execution.workflow_id)
    return ExecutionSummary.model_validate(execution).model_copy(update={"temporal_url": url})


def detail(session: Session, execution: Execution, settings: Settings) -> ExecutionOut:
    flow = session.get(Flow, execution.flow_id)
    steps = executions.steps_of(session, execution_id=execution.id)
    out = ExecutionOut.model_validate(execution)
    return out.model_copy(
        update={
            "temporal_url": temporal_url(settings, execution.workflow_id),
            "flow_name": flow.name if flow else None,
            "steps": [StepOut.model_validate(s) for s in steps],
        }
    )


@router.post("/flows/{flow_id}/executions", status_code=201, responses=ON_AN_EXECUTION)
async def run_flow(
    flow_id: str,
    body: RunBody,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
    key: ManagerKey,
) -> ExecutionSummary:
    """Start an execution, pinned to the published version (or `version`)."""
    dial = OutboundCall.model_validate(body.call.model_dump(by_alias=True)) if body.call else None
    execution = await runs.start_run(
        session=session,
        engine=engine,
        client=client,
        settings=settings,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        version=body.version,
        test=body.test,
        contact=body.contact,
        variables=body.variables,
        trigger={"type": "manual", "by": key.name},
        campaign_id=body.campaign_id,
        dial=dial,
    )
    return summary(execution, settings)


@router.get("/executions")
def list_executions(
    session: SessionDep,
    settings: SettingsDep,
    key: ViewerKey,
    filters: FilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ExecutionPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    rows, next_cursor = executions.list_executions(
        session, tenant_id=key.tenant_id, filters=filters, limit=limit, cursor=cursor
    )
    return ExecutionPage(items=[summary(e, settings) for e in rows], next_cursor=next_cursor)


@router.get("/executions/export.csv", response_class=StreamingResponse)
def export_executions(engine: EngineDep, key: ViewerKey, filters: FilterDep) -> StreamingResponse:
    """Every matching execution as CSV (the list's filters), newest first."""
    return StreamingResponse(
        csv_lines(engine=engine, tenant_id=key.tenant_id, filters=filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="executions.csv"'},
    )


@router.post("/executions/cancel", status_code=202, responses=UNAVAILABLE)
async def cancel_executions(
    body: BulkCancelBody,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
    key: ManagerKey,
) -> BulkCancelOut:
    """Cancel every running or waiting execution that matches the filter."""
    filters = ExecutionFilter(
        flow_id=body.flow_id,
        statuses=_statuses(body.status, path="$.status"),
        since=_utc(body.since),
        until=_utc(body.until),
        test=body.test,
        ids=tuple(body.ids or ()),
    )
    matched, signalled = await runs.cancel_matching(
        session=session,
        engine=engine,
        client=client,
        settings=settings,
        tenant_id=key.tenant_id,
        filters=filters,
        reason=body.reason,
        by=key.name,
    )
    return BulkCancelOut(matched=matched, signalled=signalled)


@router.get("/executions/{execution_id}", responses=NOT_FOUND)
def read_execution(
    execution_id: str, session: SessionDep, settings: SettingsDep, key: ViewerKey
) -> ExecutionOut:
    """Status, pinned version, context and the step timeline."""
    execution = executions.get_execution(
        session, tenant_id=key.tenant_id, execution_id=execution_id
    )
    return detail(session, execution, settings)


@router.post("/executions/{execution_id}/cancel", status_code=202, responses=ON_AN_EXECUTION)
async def cancel_execution(
    execution_id: str,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
    key: ManagerKey,
    body: CancelBody | None = None,
) -> ExecutionSummary:
    """Ask the workflow to cancel; its status becomes `cancelled` once it has stopped. A
    `pending` execution is cancelled too, whether or not its workflow has started."""
    execution = await runs.cancel_run(
        session=session,
        engine=engine,
        client=client,
        settings=settings,
        tenant_id=key.tenant_id,
        execution_id=execution_id,
        reason=(body or CancelBody()).reason,
        by=key.name,
    )
    return summary(execution, settings)


@router.post("/executions/{execution_id}/retry", status_code=201, responses=ON_AN_EXECUTION)
async def retry_execution(
    execution_id: str,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
    key: ManagerKey,
) -> ExecutionSummary:
    """A new execution on the same pinned version, contact and variables."""
    execution = await runs.retry_run(
        session=session,
        engine=engine,
        client=client,
        settings=settings,
        tenant_id=key.tenant_id,
        execution_id=execution_id,
    )
    return summary(execution, settings)


@router.post("/executions/{execution_id}/events/{name}", status_code=202, responses=ON_AN_EXECUTION)
async def send_event(
    execution_id: str,
    name: EventName,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    key: ManagerKey,
    body: EventBody | None = None,
) -> ExecutionSummary:
    """Deliver a named event to the execution (what `wait_for` steps wait for)."""
    execution = await runs.send_event(
        session=session,
        client=client,
        tenant_id=key.tenant_id,
        execution_id=execution_id,
        name=name,
        data=(body or EventBody()).data,
    )
    return summary(execution, settings)


@router.put("/executions/{execution_id}/steps/{step}/complete", responses=ON_AN_EXECUTION)
async def complete_step(
    execution_id: str,
    step: StepId,
    session: SessionDep,
    client: TemporalDep,
    key: AgentKey,
    body: CompleteBody | None = None,
) -> Accepted:
    """Complete a waiting human task with the form's data."""
    await runs.complete_human_task(
        session=session,
        client=client,
        key=key,
        execution_id=execution_id,
        node_id=step,
        data=(body or CompleteBody()).data,
    )
    return Accepted(accepted=True)
