"""The activities the interpreter workflow calls: perform an action step, record progress,
prepare a subflow.

`perform_action` records its own progress (the workflow's buffered records, the step's start
and its end; one transaction for a quick step, two for a slow one), so an action step costs
one Temporal round trip, and its outcome is stored before the activity returns: a local
activity run again after its workflow task was lost (`ActionInput.recheck`) gets the stored
outcome back instead of performing the step twice. Handlers per step type live in their own
modules, each registered with `@handles("<type>")` (`activities.step.HANDLERS`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import routing
from activities.fetch import SHARED, Fetcher
from activities.performed import Performed
from activities.scheduled import prepare_scheduled_run as prepare_scheduled_row
from activities.step import EXECUTION_NOT_FOUND, HANDLERS, StepContext, step_error
from activities.subflow import prepare_subflow as prepare_subflow_row
from providers.offers import DispatchError
from schemas.call import ACTIVITY_RELEASE_AGENT, ReleaseAgent
from schemas.execution import (
    ACTIVITY_PERFORM_ACTION,
    ACTIVITY_PREPARE_SUBFLOW,
    ACTIVITY_RECORD_PROGRESS,
    ActionInput,
    ActionOutput,
    ExecutionStatus,
    RecordInput,
    StepRecord,
    StepStatus,
    SubflowStart,
    SubflowStartInput,
)
from schemas.limits import json_size
from schemas.schedule import ACTIVITY_PREPARE_SCHEDULED_RUN, ScheduledRun, ScheduledRunInput
from schemas.settings import Settings
from store.models import OutboxMessage
from store.recorder import Recorder
from store.timeline import stored_outcome

# Names a child execution's id is derived from; any fixed UUID serves.
_CHILD_NAMESPACE = uuid.UUID("6f1c2d4e-0b7a-4c59-9a43-2f1e8d5b7c10")

_log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


ANNOUNCE_AFTER_S = 0.25
"""A step still working after this long is written as running; quicker ones are written once."""


class _Announcer:
    """Writes a step's start only if the step outlasts ANNOUNCE_AFTER_S.

    A quick step (most sends) then costs one database transaction instead of two, while a
    slow HTTP call still shows as running in the timeline while it runs.
    """

    def __init__(self, write: Callable[[], Awaitable[None]]) -> None:
        self._writing = False
        self._task = asyncio.create_task(self._later(write))

    async def _later(self, write: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(ANNOUNCE_AFTER_S)
        self._writing = True
        await write()

    async def settle(self) -> bool:
        """Whether the start was written; if not, it never will be."""
        if not self._writing:
            self._task.cancel()
            return False
        try:
            await self._task
        except ApplicationError:
            return False
        return True


def _record_input(
    data: ActionInput,
    records: list[StepRecord],
    *,
    at: datetime,
    status: ExecutionStatus | None = None,
    reason: str | None = None,
    context: dict[str, Any] | None = None,
) -> RecordInput:
    return RecordInput(
        execution_id=data.execution_id,
        tenant_id=data.tenant_id,
        flow_id=data.flow_id,
        records=records,
        status=status,
        reason=reason,
        context=context,
        at=at,
    )


def _end_of(
    data: ActionInput, output: ActionOutput, written: Sequence[StepRecord] = ()
) -> RecordInput | None:
    """The execution's end, when the step leaves by a port of `data.ending` and what it
    brings back fits the data budget (as the workflow would judge it): the step's records
    (`written`), its end node's record, completed, with the final `vars` and `steps` (the
    workflow's final write)."""
    ending = data.ending
    if ending is None or output.port not in ending.ports:
        return None
    steps = {**ending.context.get("steps", {}), data.node_id: output.result}
    variables = dict(ending.context.get("vars", {}))
    grows = json_size(output.result)
    if ending.save_as and ending.saves:
        variables[ending.save_as] = value = output.result.get(ending.saves)
        grows += json_size(value)
    if grows > ending.room:
        return None  # the step fails on the budget in the workflow, which writes that
    end_id = ending.ports[output.port]
    at = _now()
    record = StepRecord(
        seq=data.seq + 1,
        node_id=end_id,
        node_type="end",
        status=StepStatus.success,
        started_at=at,
        ended_at=at,
    )
    return _record_input(
        data,
        [*written, record],
        status=ExecutionStatus.completed,
        reason=ending.reasons.get(end_id),
        context={"vars": variables, "steps": steps},
        at=at,
    )


