"""Starting, retrying, cancelling and talking to executions' workflows.

The execution row is committed before its workflow starts: if Temporal refuses the start,
the row is marked failed with the reason, so nothing is ever lost silently; if the process
dies in between, the recovery sweep (`api.services.recovery`) makes the start again. A
workflow's id is its execution's, never reused, so a start is made at most once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ForbiddenError, ServiceUnavailableError
from api.failpoints import failpoint
from schemas import search_attributes
from schemas.call import OutboundCall
from schemas.execution import (
    SIGNAL_CANCEL,
    SIGNAL_EVENT,
    UPDATE_COMPLETE_HUMAN_TASK,
    WORKFLOW_NAME,
    CancelRequest,
    EventSignal,
    ExecutionInput,
    ExecutionStatus,
    HumanTaskAnswer,
    HumanTaskCompletion,
    Launch,
    RecordInput,
    workflow_id_for,
)
from schemas.limits import RUN_INPUT_LIMIT_BYTES, describe_size, json_size
from schemas.settings import Settings
from store.campaigns import check_campaign_id
from store.db import released
from store.errors import ConflictError, InvalidInputError, NotFoundError
from store.executions import (
    ExecutionFilter,
    active_executions,
    get_execution,
    is_terminal,
    load_execution_input,
    new_execution,
    pinned_input,
    waiting_step,
)
from store.flows import find_version, get_flow, version_to_run
from store.models import Agent, ApiKey, Execution, utcnow
from store.telephony import agents_named
from store.timeline import apply_records

log = structlog.get_logger(__name__)

RPC_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT_S = 10.0
BULK_CONCURRENCY = 20


@dataclass(frozen=True)
class PreparedRun:
    """An execution row not yet stored, and the input its workflow starts with."""

    execution: Execution
    workflow_input: ExecutionInput


def _check_input_size(**parts: dict[str, Any]) -> None:
    """A run's input travels in its workflow's every payload: bounded (SPEC limits)."""
    size = json_size(parts)
    if size > RUN_INPUT_LIMIT_BYTES:
        largest = max(parts, key=lambda name: json_size(parts[name]))
        raise InvalidInputError(
            f"the run's input is {describe_size(size)}; at most "
            f"{describe_size(RUN_INPUT_LIMIT_BYTES)} of contact, variables and trigger",
            details=[
                {
                    "path": f"$.{largest}",
                    "code": "too_large",
                    "message": f"{describe_size(json_size(parts[largest]))} here",
                }
            ],
        )


def prepare_run(
    session: Session,
    *,
    settings: Settings,
    tenant_id: str,
    flow_id: str,
    version: int | None,
    test: bool,
    contact: dict[str, Any],
    variables: dict[str, Any],
    trigger: dict[str, Any],
    retry_of: str | None = None,
    contact_id: str | None = None,
    match: dict[str, Any] | None = None,
    respect_business_hours: bool = False,
    execution_id: str | None = None,
    campaign_id: str | None = None,
    dial: OutboundCall | None = None,
) -> PreparedRun:
    """The pending row of a run, pinned to its version, and its workflow's input."""
    _check_input_size(contact=contact, variables=variables, trigger=trigger)
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    if campaign_id is not None:
        check_campaign_id(session, tenant_id=tenant_id, campaign_id=campaign_id)
    pinned = version_to_run(session, flow=flow, number=version, test=test)
    execution = new_execution(
        tenant_id=tenant_id,
        flow_id=flow.id,
        version=pinned.number,
        contact=({"phone": dial.to} if dial else {}) | contact,
        variables=variables,
        trigger=trigger,
        test=test,
        retry_of=retry_of,
        contact_id=contact_id,
        match=match,
        execution_id=execution_id,
        campaign_id=campaign_id,
        launch=Launch(respect_business_hours=respect_business_hours, dial=dial),
    )
    workflow_input = pinned_input(session, execution, flow=flow, version=pinned, settings=settings)
    return PreparedRun(execution=execution, workflow_input=workflow_input)


