"""Recording the execution a schedule's firing starts (see `workflows.scheduled`).

The firing's workflow then starts the execution's workflow as its child. A firing for a flow
that was deleted, disabled or unpublished meanwhile (its schedule not yet updated) starts
nothing and says why.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.schedule import SCHEDULE, ScheduledRun, ScheduledRunInput
from schemas.settings import Settings
from store.db import session_scope
from store.executions import load_execution_input, new_execution, pinned_input
from store.flows import version_to_run
from store.models import Execution, Flow


def _not_runnable(flow: Flow | None, data: ScheduledRunInput) -> str | None:
    if flow is None or flow.tenant_id != data.tenant_id or flow.deleted_at is not None:
        return "the flow was deleted"
    if not flow.enabled:
        return "the flow is disabled"
    if (flow.trigger or {}).get("type") != SCHEDULE:
        return "the flow's trigger is no longer a schedule"
    if flow.published_version is None:
        return "the flow has no published version"
    return None


def _record(session: Session, data: ScheduledRunInput, settings: Settings) -> ScheduledRun:
    existing = session.get(Execution, data.execution_id)
    if existing is not None:  # a retry: the first attempt recorded it
        workflow_input = load_execution_input(session, existing, settings=settings)
        return ScheduledRun(execution_id=existing.id, input=workflow_input)
    flow = session.get(Flow, data.flow_id)
    reason = _not_runnable(flow, data)
    if reason is not None or flow is None:
        return ScheduledRun(execution_id=data.execution_id, skipped=reason)
    version = version_to_run(session, flow=flow, number=None, test=False)
    execution = new_execution(
        execution_id=data.execution_id,
        tenant_id=flow.tenant_id,
        flow_id=flow.id,
        version=version.number,
        contact={},
        variables={},
        trigger={
            "type": SCHEDULE,
            "scheduled_at": data.scheduled_at.isoformat(),
            "schedule_id": data.schedule_id,
        },
    )
    session.add(execution)
    session.flush()
    workflow_input = pinned_input(session, execution, flow=flow, version=version, settings=settings)
    return ScheduledRun(execution_id=execution.id, input=workflow_input)


def prepare_scheduled_run(
    engine: Engine, data: ScheduledRunInput, *, settings: Settings
) -> ScheduledRun:
    """Create (or find) the pending execution row of one firing, and its workflow input."""
    try:
        with session_scope(engine) as session:
            return _record(session, data, settings)
    except IntegrityError:
        # A concurrent attempt created the row first: the second pass finds it.
        with session_scope(engine) as session:
            return _record(session, data, settings)
