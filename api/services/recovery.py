"""What a crash or a hostile flow leaves behind, found and finished by the API's sweeper.

- **Unconfirmed starts.** An execution row is committed before its workflow starts. A
  process that dies in between (or while Temporal answers) leaves the row `pending`, with
  `launch` still set. Once such a row is older than `FLOWDECK_START_GRACE_S`, the start is
  made again with the same input under the same workflow id: a start that did happen is
  found (`WorkflowAlreadyStarted`), never repeated. Starts made by others are not made here:
  an inbound call's execution (started by the ring, long over by then) ends `failed`, and a
  subflow's child (started by its parent) ends `cancelled` once its parent has ended
  without starting it.
- **Wedged executions.** A workflow task that keeps failing (a bug, a payload over
  Temporal's limits, a task that ran past the deadlock detector) is retried by Temporal for
  ever while the execution shows `pending` or `running`. Temporal marks such workflows with
  the `TemporalReportedProblems` search attribute; once one has failed
  `FLOWDECK_WEDGED_AFTER_ATTEMPTS` times in a row it is terminated and its execution marked
  `failed` with the cause.

Several API processes may sweep at once: starts are idempotent by workflow id, and an
ended row never changes again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import temporal_client_of
from api.services import schedules
from api.services.runs import end_without_workflow, input_of, start_workflow_of
from schemas.execution import WORKFLOW_NAME, ExecutionStatus, workflow_id_for
from schemas.settings import Settings
from store import event_triggers as claims
from store.db import session_scope
from store.errors import NotFoundError
from store.executions import confirm_start, is_terminal, unconfirmed_starts
from store.models import Execution, utcnow

log = structlog.get_logger(__name__)

CALL_NEVER_STARTED = "the call's flow never started: Flowdeck stopped before it answered"
PARENT_ENDED = "its parent execution ended before starting it"
WEDGED_QUERY = (
    "TemporalReportedProblems IN ('category=WorkflowTaskFailed') "
    "AND ExecutionStatus = 'Running' AND WorkflowType = '{workflow}' AND TaskQueue = '{queue}'"
)
RPC_TIMEOUT = timedelta(seconds=10)
SWEEP_PAGE = 100


# --- unconfirmed starts ----------------------------------------------------------------------


async def _exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def _confirm(engine: Engine, execution_id: str) -> None:
    with session_scope(engine) as session:
        confirm_start(session, execution_id=execution_id)


def _parent_ended(engine: Engine, parent_id: str) -> bool:
    with Session(engine) as session:
        parent = session.get(Execution, parent_id)
        return parent is None or is_terminal(parent)


async def _started_elsewhere(
    engine: Engine, client: Client, execution: Execution, *, call: bool
) -> str:
    """A row whose workflow an inbound call's ring or a parent workflow starts, not us."""
    if await _exists(client, execution.workflow_id):
        await asyncio.to_thread(_confirm, engine, execution.id)
        return "confirmed"
    if call:
        await asyncio.to_thread(
            end_without_workflow, engine, execution, ExecutionStatus.failed, CALL_NEVER_STARTED
        )
        return "failed"
    assert execution.parent_execution_id is not None
    if not await asyncio.to_thread(_parent_ended, engine, execution.parent_execution_id):
        return "waiting"  # its parent may still start it
    await asyncio.to_thread(
        end_without_workflow, engine, execution, ExecutionStatus.cancelled, PARENT_ENDED
    )
    return "cancelled"


async def finish_start(
    *, engine: Engine, client: Client, settings: Settings, execution: Execution
) -> str:
    """Make the start of one unconfirmed execution again; what came of it, in one word."""
    trigger = execution.trigger or {}
    if trigger.get("type") == "call_incoming" or execution.parent_execution_id is not None:
        call = trigger.get("type") == "call_incoming"
        return await _started_elsewhere(engine, client, execution, call=call)
    try:
        workflow_input = await asyncio.to_thread(input_of, engine, execution, settings)
    except NotFoundError as exc:
        reason = f"the workflow could not be started: {exc}"
        await asyncio.to_thread(
            end_without_workflow, engine, execution, ExecutionStatus.failed, reason
        )
        return "failed"
    try:
        await start_workflow_of(client, settings, workflow_input)
        outcome = "started"
    except WorkflowAlreadyStartedError:
        outcome = "confirmed"  # the start before the crash did happen
    await asyncio.to_thread(_confirm, engine, execution.id)
    return outcome


def _unconfirmed(
    engine: Engine, before: datetime, after: tuple[datetime, str] | None
) -> list[Execution]:
    with Session(engine, expire_on_commit=False) as session:
        return unconfirmed_starts(session, before=before, after=after, limit=SWEEP_PAGE)