def end_without_workflow(
    engine: Engine, execution: Execution, status: ExecutionStatus, reason: str
) -> None:
    """End a row whose workflow never ran (its start refused, lost, or cancelled), with its
    event; a row that has ended meanwhile keeps its status (terminal statuses are final)."""
    record = RecordInput(
        execution_id=execution.id,
        tenant_id=execution.tenant_id,
        flow_id=execution.flow_id,
        status=status,
        reason=reason,
        at=utcnow(),
    )
    apply_records(engine, record)
    execution.status = status
    execution.reason = reason


async def start_workflow_of(
    client: Client,
    settings: Settings,
    workflow_input: ExecutionInput,
    *,
    signal: tuple[str, BaseModel] | None = None,
) -> None:
    """Start the execution's workflow under its one id (eagerly, if a worker is local), or,
    with `signal`, send it that signal, starting it first if it has not started yet.

    An id whose workflow already ran is never started again (`REJECT_DUPLICATE`): making a
    start again after a crash cannot run an execution twice.
    """
    extra: dict[str, Any] = {}
    if signal is not None:
        extra = {"start_signal": signal[0], "start_signal_args": [signal[1]]}
    if settings.index_executions:
        extra["search_attributes"] = search_attributes.indexed(workflow_input)
    await client.start_workflow(
        WORKFLOW_NAME,
        workflow_input,
        id=workflow_id_for(workflow_input.execution_id),
        task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        request_eager_start=signal is None,
        rpc_timeout=RPC_TIMEOUT,
        static_summary=f"{workflow_input.flow_name} v{workflow_input.version}",
        memo=search_attributes.memo(workflow_input),
        **extra,
    )


async def launch_run(
    *, engine: Engine, client: Client, settings: Settings, prepared: PreparedRun
) -> Execution:
    """Start the workflow of a stored execution. Refused by Temporal, the row says why."""
    execution = prepared.execution
    failpoint(settings, "run.after_commit")
    try:
        await start_workflow_of(client, settings, prepared.workflow_input)
    except WorkflowAlreadyStartedError:
        pass  # a cancel (or the start sweeper) started it first: it runs once either way
    except Exception as exc:  # whatever stopped the start, the row must say so
        reason = f"the workflow could not be started: {exc}"
        log.warning("workflow start failed", execution_id=execution.id, error=str(exc))
        await run_in_threadpool(
            end_without_workflow, engine, execution, ExecutionStatus.failed, reason
        )
        raise ServiceUnavailableError(reason) from exc
    failpoint(settings, "run.after_start")
    log.info("execution started", execution_id=execution.id, flow_id=execution.flow_id)
    return execution


def _prepare_and_store(session: Session, **fields: Any) -> PreparedRun:
    prepared = prepare_run(session, **fields)
    session.add(prepared.execution)
    return prepared


async def start_run(
    *,
    session: Session,
    engine: Engine,
    client: Client,
    settings: Settings,
    tenant_id: str,
    flow_id: str,
    version: int | None = None,
    test: bool = False,
    contact: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    retry_of: str | None = None,
    contact_id: str | None = None,
    campaign_id: str | None = None,
    dial: OutboundCall | None = None,
) -> Execution:
    """Create the execution row (one commit), then start its workflow. With `dial`, the
    workflow first places that call and runs the flow on it."""
    # Prepared and stored in one thread hop, its transaction ended there: the request holds
    # no pooled connection while it waits for a thread or for Temporal.
    prepared = await run_in_threadpool(
        released,
        session,
        _prepare_and_store,
        settings=settings,
        tenant_id=tenant_id,
        flow_id=flow_id,
        version=version,
        test=test,
        contact=contact or {},
        variables=variables or {},
        trigger=trigger or {"type": "manual"},
        retry_of=retry_of,
        contact_id=contact_id,
        campaign_id=campaign_id,
        dial=dial,
    )
    return await launch_run(engine=engine, client=client, settings=settings, prepared=prepared)


async def retry_run(
    *,
    session: Session,
    engine: Engine,
    client: Client,
    settings: Settings,
    tenant_id: str,
    execution_id: str,
) -> Execution:
    """A new execution of a finished one: same pinned version, contact and variables."""
    original = await run_in_threadpool(
        released, session, get_execution, tenant_id=tenant_id, execution_id=execution_id
    )
    if not is_terminal(original):
        raise ConflictError(f"execution {execution_id} is still {original.status}: cancel it first")
    return await start_run(
        session=session,
        engine=engine,
        client=client,
        settings=settings,
        tenant_id=tenant_id,
        flow_id=original.flow_id,
        version=original.version,
        test=original.test,
        contact=original.contact,
        variables=original.variables,
        trigger=original.trigger,
        retry_of=original.id,
        contact_id=original.contact_id,
        campaign_id=original.campaign_id,
    )


