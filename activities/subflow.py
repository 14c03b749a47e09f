"""Resolving a `subflow` step's child flow and creating the child's execution row.

The workflow then starts the child workflow itself. The child's id is derived from the
activity's identity, so a retried activity finds the row its first attempt created.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from activities.step import EXECUTION_NOT_FOUND, INVALID_CONFIG, step_error
from schemas.execution import (
    SubflowStart,
    SubflowStartInput,
)
from schemas.flow import FlowDocument
from schemas.limits import STEP_INPUT_LIMIT_BYTES, describe_size, json_size
from schemas.settings import Settings
from store.db import session_scope
from store.errors import ConflictError, InvalidInputError
from store.executions import execution_input, new_execution
from store.flows import business_hours_model, version_to_run
from store.models import Execution, Flow, FlowVersion

SUBFLOW_NOT_FOUND = "SubflowNotFound"
SUBFLOW_NOT_RUNNABLE = "SubflowNotRunnable"


def _flow(session: Session, data: SubflowStartInput) -> Flow:
    flow = session.get(Flow, data.flow_id)
    # Another tenant's flow is answered exactly like a missing one: nothing of it leaks.
    if flow is None or flow.tenant_id != data.tenant_id or flow.deleted_at is not None:
        raise step_error(
            f"subflow {data.flow_id} not found", type=SUBFLOW_NOT_FOUND, retryable=False
        )
    if not flow.enabled:
        raise step_error(
            f"subflow {flow.name!r} ({flow.id}) is disabled",
            type=SUBFLOW_NOT_RUNNABLE,
            retryable=False,
        )
    return flow


def _version(session: Session, flow: Flow, requested: int | None) -> FlowVersion:
    """The child's version, as any run pins one (`version_to_run`): the published one unless
    a number is given. Never a draft, not even in a test run: a draft changes under edit."""
    try:
        return version_to_run(session, flow=flow, number=requested, test=False)
    except (ConflictError, InvalidInputError) as exc:
        raise step_error(
            f"subflow {flow.name!r} ({flow.id}) cannot run: {exc}",
            type=SUBFLOW_NOT_RUNNABLE,
            retryable=False,
        ) from None


def _check_size(data: SubflowStartInput, definition: FlowDocument) -> None:
    """A child whose input Temporal would refuse is never created."""
    size = json_size(definition.model_dump(mode="json")) + json_size(data.model_dump(mode="json"))
    if size > STEP_INPUT_LIMIT_BYTES:
        raise step_error(
            f"the subflow's input is {describe_size(size)}, over the "
            f"{describe_size(STEP_INPUT_LIMIT_BYTES)} a workflow may start with",
            type=INVALID_CONFIG,
            retryable=False,
        )


def _child_row(
    session: Session,
    *,
    child_id: str,
    data: SubflowStartInput,
    version: int,
    trigger: dict[str, Any],
) -> Execution:
    # Started by its parent; the start sweep ends it should the parent end without doing so.
    child = new_execution(
        execution_id=child_id,
        tenant_id=data.tenant_id,
        flow_id=data.flow_id,
        version=version,
        contact=data.contact,
        variables=data.variables,
        trigger=trigger,
        test=data.test,
        parent_execution_id=data.parent_execution_id,
    )
    session.add(child)
    session.flush()
    return child


def _prepare(
    engine: Engine, data: SubflowStartInput, child_id: str, settings: Settings
) -> SubflowStart:
    with session_scope(engine) as session:
        parent = session.get(Execution, data.parent_execution_id)
        if parent is None or parent.tenant_id != data.tenant_id:
            raise step_error(
                f"execution {data.parent_execution_id} not found",
                type=EXECUTION_NOT_FOUND,
                retryable=False,
            )
        flow = _flow(session, data)
        existing = session.get(Execution, child_id)
        # A retry keeps the version its first attempt pinned, even if another was published since.
        version = _version(session, flow, existing.version if existing else data.version)
        try:
            definition = FlowDocument.model_validate(version.definition)
            hours = business_hours_model(session, flow=flow)
        except ValidationError as exc:
            raise step_error(
                f"subflow {flow.name!r} ({flow.id}) cannot run: {exc.error_count()} invalid "
                f"setting(s): {exc.errors()[0]['msg']}",
                type=INVALID_CONFIG,
                retryable=False,
            ) from None
        trigger = {
            "type": "subflow",
            "parent_execution_id": data.parent_execution_id,
            "node_id": data.node_id,
        }
        _check_size(data, definition)
        child = existing or _child_row(
            session, child_id=child_id, data=data, version=version.number, trigger=trigger
        )
        child_input = execution_input(
            child, flow=flow, definition=definition, hours=hours, settings=settings
        )
        return SubflowStart(execution_id=child.id, workflow_id=child.workflow_id, input=child_input)


def prepare_subflow(
    engine: Engine, data: SubflowStartInput, *, child_id: str, settings: Settings
) -> SubflowStart:
    """Resolve the child flow and create (or find) its pending execution row."""
    try:
        return _prepare(engine, data, child_id, settings)
    except IntegrityError:
        # A concurrent attempt created the row first: the second pass finds it.
        return _prepare(engine, data, child_id, settings)