class FlowActivities:
    """Every side effect of a flow step; the worker registers the bound methods of `all()`."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        http_client: httpx.AsyncClient | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self._engine = engine
        self._fetcher = fetcher or SHARED
        self._recorder = Recorder(engine)
        self._performed = Performed()
        self._settings = settings
        # Our own client never reads proxy settings from the environment: a proxy would
        # resolve names itself and undo the private-address check.
        self._http = http_client or httpx.AsyncClient(trust_env=False, follow_redirects=False)
        self._owns_http = http_client is None

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.perform_action,
            self.record_progress,
            self.prepare_subflow,
            self.release_agent,
            self.prepare_scheduled_run,
        ]

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- activities ----------------------------------------------------------------------

    @activity.defn(name=ACTIVITY_RECORD_PROGRESS)
    async def record_progress(self, data: RecordInput) -> None:
        await self._apply(data)

    @activity.defn(name=ACTIVITY_PERFORM_ACTION)
    async def perform_action(self, data: ActionInput) -> ActionOutput:
        info = activity.info()
        attempt = info.attempt
        log = _log.bind(
            execution_id=data.execution_id,
            node_id=data.node_id,
            node_type=data.node_type,
            seq=data.seq,
            attempt=attempt,
        )
        # A local activity runs again when its workflow task is replayed (`Performed`).
        run_id = info.workflow_run_id if info.is_local else None
        if run_id is not None and (done := self._performed.get(run_id, data.seq)) is not None:
            log.info("step.already_performed")
            return done
        # A lost workflow task may have run this step already, and stored its outcome.
        if data.recheck and (stored := await self._stored(data)) is not None:
            log.info("step.already_performed", stored=True)
            return stored
        started = self._step(data, attempt, status=StepStatus.running)
        # The earliest record's time, so an execution's start is when its first step began.
        first_at = min([data.started_at, *(r.started_at for r in data.records)])
        opening = [*data.records, started]
        announcer = _Announcer(
            lambda: self._apply(
                _record_input(data, opening, status=ExecutionStatus.running, at=first_at)
            )
        )
        context = StepContext(
            data=data,
            engine=self._engine,
            settings=self._settings,
            http=self._http,
            log=log,
            fetcher=self._fetcher,
        )
        try:
            output = await self._dispatch(context)
        except ApplicationError as exc:
            log.warning(
                "step.attempt_failed",
                error_type=exc.type,
                retryable=not exc.non_retryable,
                error=exc.message,
            )
            await self._record_failure(data, attempt, exc.message, log, await announcer.settle())
            raise
        except Exception as exc:
            # A bug, not an expected failure: keep it visible on the step, let Temporal retry.
            log.exception("step.attempt_crashed")
            error = f"{type(exc).__name__}: {exc}"
            await self._record_failure(data, attempt, error, log, await announcer.settle())
            raise
        if output.waiting:
            # A call placed or a question sent: the workflow finishes the step on its outcome.
            ended = self._step(data, attempt, status=StepStatus.waiting, result=output.result)
        else:
            ended = self._step(
                data,
                attempt,
                status=StepStatus.success,
                ended_at=max(_now(), data.started_at),
                port=output.port,
                result=output.result,
            )
        unwritten = [] if await announcer.settle() else opening
        written = [*unwritten, ended]
        progress = None if output.waiting else _end_of(data, output, written)
        if progress is not None:
            output = output.model_copy(update={"ended": True})
        else:
            progress = _record_input(data, written, status=ExecutionStatus.running, at=first_at)
        await self._apply(progress, context.deferred)
        log.debug("step.succeeded", port=output.port)  # the timeline is the record
        if run_id is not None:
            self._performed.put(run_id, data.seq, output)
        return output

    @activity.defn(name=ACTIVITY_PREPARE_SUBFLOW)
    async def prepare_subflow(self, data: SubflowStartInput) -> SubflowStart:
        info = activity.info()
        # The activity id is stable across retries of one scheduled activity, and unique
        # within the workflow run: a retry finds the row its first attempt created.
        run_id = info.workflow_run_id or ""
        identity = f"{data.parent_execution_id}:{data.node_id}:{run_id}:{info.activity_id}"
        child_id = uuid.uuid5(_CHILD_NAMESPACE, identity).hex
        start = await asyncio.to_thread(
            prepare_subflow_row, self._engine, data, child_id=child_id, settings=self._settings
        )
        _log.info(
            "subflow.prepared",
            execution_id=data.parent_execution_id,
            node_id=data.node_id,
            child_execution_id=start.execution_id,
            flow_id=data.flow_id,
            version=start.input.version,
        )
        return start

    @activity.defn(name=ACTIVITY_PREPARE_SCHEDULED_RUN)
    async def prepare_scheduled_run(self, data: ScheduledRunInput) -> ScheduledRun:
        """Record the execution a schedule's firing starts (or why it starts none)."""
        run = await asyncio.to_thread(
            prepare_scheduled_row, self._engine, data, settings=self._settings
        )
        _log.info(
            "schedule.fired",
            execution_id=run.execution_id,
            flow_id=data.flow_id,
            schedule_id=data.schedule_id,
            scheduled_at=data.scheduled_at.isoformat(),
            skipped=run.skipped,
        )
        return run

    @activity.defn(name=ACTIVITY_RELEASE_AGENT)
    async def release_agent(self, req: ReleaseAgent) -> None:
        """A transfer is over: free its agent, close its entry, offer the next caller."""
        try:
            await routing.release_and_offer(
                req,
                engine=self._engine,
                settings=self._settings,
                http=self._http,
                temporal=activity.client(),
            )
        except DispatchError as exc:
            # The offer was withdrawn (the caller back in line). A retry offers the next
            # caller again; a refusal ends here: this transfer is over, and that caller's
            # trouble must not fail this caller's execution.
            if exc.retryable:
                raise step_error(str(exc), type=routing.OFFER_FAILED, retryable=True) from None
            _log.warning("release.next_offer_refused", agent_id=req.agent_id, error=str(exc))

    # --- helpers -------------------------------------------------------------------------

    async def _dispatch(self, context: StepContext) -> ActionOutput:
        node_type = context.data.node_type
        handler = HANDLERS.get(node_type)
        if handler is None:
            reason = (
                "subflow steps run as child workflows, not as actions"
                if node_type == "subflow"
                else f"{node_type!r} is not an action step type"
            )
            raise step_error(reason, type="InvalidStep", retryable=False)
        return await handler(context)

    async def _stored(self, data: ActionInput) -> ActionOutput | None:
        return await asyncio.to_thread(
            stored_outcome,
            self._engine,
            execution_id=data.execution_id,
            tenant_id=data.tenant_id,
            seq=data.seq,
            node_id=data.node_id,
        )

    async def _apply(self, record: RecordInput, outbox: Sequence[OutboxMessage] = ()) -> None:
        try:
            await self._recorder.apply(record, outbox)
        except LookupError as exc:
            # The API creates the row before starting the workflow: a missing row stays missing.
            raise step_error(str(exc), type=EXECUTION_NOT_FOUND, retryable=False) from None

    async def _record_failure(
        self,
        data: ActionInput,
        attempt: int,
        error: str,
        log: structlog.typing.FilteringBoundLogger,
        announced: bool,
    ) -> None:
        """Note the attempt's error on the step; the workflow marks it failed after the last one."""
        record = self._step(data, attempt, status=StepStatus.running, error=error)
        records = [record] if announced else [*data.records, record]
        try:
            await self._apply(
                _record_input(data, records, status=ExecutionStatus.running, at=_now())
            )
        except (SQLAlchemyError, ApplicationError):
            # The step's own error matters more than its bookkeeping: raise that one.
            log.exception("step.failure_not_recorded")

    @staticmethod
    def _step(data: ActionInput, attempt: int, **fields: Any) -> StepRecord:
        return StepRecord(
            seq=data.seq,
            node_id=data.node_id,
            node_type=data.node_type,
            started_at=data.started_at,
            attempt=attempt,
            **fields,
        )