async def _live_execution(session: Session, *, tenant_id: str, execution_id: str) -> Execution:
    execution = await run_in_threadpool(
        released, session, get_execution, tenant_id=tenant_id, execution_id=execution_id
    )
    if is_terminal(execution):
        raise ConflictError(f"execution {execution_id} has already {execution.status}")
    return execution


def _rpc_failure(exc: RPCError, execution: Execution) -> Exception:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return ConflictError(f"the workflow of execution {execution.id} is no longer running")
    return ServiceUnavailableError(f"Temporal refused the request: {exc.message}")


async def _signal(client: Client, execution: Execution, name: str, arg: BaseModel) -> None:
    handle = client.get_workflow_handle(execution.workflow_id)
    try:
        await handle.signal(name, arg, rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        raise _rpc_failure(exc, execution) from exc


def input_of(engine: Engine, execution: Execution, settings: Settings) -> ExecutionInput:
    """The workflow input a stored execution starts with, read in a session of its own."""
    with Session(engine, expire_on_commit=False) as session:
        return load_execution_input(session, execution, settings=settings)


async def _cancel(
    *,
    engine: Engine,
    client: Client,
    settings: Settings,
    execution: Execution,
    request: CancelRequest,
) -> None:
    """Cancel a live execution by signal. A pending one may have no workflow yet (its start
    is in flight, or was lost to a crash): the signal then starts it, to be cancelled at once
    (signal-with-start), so a start that comes later finds it over and runs nothing."""
    if execution.status == ExecutionStatus.pending:
        workflow_input = await run_in_threadpool(input_of, engine, execution, settings)
        try:
            await start_workflow_of(
                client, settings, workflow_input, signal=(SIGNAL_CANCEL, request)
            )
        except WorkflowAlreadyStartedError as exc:
            raise ConflictError(f"execution {execution.id} has already ended") from exc
        except RPCError as exc:
            raise _rpc_failure(exc, execution) from exc
        return
    try:
        await _signal(client, execution, SIGNAL_CANCEL, request)
    except ConflictError:
        # The row is live but Temporal has no such workflow (it was terminated there, or
        # its history is gone): nothing runs, so the row ends as asked.
        reason = f"{request.reason} (its workflow was gone)"
        await run_in_threadpool(
            end_without_workflow, engine, execution, ExecutionStatus.cancelled, reason
        )


async def cancel_run(
    *,
    session: Session,
    engine: Engine,
    client: Client,
    settings: Settings,
    tenant_id: str,
    execution_id: str,
    reason: str,
    by: str,
) -> Execution:
    execution = await _live_execution(session, tenant_id=tenant_id, execution_id=execution_id)
    request = CancelRequest(reason=reason, by=by)
    await _cancel(
        engine=engine, client=client, settings=settings, execution=execution, request=request
    )
    log.info("cancel requested", execution_id=execution.id, by=by)
    return execution


async def cancel_matching(
    *,
    session: Session,
    engine: Engine,
    client: Client,
    settings: Settings,
    tenant_id: str,
    filters: ExecutionFilter,
    reason: str,
    by: str,
) -> tuple[int, int]:
    """Cancel every live execution that matches; returns (matched, signalled)."""
    executions = await run_in_threadpool(
        released, session, active_executions, tenant_id=tenant_id, filters=filters
    )
    gate = asyncio.Semaphore(BULK_CONCURRENCY)
    request = CancelRequest(reason=reason, by=by)

    async def cancel_one(execution: Execution) -> bool:
        async with gate:
            try:
                await _cancel(
                    engine=engine,
                    client=client,
                    settings=settings,
                    execution=execution,
                    request=request,
                )
            except ConflictError:
                return False  # it finished while we were signalling the others
            return True

    results = await asyncio.gather(*(cancel_one(e) for e in executions), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    signalled = sum(1 for r in results if r is True)
    log.info("bulk cancel", matched=len(executions), signalled=signalled, by=by)
    return len(executions), signalled


async def send_event(
    *,
    session: Session,
    client: Client,
    tenant_id: str,
    execution_id: str,
    name: str,
    data: dict[str, Any],
) -> Execution:
    execution = await _live_execution(session, tenant_id=tenant_id, execution_id=execution_id)
    await _signal(client, execution, SIGNAL_EVENT, EventSignal(name=name, data=data))
    return execution


def _waiting_assignee(session: Session, execution: Execution, node_id: str) -> Assignee | None:
    """Who the human task waiting at `node_id` is assigned to, as rendered when it began,
    with the tenant's agents that name fits (by id or name).

    None when the step is not waiting (yet, or any more).
    """
    version = find_version(session, flow_id=execution.flow_id, number=execution.version)
    nodes = (version.definition.get("nodes") or []) if version else []
    node = next((n for n in nodes if isinstance(n, dict) and n.get("id") == node_id), None)
    if node is None:
        raise NotFoundError(f"step {node_id} not found in version {execution.version}")
    if node.get("type") != "human_task":
        raise ConflictError(f"step {node_id} is a {node.get('type')} step, not a human task")
    step = waiting_step(session, execution_id=execution.id, node_id=node_id)
    if step is None:
        return None
    name = (step.result or {}).get("assignee") or (node.get("config") or {}).get("assignee")
    name = str(name or "")
    agents = agents_named(session, tenant_id=execution.tenant_id, name=name) if name else []
    return Assignee(name=name, agents=agents)


@dataclass(frozen=True)
class Assignee:
    """A human task's assignee: the name it was given, and the agents that name is."""

    name: str
    agents: list[Agent]


def may_complete(key: ApiKey, assignee: Assignee) -> bool:
    """Managers and admins complete any task; an agent key the tasks assigned to it: by the
    key's name or id, to `agent` (any agent), or to an agent (by id or name) that the key is
    (the key named after the agent's id or name, as `PUT /api/agents/{id}/status` knows it)."""
    if key.role in ("admin", "manager"):
        return True
    if key.role != "agent":
        return False
    if assignee.name in (key.name, key.id, "agent"):
        return True
    return any(key.name in (agent.id, agent.name) for agent in assignee.agents)


async def complete_human_task(
    *,
    session: Session,
    client: Client,
    key: ApiKey,
    execution_id: str,
    node_id: str,
    data: dict[str, Any],
) -> HumanTaskAnswer:
    """Complete a waiting human task through the workflow's Update; a refusal is a conflict."""
    execution = await _live_execution(session, tenant_id=key.tenant_id, execution_id=execution_id)
    assignee = await run_in_threadpool(released, session, _waiting_assignee, execution, node_id)
    if key.role not in ("admin", "manager"):
        # An agent needs the task's assignee; managers leave the verdict to the workflow.
        if assignee is None:
            raise ConflictError(f"step {node_id} is not waiting for completion")
        if not may_complete(key, assignee):
            raise ForbiddenError(f"step {node_id} is assigned to {assignee.name}, not to this key")
    completion = HumanTaskCompletion(node_id=node_id, data=data, completed_by=key.name)
    handle = client.get_workflow_handle(execution.workflow_id)
    try:
        answer = await asyncio.wait_for(
            handle.execute_update(
                UPDATE_COMPLETE_HUMAN_TASK,
                completion,
                result_type=HumanTaskAnswer,
                rpc_timeout=RPC_TIMEOUT,
            ),
            UPDATE_TIMEOUT_S,
        )
    except WorkflowUpdateFailedError as exc:
        cause = getattr(exc.cause, "message", None) or str(exc.cause)
        raise ConflictError(f"step {node_id} cannot be completed: {cause}") from exc
    except RPCError as exc:
        raise _rpc_failure(exc, execution) from exc
    except TimeoutError as exc:
        raise ServiceUnavailableError(
            f"the workflow did not answer within {UPDATE_TIMEOUT_S:.0f} s (is a worker running?)"
        ) from exc
    if not isinstance(answer, HumanTaskAnswer) or not answer.accepted:
        raise ConflictError(f"step {node_id} did not accept the completion")
    return answer