async def sweep_starts(*, engine: Engine, client: Client, settings: Settings) -> dict[str, str]:
    """Finish every unconfirmed start older than the grace, a page at a time (rows left
    waiting, as a child whose parent still runs, never hide those behind them): what came of
    each, by id."""
    before = utcnow() - timedelta(seconds=settings.start_grace_s)
    outcomes: dict[str, str] = {}
    after: tuple[datetime, str] | None = None
    while True:
        page = await asyncio.to_thread(_unconfirmed, engine, before, after)
        for execution in page:
            try:
                outcome = await finish_start(
                    engine=engine, client=client, settings=settings, execution=execution
                )
            except RPCError as exc:  # Temporal busy or away: the next sweep tries again
                log.warning("start_sweep.deferred", execution_id=execution.id, error=exc.message)
                outcome = "deferred"
            outcomes[execution.id] = outcome
            if outcome != "confirmed":
                log.info("start_sweep.finished", execution_id=execution.id, outcome=outcome)
        if len(page) < SWEEP_PAGE:
            return outcomes
        after = (page[-1].created_at, page[-1].id)


# --- wedged executions -----------------------------------------------------------------------


async def _last_task_failure(client: Client, workflow_id: str, run_id: str) -> str:
    """The message of the workflow task failure Temporal recorded last."""
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace, maximum_page_size=200
    )
    request.execution.workflow_id = workflow_id
    request.execution.run_id = run_id
    response = await client.workflow_service.get_workflow_execution_history_reverse(
        request, timeout=RPC_TIMEOUT
    )
    for event in response.history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failure = event.workflow_task_failed_event_attributes.failure
            return failure.message or "unknown cause"
    return "unknown cause"


def _fail_row(engine: Engine, execution_id: str, reason: str) -> None:
    with Session(engine, expire_on_commit=False) as session:
        execution = session.get(Execution, execution_id)
    if execution is not None:
        end_without_workflow(engine, execution, ExecutionStatus.failed, reason)


@dataclass
class WedgedSweep:
    """Whether this server can tell wedged workflows (an older one has no such attribute)."""

    supported: bool = True


async def fail_wedged(
    *, engine: Engine, client: Client, settings: Settings, sweep: WedgedSweep
) -> int:
    """Terminate the executions whose workflow task keeps failing; how many were."""
    if not sweep.supported or settings.wedged_after_attempts == 0:
        return 0
    query = WEDGED_QUERY.format(workflow=WORKFLOW_NAME, queue=settings.task_queue)
    failed = 0
    try:
        async for listed in client.list_workflows(query, limit=100, rpc_timeout=RPC_TIMEOUT):
            handle = client.get_workflow_handle(listed.id, run_id=listed.run_id)
            described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
            attempt = described.raw_description.pending_workflow_task.attempt
            if attempt < settings.wedged_after_attempts:
                continue
            cause = await _last_task_failure(client, listed.id, listed.run_id)
            reason = f"the flow cannot go on: its workflow task failed {attempt} times: {cause}"
            await handle.terminate(reason=reason, rpc_timeout=RPC_TIMEOUT)
            execution_id = listed.id.removeprefix(workflow_id_for(""))
            await asyncio.to_thread(_fail_row, engine, execution_id, reason)
            log.warning("execution.wedged", execution_id=execution_id, cause=cause)
            failed += 1
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            sweep.supported = False
            log.warning("wedged_sweep.unsupported", error=exc.message)
            return failed
        raise
    return failed


FORGET_EVERY_S = 3600.0
"""How often the sweep deletes expired `Idempotency-Key` claims."""


async def recover_forever(app: FastAPI) -> None:
    """Every `FLOWDECK_START_SWEEP_S`: finish unconfirmed starts, fail wedged executions,
    create the schedules a failed sync left missing, forget expired `Idempotency-Key`s. A
    failed sweep is logged and the next one tries again."""
    settings: Settings = app.state.settings
    wedged = WedgedSweep()
    forget_at = 0.0
    while True:
        await asyncio.sleep(settings.start_sweep_s)
        try:
            client = await temporal_client_of(app.state)
            engine: Engine = app.state.engine
            await sweep_starts(engine=engine, client=client, settings=settings)
            await fail_wedged(engine=engine, client=client, settings=settings, sweep=wedged)
            await schedules.repair_missing(engine=engine, client=client, settings=settings)
            if time.monotonic() >= forget_at:  # a scan of the claims: hourly is enough
                await run_in_threadpool(claims.forget_expired, engine)
                forget_at = time.monotonic() + FORGET_EVERY_S
        except Exception as exc:
            log.error("recovery.sweep_failed", error=f"{type(exc).__name__}: {exc}")
