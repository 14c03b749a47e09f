"""The flow interpreter: one execution of one pinned flow version is one Temporal workflow.

The workflow class is the execution's front door: its handlers (cancel, events, call
statuses and turns, replies, contact updates, human tasks, the state query) and its run,
which walks the flow and writes how it ended. The work is done by three owners, each of its
own state:

- `Walker` (`workflows.walker`): the walk through the graph and the flow's data;
- `Timeline` (`workflows.timeline`): the step records and their writing;
- `Call` (`workflows.call`): the live call and the calls placed.

Pure steps run inside the workflow at no round-trip cost; their records ride with the next
action activity, or are flushed by a local activity at a wait or at the end. Waits are
timers, cancellation is a signal, human tasks and a live call's turns are Updates.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.call import SIGNAL_CALL_ROUTED, UPDATE_CALL_TURN, CallRoutedSignal, CallTurn
    from schemas.execution import (
        QUERY_STATE,
        SIGNAL_CALL_STATUS,
        SIGNAL_CANCEL,
        SIGNAL_CONTACT_UPDATED,
        SIGNAL_EVENT,
        SIGNAL_MESSAGE_REPLY,
        UPDATE_COMPLETE_HUMAN_TASK,
        WORKFLOW_NAME,
        CallAnswer,
        CallStatusSignal,
        CancelRequest,
        ContactUpdate,
        EventSignal,
        ExecutionInput,
        ExecutionResult,
        ExecutionStatus,
        HumanTaskAnswer,
        HumanTaskCompletion,
        MessageReplySignal,
    )
    from workflows.state import Finish, StepFailed
    from workflows.voice import CallerHungUp
from workflows.call import Call
from workflows.timeline import Timeline
from workflows.walker import Walker


@workflow.defn(name=WORKFLOW_NAME)
class FlowExecution:
    @workflow.init
    def __init__(self, data: ExecutionInput) -> None:
        self._in = data
        self._timeline = Timeline(data)
        self._call = Call(data, self._timeline)
        self._walker = Walker(data, self._timeline, self._call)
        self._cancel: CancelRequest | None = None
        self._main: asyncio.Task[None] | None = None

    # --- handlers ------------------------------------------------------------------------

    @workflow.signal(name=SIGNAL_CANCEL)
    def cancel(self, request: CancelRequest) -> None:
        if self._cancel is not None:
            return
        self._cancel = request
        if self._main is not None and not self._main.done():
            self._main.cancel()

    @workflow.signal(name=SIGNAL_EVENT)
    def event(self, signal: EventSignal) -> None:
        self._walker.on_event(signal.name, signal.data)

    @workflow.signal(name=SIGNAL_CALL_STATUS)
    def call_status(self, signal: CallStatusSignal) -> None:
        self._call.on_status(signal)

    @workflow.signal(name=SIGNAL_CALL_ROUTED)
    def call_routed(self, signal: CallRoutedSignal) -> None:
        self._call.on_routed(signal)

    @workflow.update(name=UPDATE_CALL_TURN)
    async def call_turn(self, turn: CallTurn) -> CallAnswer:
        """One of Twilio's requests for the live call; answered once the walk has the answer.

        A retried request (same turn, same Update id) gets the same answer; the API answers a
        turn that takes too long with a hold message and a redirect back to it.
        """
        return await self._call.on_turn(turn)

    @call_turn.validator
    def _validate_turn(self, turn: CallTurn) -> None:
        self._call.validate_turn(turn)

    @workflow.signal(name=SIGNAL_MESSAGE_REPLY)
    def message_reply(self, signal: MessageReplySignal) -> None:
        self._walker.replies.append(signal)

    @workflow.signal(name=SIGNAL_CONTACT_UPDATED)
    def contact_updated(self, update: ContactUpdate) -> None:
        self._in.contact.update(update.contact)

    @workflow.update(name=UPDATE_COMPLETE_HUMAN_TASK)
    def complete_human_task(self, completion: HumanTaskCompletion) -> HumanTaskAnswer:
        task = self._walker.tasks[completion.node_id]
        task.data = completion.data
        task.completed_by = completion.completed_by
        return HumanTaskAnswer(accepted=True, node_id=completion.node_id)

    @complete_human_task.validator
    def _validate_completion(self, completion: HumanTaskCompletion) -> None:
        task = self._walker.tasks.get(completion.node_id)
        if task is None or task.data is not None:
            raise ValueError(f"step {completion.node_id!r} is not waiting for completion")
        for form_field in task.node.config.fields:
            value = completion.data.get(form_field.name)
            if form_field.required and value in (None, ""):
                raise ValueError(f"field {form_field.name!r} is required")
            choices = form_field.options if form_field.type == "choice" else []
            if choices and value is not None and value not in choices:
                raise ValueError(f"field {form_field.name!r} must be one of {choices}")

    @workflow.query(name=QUERY_STATE)
    def state(self) -> dict[str, Any]:
        tasks = self._walker.tasks
        return {
            "status": self._timeline.status,
            "current_node": self._walker.current,
            "vars": self._walker.state.vars,
            "waiting_tasks": sorted(k for k, t in tasks.items() if t.data is None),
        }

    # --- run -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: ExecutionInput) -> ExecutionResult:
        self._call.running = True
        if data.call is not None and self._call.session is None:
            self._call.open(data.call)
        self._timeline.status = ExecutionStatus.running
        status, reason = await self._walk()
        self._call.end(failed=status == ExecutionStatus.failed)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._timeline.write_told_again()
        on_call = self._call.session is not None
        if not self._timeline.close(status):
            await self._timeline.flush(
                status=status,
                reason=reason,
                context=self._walker.recorded_context(),
                regular=on_call,
            )
        if status == ExecutionStatus.failed:
            raise ApplicationError(reason or "failed", type="FlowFailed", non_retryable=True)
        state = self._walker.state
        return ExecutionResult(status=status, reason=reason, vars=state.vars, steps=state.steps)

    async def _walk(self) -> tuple[ExecutionStatus, str | None]:
        """Walk the flow (unless cancelled first); how the execution ended, and why."""
        if self._cancel is None:
            self._main = asyncio.create_task(self._walker.run_from_start())
        try:
            if self._main is None:
                raise asyncio.CancelledError
            await self._main
        except Finish as finish:
            return finish.status, finish.reason
        except StepFailed as failure:
            return ExecutionStatus.failed, str(failure)
        except CallerHungUp as hangup:
            self._timeline.close_open("the caller hung up")
            self._call.record_hangup(hangup)
            return ExecutionStatus.completed, "hangup"
        except asyncio.CancelledError:
            request = self._cancel or CancelRequest(reason="cancelled in Temporal")
            self._timeline.close_open(f"cancelled: {request.reason}")
            return ExecutionStatus.cancelled, request.reason
        return ExecutionStatus.completed, None
