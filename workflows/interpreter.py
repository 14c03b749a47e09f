"""The flow interpreter: one execution of one pinned flow version is one Temporal workflow.

It walks the graph node by node. Pure steps (`set`, `condition`, `split`, `ab_split`, `loop`,
`parallel`) run inside the workflow and cost no round trip; their timeline records are
buffered and ride along with the next action activity, or are flushed by a local activity at
a wait or at the end. Waits are timers, cancellation is a signal, human tasks are Updates.

A live call is a session (`workflows.voice`): voice steps add TwiML verbs (as data) to the
next answer; a step that needs the caller (`gather`, `record`, `transfer`) closes the answer
and waits for the next turn, which arrives with Twilio's next request as the `call_turn`
Update. Non-voice steps between two voice steps run before the answer goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from schemas import evaluate, hours, templating
    from schemas.call import (
        ACTIVITY_RELEASE_AGENT,
        SIGNAL_CALL_ROUTED,
        UPDATE_CALL_TURN,
        CallInfo,
        CallRoutedSignal,
        CallTurn,
        Fallback,
        Hangup,
        OutboundCall,
        Redirect,
        ReleaseAgent,
        Routed,
        TurnAnswer,
    )
    from schemas.execution import (
        ACTIVITY_PERFORM_ACTION,
        ACTIVITY_PREPARE_SUBFLOW,
        ACTIVITY_RECORD_PROGRESS,
        QUERY_STATE,
        SIGNAL_CALL_STATUS,
        SIGNAL_CANCEL,
        SIGNAL_CONTACT_UPDATED,
        SIGNAL_EVENT,
        SIGNAL_MESSAGE_REPLY,
        UPDATE_COMPLETE_HUMAN_TASK,
        WORKFLOW_NAME,
        ActionInput,
        ActionOutput,
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
        ReceivedEvent,
        RecordInput,
        ResumeState,
        StepRecord,
        StepStatus,
        SubflowStart,
        SubflowStartInput,
    )
    from schemas.flow import (
        AiCallConfig,
        AiCallNode,
        EmailNode,
        EndNode,
        GatherNode,
        HangupNode,
        HttpNode,
        HumanTaskNode,
        LoopNode,
        Node,
        ParallelNode,
        RecordNode,
        SayNode,
        SubflowNode,
        TransferNode,
        WaitForNode,
        WaitNode,
    )
    from schemas.limits import (
        PURE_STEPS_WITHOUT_PAUSE,
        RECORD_RESULT_LIMIT_BYTES,
        STATE_LIMIT_BYTES,
        STEP_INPUT_LIMIT_BYTES,
        TEMPLATE_WORK_WITHOUT_PAUSE,
        describe_size,
        json_size,
    )
    from schemas.steps import ACTION_TYPES, NEVER_AWAIT, TAKES_TIME, VOICE_TYPES
    from workflows.contact_rules import (
        CONTACT_STEPS,
        DNC_REASON,
        answered_port,
        call_port,
        is_dnc,
        reaches_contact,
    )
    from workflows.routing import failure_port, retry_policy_of, timeout_of
    from workflows.state import (
        Finish,
        PendingTask,
        Scope,
        State,
        StepFailed,
        cause,
        decide,
        render_config,
    )
    from workflows.voice import (
        CALL_OVER,
        CallerHungUp,
        CallSession,
        dial_port,
        dial_verb,
        gather_verbs,
        gathered,
        queue_port,
        queue_verbs,
        record_verbs,
        say_verb,
    )

RECORD_TIMEOUT = timedelta(seconds=30)
RELEASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_attempts=6
)
"""A freed agent's next offer is retried for about half a minute, then given up (logged)."""
SESSION_WAIT_S = 30.0
"""How long a voice step after an answered `ai_call` waits for the call's first webhook
(Twilio's status callback and its request for TwiML race each other)."""
RECORDING_AFTER_HANGUP_S = 30.0
"""How long a `record` step whose caller hung up waits for the recording Twilio still posts."""
# Changes to what a call's workflow does, each behind `workflow.patched`: executions started
# before one replay as they ran (tests/histories holds runs from before and after).
PATCH_CALL_TIME_LIMIT = "call-time-limit"
PATCH_RECORDING_AFTER_HANGUP = "recording-after-hangup"
PATCH_CLEAR_INPUT_ON_TIMEOUT = "clear-input-on-timeout"
PATCH_SPEAK_FIRST = "speak-before-slow-steps"
NO_FINAL_STATUS = "no-final-status"
"""The call status of a call whose time limit passed without Twilio's final status."""
OUTBOUND_CALL = "outbound_call"
"""The timeline's name for the call a run with `call` places before its first step."""


@workflow.defn(name=WORKFLOW_NAME)
class FlowExecution:
    def __init__(self) -> None:
        self._input: ExecutionInput | None = None
        self._nodes: dict[str, Node] = {}
        self._state = State()
        self._pending: list[StepRecord] = []
        self._open: dict[int, StepRecord] = {}
        self._tasks: dict[str, PendingTask] = {}
        self._cancel: CancelRequest | None = None
        self._main: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        """Watches the live call's time limit (a task keeps no strong reference to itself)."""
        self._current: str | None = None
        self._status = ExecutionStatus.pending
        self._calls: dict[str, CallStatusSignal] = {}
        self._replies: list[MessageReplySignal] = []
        self._session: CallSession | None = None
        self._placed: set[str] = set()
        self._routed: dict[str, CallRoutedSignal] = {}
        self._done = False
        self._told: dict[str, list[StepRecord]] = {}
        """Records that rode on a call's answers (by CallSid:answer), written again at the end."""
        self._answered: str | None = None
        """The sid of the last call this execution placed that was answered."""
        self._path: list[str] = []
        """The nodes walked so far, in order: a transferred caller's path through the flow."""
        self._unpaused = 0
        """Steps walked in a row without pausing (see `_count_unpaused`)."""
        self._work_at = 0
        """What templates had done on this thread when that stretch began."""

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
        self._state.events.append(
            ReceivedEvent(name=signal.name, data=signal.data, received_at=workflow.now())
        )

    @workflow.signal(name=SIGNAL_CALL_STATUS)
    def call_status(self, signal: CallStatusSignal) -> None:
        known = self._calls.get(signal.call_sid)
        if known is None or call_port(known) is None:
            self._calls[signal.call_sid] = signal  # the first decisive status stands
        session = self._session
        if (
            session is not None
            and session.call.call_sid == signal.call_sid
            and signal.status in CALL_OVER
            and session.hung_up is None
        ):
            session.hung_up = (signal.status, signal.duration_s)

    def _open_session(self, call: CallInfo) -> CallSession:
        """The live call's session, watched until the call's time limit."""
        session = self._session = CallSession(call=call)
        if workflow.patched(PATCH_CALL_TIME_LIMIT):
            self._watch = asyncio.create_task(self._watch_call(session))
        return session

    async def _watch_call(self, session: CallSession) -> None:
        """Twilio ends every call within its time limit (4 h unless told otherwise). A call
        with no final status by then is over, its status callback lost or never configured:
        the execution ends as for a hang-up instead of waiting for the call for ever."""
        await workflow.wait_condition(lambda: self._input is not None)
        try:
            await workflow.wait_condition(
                lambda: session.hung_up is not None or session.ended or self._done,
                timeout=self._in.call_time_limit_s,
            )
        except TimeoutError:
            session.hung_up = (NO_FINAL_STATUS, None)

    @workflow.signal(name=SIGNAL_CALL_ROUTED)
    def call_routed(self, signal: CallRoutedSignal) -> None:
        self._routed[signal.queue_entry_id] = signal

    @workflow.update(name=UPDATE_CALL_TURN)
    async def call_turn(self, turn: CallTurn) -> CallAnswer:
        """One of Twilio's requests for the live call; answered once the walk has the answer.

        A retried request (same turn, same Update id) gets the same answer; the API answers a
        turn that takes too long with a hold message and a redirect back to it.
        """
        session = self._session
        if session is None or session.call.call_sid != turn.call.call_sid:
            session = self._open_session(turn.call)
        session.turns.setdefault(turn.turn, turn)
        await workflow.wait_condition(lambda: len(session.answers) > turn.turn or self._done)
        if len(session.answers) <= turn.turn:
            return CallAnswer(answer=TurnAnswer(turn=turn.turn, verbs=[Hangup()], ended=True))
        records = self._told.get(f"{turn.call.call_sid}:{turn.turn}", [])
        progress = self._record_input(records, status=None) if records else None
        return CallAnswer(answer=session.answers[turn.turn], progress=progress)

    @call_turn.validator
    def _validate_turn(self, turn: CallTurn) -> None:
        session = self._session
        if self._done:
            raise ValueError("the execution is over")
        if session is not None and session.call.call_sid == turn.call.call_sid:
            if turn.turn > len(session.answers):
                raise ValueError(f"turn {turn.turn} of this call was never offered")
            return
        if turn.turn != 0 or turn.event != "answer":
            raise ValueError(f"call {turn.call.call_sid} is not this execution's call")
        live = session is not None and session.hung_up is None and not session.ended
        if live or (self._placed and turn.call.call_sid not in self._placed):
            raise ValueError(f"call {turn.call.call_sid} is not this execution's call")

    @workflow.signal(name=SIGNAL_MESSAGE_REPLY)
    def message_reply(self, signal: MessageReplySignal) -> None:
        self._replies.append(signal)

    @workflow.signal(name=SIGNAL_CONTACT_UPDATED)
    def contact_updated(self, update: ContactUpdate) -> None:
        if self._input is not None:
            self._input.contact.update(update.contact)

    @workflow.update(name=UPDATE_COMPLETE_HUMAN_TASK)
    def complete_human_task(self, completion: HumanTaskCompletion) -> HumanTaskAnswer:
        task = self._tasks[completion.node_id]
        task.data = completion.data
        task.completed_by = completion.completed_by
        return HumanTaskAnswer(accepted=True, node_id=completion.node_id)

    @complete_human_task.validator
    def _validate_completion(self, completion: HumanTaskCompletion) -> None:
        task = self._tasks.get(completion.node_id)
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
        return {
            "status": self._status,
            "current_node": self._current,
            "vars": self._state.vars,
            "waiting_tasks": sorted(k for k, t in self._tasks.items() if t.data is None),
        }

    # --- run -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: ExecutionInput) -> ExecutionResult:
        self._input = data
        self._nodes = data.definition.by_id()
        if data.call is not None and self._session is None:
            self._open_session(data.call)
        start = self._restore(data)
        self._status = ExecutionStatus.running
        status, reason = ExecutionStatus.completed, None
        if self._cancel is None:
            self._main = asyncio.create_task(self._run_from(start, data))
        try:
            if self._main is None:
                raise asyncio.CancelledError
            await self._main
        except Finish as finish:
            status, reason = finish.status, finish.reason
        except StepFailed as failure:
            status, reason = ExecutionStatus.failed, str(failure)
        except CallerHungUp as hangup:
            status, reason = ExecutionStatus.completed, "hangup"
            self._close_open_steps("the caller hung up")
            self._record_hangup(hangup)
        except asyncio.CancelledError:
            request = self._cancel or CancelRequest(reason="cancelled in Temporal")
            status, reason = ExecutionStatus.cancelled, request.reason
            self._close_open_steps(f"cancelled: {request.reason}")
        self._end_call(failed=status == ExecutionStatus.failed)
        await workflow.wait_condition(workflow.all_handlers_finished)
        told = [record for records in self._told.values() for record in records]
        self._pending = told + self._pending
        self._status = status
        on_call = self._session is not None
        await self._flush(status=status, reason=reason, with_context=True, regular=on_call)
        if status == ExecutionStatus.failed:
            raise ApplicationError(reason or "failed", type="FlowFailed", non_retryable=True)
        return ExecutionResult(
            status=status, reason=reason, vars=self._state.vars, steps=self._state.steps
        )

    def _restore(self, data: ExecutionInput) -> str:
        """Fresh state from the input, or the state handed over by continue-as-new."""
        if data.resume is None:
            self._state.vars = {**data.definition.variables, **data.variables}
            self._state.measure()
            return data.definition.start
        resume = data.resume
        self._state = State(
            vars=resume.vars,
            steps=resume.steps,
            seq=resume.seq,
            events=resume.events,
            loop_index=dict(resume.loop_index),
            visits=dict(resume.visits),
        )
        self._state.measure()
        return resume.node_id

    # --- the walk ------------------------------------------------------------------------

    async def _run_from(self, start: str, data: ExecutionInput) -> None:
        if data.resume is None and data.respect_business_hours and data.business_hours:
            await self._wait_for_opening()
        if data.resume is None and data.dial is not None:
            await self._dial_out(data.dial)
        await self._walk(start, Scope())

    async def _dial_out(self, dial: OutboundCall) -> None:
        """Place the execution's call, as an `ai_call` step would; the flow runs once answered."""
        config = {"to": dial.to, "from": dial.from_, "ring_timeout_s": dial.ring_timeout_s}
        node = AiCallNode(
            id=OUTBOUND_CALL,
            type="ai_call",
            config=AiCallConfig.model_validate(
                {**config, "machine_detection": dial.machine_detection}
            ),
        )
        port = await self._action(node, Scope())
        if port != "answered":
            raise Finish(ExecutionStatus.completed, f"the call was not answered: {port}")

    async def _wait_for_opening(self) -> None:
        """Outside business hours a triggered execution waits, durably, for the opening."""
        now = workflow.now()
        assert self._in.business_hours is not None
        opening = hours.next_opening(self._in.business_hours, now)
        if opening <= now:
            return
        self._state.seq += 1
        record = StepRecord(
            seq=self._state.seq,
            node_id="business_hours",
            node_type="wait",
            status=StepStatus.waiting,
            started_at=now,
            result={"until": opening.isoformat(), "reason": "outside business hours"},
        )
        self._open[record.seq] = record
        await self._flush(status=ExecutionStatus.waiting, keep_open=True)
        await workflow.sleep((opening - now).total_seconds())
        self._open.pop(record.seq, None)
        self._finish(record, StepStatus.success, port="next", result=record.result)

    async def _walk(self, node_id: str | None, scope: Scope) -> None:
        """Run nodes from `node_id` until a port with no transition."""
        while node_id is not None:
            if scope.depth == 0:
                await self._maybe_continue_as_new(node_id)
            node = self._nodes[node_id]
            self._current = node_id
            self._state.visits[node_id] = self._state.visits.get(node_id, 0) + 1
            self._path.append(node_id)
            self._count_unpaused(node)
            port = await self._step(node, scope)
            node_id = node.transitions.get(port) if port else None

    def _count_unpaused(self, node: Node) -> None:
        """A stretch of steps that never pauses runs in one workflow task: bounded (in steps,
        and in what their templates do), so a loop with no real wait in it (a wait of 0 s, an
        `until` in the past) fails the execution instead of tripping Temporal's deadlock
        detector for ever."""
        if node.type not in NEVER_AWAIT:
            self._unpaused = 0  # what it awaits ends the task (a `wait` counts when it waits)
            return
        if self._unpaused == 0:
            # A stretch runs on one thread, where the renders' work is counted.
            self._work_at = templating.work_done()
        self._unpaused += 1
        work = templating.work_done() - self._work_at
        if self._unpaused > PURE_STEPS_WITHOUT_PAUSE:
            error = f"{PURE_STEPS_WITHOUT_PAUSE} steps ran in a row without pausing"
        elif work > TEMPLATE_WORK_WITHOUT_PAUSE:
            error = (
                f"{self._unpaused} steps in a row without pausing rendered templates doing "
                f"over {TEMPLATE_WORK_WITHOUT_PAUSE:,} operations"
            )
        else:
            return
        raise StepFailed(node.id, f"{error}: a loop with no real wait in it?")

    async def _step(self, node: Node, scope: Scope) -> str | None:
        if node.type in VOICE_TYPES:
            return await self._voice(node, scope)
        if node.type in TAKES_TIME:
            self._speak_first()
        if isinstance(node, EndNode):
            record = self._begin(node)
            self._finish(record, StepStatus.success)
            raise Finish(ExecutionStatus(node.config.status), node.config.reason)
        if isinstance(node, WaitNode):
            return await self._wait(node)
        if isinstance(node, WaitForNode):
            return await self._wait_for(node)
        if isinstance(node, HumanTaskNode):
            return await self._human_task(node)
        if isinstance(node, LoopNode):
            return await self._loop(node, scope)
        if isinstance(node, ParallelNode):
            return await self._parallel(node, scope)
        if isinstance(node, SubflowNode):
            return await self._subflow(node)
        if node.type in ACTION_TYPES:
            return await self._action(node, scope)
        return self._pure(node, scope)

    # --- voice steps ---------------------------------------------------------------------

    async def _voice(self, node: Node, scope: Scope) -> str | None:
        session = self._session
        if session is None and self._answered is not None:
            # The call was answered; its first request for TwiML is on its way.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._session is not None, timeout=SESSION_WAIT_S
                )
            session = self._session
        if session is None:
            return self._fail_pure(node, "this step needs a live call, and this execution has none")
        if session.hung_up is not None:
            raise CallerHungUp(*session.hung_up)
        record = self._begin(node)
        try:
            config = render_config(node, self._context(scope))
        except templating.TemplateRenderError as exc:
            return self._action_failed(node, record, str(exc))
        if isinstance(node, SayNode):
            session.verbs.append(say_verb(config))
            result = {"text": config.get("text"), "play": config.get("play")}
            self._finish(record, StepStatus.success, port="next", result=result)
            return "next"
        if isinstance(node, HangupNode):
            self._finish(record, StepStatus.success, result={"by": "flow"})
            raise Finish(ExecutionStatus.completed, "the flow hung up")
        self._open[record.seq] = record
        if isinstance(node, GatherNode):
            port, result = await self._gather(node, config, session)
        elif isinstance(node, RecordNode):
            return await self._record(node, record, config, session, scope)
        else:
            assert isinstance(node, TransferNode)
            routed = await self._route(node, record, config, session, scope)
            if isinstance(routed, str | None):
                return routed  # routing failed: the failure port (or the branch failed)
            port, result = await self._transfer(routed, session)
        self._open.pop(record.seq, None)
        self._keep_step(node.id, result)
        self._finish(record, StepStatus.success, port=port, result=result)
        return port

    def _speak_first(self) -> None:
        """Before a step that takes time (an action, a wait, a task, a subflow), the live call
        hears what the flow said so far at once, then comes back (a redirect) for what
        follows: "One moment, I am looking up your order" is heard before the lookup, not
        after it. The step runs meanwhile; the redirect waits for the next answer."""
        session = self._session
        if session is None or not session.verbs or session.ended or session.hung_up:
            return
        if not workflow.patched(PATCH_SPEAK_FIRST):
            return
        session.verbs.append(Redirect(turn=session.next_turn, event="continue"))
        session.answer()

    async def _exchange(self, session: CallSession, *, after_hangup_s: float = 0) -> CallTurn:
        """Send what the call has gathered as the next answer; the caller's next turn.

        `after_hangup_s`: how long the turn may still come once the caller has hung up.
        """
        # The records walked so far ride on the answer (CallAnswer.progress).
        self._told[f"{session.call.call_sid}:{len(session.answers)}"] = self._take_pending()
        turn = session.answer()
        await workflow.wait_condition(lambda: turn in session.turns or session.hung_up is not None)
        if (
            turn not in session.turns
            and after_hangup_s
            and workflow.patched(PATCH_RECORDING_AFTER_HANGUP)
        ):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: turn in session.turns, timeout=after_hangup_s)
        got = session.turns.get(turn)
        if got is None:
            assert session.hung_up is not None
            raise CallerHungUp(*session.hung_up)
        return got

    async def _gather(
        self, node: GatherNode, config: dict[str, Any], session: CallSession
    ) -> tuple[str, dict[str, Any]]:
        # A gather the flow comes back to (a wrong key, say) starts with its retry prompt.
        revisit = self._state.visits.get(node.id, 1) - 1
        tries = 0
        while True:
            verbs = gather_verbs(config, turn=session.next_turn, attempt=tries + revisit)
            session.verbs.extend(verbs)
            turn = await self._exchange(session)
            tries += 1
            digits, speech = gathered(turn)
            if digits is not None or speech is not None:
                break
            if tries > node.config.max_retries:
                if workflow.patched(PATCH_CLEAR_INPUT_ON_TIMEOUT):
                    # `call.digits` is what the caller entered at this gather: nothing.
                    session.digits = session.speech = None
                return "timeout", {"timed_out": True, "attempts": tries}
        session.digits, session.speech = digits, speech
        if node.config.save_as:
            self._keep_var(node.config.save_as, digits if digits is not None else speech)
        result = {
            "digits": digits,
            "speech": speech,
            "confidence": turn.confidence,
            "attempts": tries,
        }
        return "input", result

    async def _record(
        self,
        node: RecordNode,
        record: StepRecord,
        config: dict[str, Any],
        session: CallSession,
        scope: Scope,
    ) -> str | None:
        session.verbs.extend(record_verbs(config, turn=session.next_turn))
        # Hanging up is how a caller ends a voicemail: Twilio still posts the <Record>'s
        # action with the recording, and its status callback may arrive first.
        turn = await self._exchange(session, after_hangup_s=RECORDING_AFTER_HANGUP_S)
        if turn.event != "recorded" or not turn.recording_url:
            self._open.pop(record.seq, None)
            self._keep_step(node.id, {"recorded": False})
            self._finish(record, StepStatus.success, port="no_audio", result={"recorded": False})
            return "no_audio"
        # Storing the recording (under the execution's campaign) is the step's activity.
        stored = {
            "recording_url": turn.recording_url,
            "recording_sid": turn.recording_sid,
            "duration_s": turn.recording_duration_s,
            "call_sid": session.call.call_sid,
        }
        # Twilio keeps the recording whatever happens here: a recording Flowdeck could not
        # store fails the step (its error in the timeline), not the caller's call.
        output = await self._run_action(node, record, stored, failing_to="recorded")
        if isinstance(output, ActionOutput):
            self._keep_step(node.id, output.result)
            return output.port
        self._keep_step(node.id, {**self._state.steps[node.id], **stored, "stored": False})
        return output

    async def _route(
        self,
        node: TransferNode,
        record: StepRecord,
        config: dict[str, Any],
        session: CallSession,
        scope: Scope,
    ) -> Routed | str | None:
        """Where the transfer goes: a number directly, a department or agent by the routing
        activity (which claims the agent, or queues the caller)."""
        if config.get("number"):
            return Routed(
                action="dial", number=str(config["number"]), timeout_s=int(config["timeout_s"])
            )
        context = {"call": session.view(), "path": list(self._path)}
        output = await self._run_action(node, record, config, context=context)
        if not isinstance(output, ActionOutput):
            return output
        self._open[record.seq] = record
        record.status = StepStatus.waiting
        return Routed.model_validate(output.result)

    async def _transfer(self, routed: Routed, session: CallSession) -> tuple[str, dict[str, Any]]:
        result = routed.model_dump(exclude_none=True)
        turn_no = session.next_turn
        if routed.action == "dial":
            session.verbs.append(dial_verb(routed, turn=turn_no))
        else:
            session.verbs.extend(queue_verbs(routed, turn=turn_no))
        outcome = "hangup"
        try:
            turn = await self._exchange(session)
            if routed.action == "dial":
                port = dial_port(turn.dial_status)
                result.update(dial_status=turn.dial_status, duration_s=turn.dial_duration_s)
            else:
                if turn.queue_result == "hangup":
                    raise CallerHungUp("completed", None)
                port = queue_port(turn.queue_result)
                result.update(queue_result=turn.queue_result, queue_time_s=turn.queue_time_s)
            outcome = port
        finally:
            agent = self._agent_of(routed)
            if agent is not None:
                result.update(agent_id=agent[0], agent_name=agent[1])
            if agent is not None or routed.queue_entry_id is not None:
                await self._release(routed, session, agent, outcome)
        return port, result

    def _agent_of(self, routed: Routed) -> tuple[str, str | None] | None:
        if routed.agent_id is not None:
            return routed.agent_id, routed.agent_name
        offered = self._routed.get(routed.queue_entry_id or "")
        return (offered.agent_id, offered.agent_name) if offered else None

    async def _release(
        self,
        routed: Routed,
        session: CallSession,
        agent: tuple[str, str | None] | None,
        outcome: str,
    ) -> None:
        """The agent is free again (and may be offered the next caller in its queue).

        This caller's transfer is over either way: a release that keeps failing is logged,
        and does not fail (or hold) this execution.
        """
        try:
            await workflow.execute_activity(
                ACTIVITY_RELEASE_AGENT,
                ReleaseAgent(
                    tenant_id=self._in.tenant_id,
                    execution_id=self._in.execution_id,
                    call_sid=session.call.call_sid,
                    agent_id=agent[0] if agent else None,
                    queue_entry_id=routed.queue_entry_id,
                    outcome=outcome,
                ),
                start_to_close_timeout=RECORD_TIMEOUT,
                retry_policy=RELEASE_RETRY,
                summary="release agent",
            )
        except ActivityError as exc:
            workflow.logger.warning("the agent could not be released: %s", exc.cause or exc)

    def _record_hangup(self, hangup: CallerHungUp) -> None:
        self._state.seq += 1
        now = workflow.now()
        self._pending.append(
            StepRecord(
                seq=self._state.seq,
                node_id="hangup",
                node_type="hangup",
                status=StepStatus.success,
                started_at=now,
                ended_at=now,
                result={
                    "by": "time_limit" if hangup.status == NO_FINAL_STATUS else "caller",
                    "call_status": hangup.status,
                    "duration_s": hangup.duration_s,
                },
            )
        )

    def _end_call(self, *, failed: bool) -> None:
        """The execution is over: a call still on the line is told to hang up, or, when the
        flow failed and the number has a fallback flow, handed to it."""
        self._done = True
        session = self._session
        if session is None or session.ended or session.hung_up is not None:
            return
        inbound = self._in.call
        answering_inbound = inbound is not None and session.call.call_sid == inbound.call_sid
        if failed and self._in.fallback_on_failure and answering_inbound:
            # What was gathered for the failed flow is moot.
            environment = str(self._in.trigger.get("environment") or "production")
            session.verbs = [Fallback(environment=environment)]
            session.answer()
            session.ended = True
            return
        session.answer(ended=True)

    # --- pure steps ----------------------------------------------------------------------

    def _pure(self, node: Node, scope: Scope) -> str:
        record = self._begin(node)
        context = self._context(scope)
        try:
            port, result = decide(
                node,
                context,
                variables=self._state.vars,
                execution_id=self._in.execution_id,
                visit=self._state.visits.get(node.id, 1),
            )
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            self._finish(record, StepStatus.failed, error=str(exc))
            raise StepFailed(node.id, str(exc)) from None
        for name, value in result.get("assigned", {}).items():
            self._keep_var(name, value)  # `set` wrote them: counted against the budget
        self._keep_step(node.id, result)
        self._finish(record, StepStatus.success, port=port, result=result)
        return port

    def _fail_pure(self, node: Node, error: str) -> str | None:
        return self._action_failed(node, self._begin(node), error)

    # --- action steps --------------------------------------------------------------------

    async def _action(self, node: Node, scope: Scope) -> str | None:
        record = self._begin(node)
        try:
            config = render_config(node, self._context(scope))
        except templating.TemplateRenderError as exc:
            return self._action_failed(node, record, str(exc))
        contact = self._in.contact
        if node.type in CONTACT_STEPS and is_dnc(contact) and reaches_contact(config, contact):
            record.status = StepStatus.skipped
            record.ended_at = workflow.now()
            record.skip_reason = DNC_REASON
            self._pending.append(record)
            raise Finish(ExecutionStatus.skipped, DNC_REASON)
        output = await self._run_action(
            node, record, config, context=self._template_context(node, scope)
        )
        if not isinstance(output, ActionOutput):
            return output  # it failed: the failure port, or None
        if output.waiting:
            self._open[record.seq] = record
            return await self._await_outcome(node, record, output, config)
        self._keep_step(node.id, output.result)
        if isinstance(node, HttpNode) and node.config.save_as:
            self._keep_var(node.config.save_as, output.result.get("body"))
        if oversized := self._over_budget():
            # Its activity recorded it done; what it brought back cannot be carried on.
            self._finish(record, StepStatus.failed, error=oversized)
            raise StepFailed(node.id, oversized)
        if node.type == "tag" and "tags" in output.result:
            self._in.contact["tags"] = output.result["tags"]
        return output.port

    async def _run_action(
        self,
        node: Node,
        record: StepRecord,
        config: dict[str, Any],
        *,
        context: dict[str, Any] | None = None,
        failing_to: str | None = None,
    ) -> ActionOutput | str | None:
        """Perform the step's activity; on failure, the port it leaves by (or None).
        `failing_to`: the port a failure leaves by when the step has no failure transition."""
        self._open[record.seq] = record
        action = ActionInput(
            execution_id=self._in.execution_id,
            tenant_id=self._in.tenant_id,
            flow_id=self._in.flow_id,
            seq=record.seq,
            node_id=node.id,
            node_type=node.type,
            config=config,
            contact=self._in.contact,
            test=self._in.test,
            started_at=record.started_at,
            records=self._take_pending(),
            context=context,
            visit=self._state.visits.get(node.id, 1),
        )
        size = len(action.model_dump_json())
        if size > STEP_INPUT_LIMIT_BYTES:
            self._pending = action.records + self._pending
            self._open.pop(record.seq, None)
            error = (
                f"this step's input is {describe_size(size)}, over the "
                f"{describe_size(STEP_INPUT_LIMIT_BYTES)} a step may take"
            )
            return self._action_failed(node, record, error, failing_to=failing_to)
        try:
            output = await self._perform(node, action)
        except (ActivityError, ApplicationError) as exc:
            # a local activity's failure arrives unwrapped, as the ApplicationError itself
            self._open.pop(record.seq, None)
            return self._action_failed(node, record, cause(exc), failing_to=failing_to)
        self._open.pop(record.seq, None)
        return output

    def _template_context(self, node: Node, scope: Scope) -> dict[str, Any] | None:
        """What a stored template is rendered with, for the steps that name one."""
        if not isinstance(node, EmailNode) or not node.config.template:
            return None
        context = self._context(scope)
        context.pop("contact")  # the activity has it
        return context

    async def _await_outcome(
        self, node: Node, record: StepRecord, output: ActionOutput, config: dict[str, Any]
    ) -> str:
        """A placed call or a sent question: wait for its outcome, which arrives by signal."""
        record.status = StepStatus.waiting
        record.result = output.result
        await self._flush(status=ExecutionStatus.waiting, keep_open=True)
        if node.type == "ai_call":
            self._placed.add(str(output.result.get("call_sid")))
            port, result = await self._call_outcome(output.result, config)
        else:
            port, result = await self._reply_outcome(output.result, config)
        self._open.pop(record.seq, None)
        self._keep_step(node.id, result)
        self._finish(record, StepStatus.success, port=port, result=result)
        return port

    async def _call_outcome(
        self, placed: dict[str, Any], config: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        sid = str(placed.get("call_sid"))
        ring = float(config.get("ring_timeout_s") or 30)

        def answered_here() -> bool:
            """The call came to our voice webhook: it is this execution's live call now."""
            return self._session is not None and self._session.call.call_sid == sid

        def decided() -> bool:
            known = self._calls.get(sid)
            return answered_here() or (known is not None and call_port(known) is not None)

        try:
            # The call's own ring timeout, plus room for Twilio's callback to arrive.
            await workflow.wait_condition(decided, timeout=ring + 120)
        except TimeoutError:
            return "missed", {**placed, "status": "no-callback"}
        signal = self._calls.get(sid)
        port = call_port(signal) if signal is not None else None
        if port == "answered" or answered_here():
            self._answered = sid
        if signal is None or port is None:
            # Answered at our voice webhook, whose request says what machine detection found.
            assert self._session is not None
            answered_by = self._session.call.answered_by
            port = answered_port(answered_by)
            outcome = {"status": "in-progress", "answered_by": answered_by, "outcome": port}
            return port, {**placed, **outcome}
        return port, {
            **placed,
            "status": signal.status,
            "answered_by": signal.answered_by,
            "duration_s": signal.duration_s,
            "outcome": port,
        }

    async def _reply_outcome(
        self, sent: dict[str, Any], config: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        timeout = float(config.get("timeout_s") or 3600)
        try:
            await workflow.wait_condition(lambda: bool(self._replies), timeout=timeout)
        except TimeoutError:
            return "timeout", {**sent, "timed_out": True}
        reply = self._replies.pop(0)
        return "reply", {
            **sent,
            "reply": reply.body,
            "from": reply.from_,
            "reply_sid": reply.message_sid,
        }

    async def _perform(self, node: Node, action: ActionInput) -> ActionOutput:
        """One action step: a local activity when quick (sandbox sends), else a regular one."""
        if node.type in self._in.local_steps:
            local: ActionOutput = await workflow.execute_local_activity(
                ACTIVITY_PERFORM_ACTION,
                action,
                result_type=ActionOutput,
                start_to_close_timeout=timeout_of(node),
                retry_policy=retry_policy_of(node),
                summary=_summary(node),
            )
            return local
        output: ActionOutput = await workflow.execute_activity(
            ACTIVITY_PERFORM_ACTION,
            action,
            result_type=ActionOutput,
            start_to_close_timeout=timeout_of(node),
            retry_policy=retry_policy_of(node),
            summary=_summary(node),
        )
        return output

    def _action_failed(
        self, node: Node, record: StepRecord, error: str, *, failing_to: str | None = None
    ) -> str | None:
        """Record the failure and leave by the failure port, or fail the branch."""
        self._keep_step(node.id, {"error": error})
        port = failure_port(node) or failing_to
        self._finish(record, StepStatus.failed, port=port, error=error)
        if port is None:
            raise StepFailed(node.id, error)
        return port

    async def _subflow(self, node: SubflowNode) -> str | None:
        record = self._begin(node)
        try:
            inputs = templating.render_value(node.config.input, self._context(Scope()))
            start = await workflow.execute_local_activity(
                ACTIVITY_PREPARE_SUBFLOW,
                SubflowStartInput(
                    parent_execution_id=self._in.execution_id,
                    tenant_id=self._in.tenant_id,
                    flow_id=node.config.flow_id,
                    version=node.config.version,
                    node_id=node.id,
                    contact=self._in.contact,
                    variables=inputs,
                    test=self._in.test,
                ),
                result_type=SubflowStart,
                start_to_close_timeout=RECORD_TIMEOUT,
            )
        except (templating.TemplateRenderError, ActivityError, ApplicationError) as exc:
            # a local activity's failure can arrive unwrapped, as the ApplicationError itself
            return self._action_failed(node, record, cause(exc))
        record.status = StepStatus.running
        record.result = {"child_execution_id": start.execution_id}
        self._open[record.seq] = record
        await self._flush(status=ExecutionStatus.running, keep_open=True)
        try:
            result = await workflow.execute_child_workflow(
                WORKFLOW_NAME,
                start.input.model_copy(update={"local_steps": self._in.local_steps}),
                id=start.workflow_id,
                result_type=ExecutionResult,
            )
        except ChildWorkflowError as exc:
            self._open.pop(record.seq, None)
            return self._action_failed(node, record, cause(exc))
        self._open.pop(record.seq, None)
        output = {
            "execution_id": start.execution_id,
            "status": result.status,
            "vars": result.vars,
        }
        self._keep_step(node.id, output)
        if result.status != ExecutionStatus.completed:
            return self._action_failed(node, record, f"child execution {result.status}")
        self._finish(record, StepStatus.success, port="success", result=output)
        return "success"

    # --- waiting steps -------------------------------------------------------------------

    async def _wait(self, node: WaitNode) -> str:
        record = self._begin(node)
        now = workflow.now()
        try:
            until = self._wait_target(node, now)
        except (templating.TemplateRenderError, ValueError) as exc:
            self._finish(record, StepStatus.failed, error=str(exc))
            raise StepFailed(node.id, str(exc)) from None
        seconds = max((until - now).total_seconds(), 0.0)
        if seconds > 0:
            record.status = StepStatus.waiting
            record.result = {"until": until.isoformat()}
            self._open[record.seq] = record
            await self._flush(status=ExecutionStatus.waiting, with_context=True, keep_open=True)
            await workflow.sleep(seconds)
            self._unpaused = 0
            self._open.pop(record.seq, None)
        self._finish(record, StepStatus.success, port="next", result={"until": until.isoformat()})
        return "next"

    def _wait_target(self, node: WaitNode, now: datetime) -> datetime:
        config = node.config
        if config.until_open:
            business = self._in.business_hours
            return hours.next_opening(business, now) if business else now
        if config.until is not None:
            text = templating.render(config.until, self._context(Scope()))
            try:
                target = datetime.fromisoformat(text.strip())
            except ValueError:
                raise ValueError(f"`until` is not an ISO date-time: {text!r}") from None
            if target.tzinfo is None:
                target = target.replace(tzinfo=now.tzinfo)
            return target
        return now + timedelta(seconds=config.duration_s())

    async def _wait_for(self, node: WaitForNode) -> str:
        record = self._begin(node)
        name = node.config.event
        record.status = StepStatus.waiting
        record.result = {"event": name}
        self._open[record.seq] = record
        if self._next_event(name) is None:
            await self._flush(status=ExecutionStatus.waiting, with_context=True, keep_open=True)
        timeout = node.config.timeout_s
        try:
            await workflow.wait_condition(
                lambda: self._next_event(name) is not None, timeout=timeout
            )
        except TimeoutError:
            self._open.pop(record.seq, None)
            self._keep_step(node.id, {"event": name, "timed_out": True})
            self._finish(record, StepStatus.success, port="timeout", result={"timed_out": True})
            return "timeout"
        received = self._next_event(name)
        assert received is not None
        received.consumed = True
        self._open.pop(record.seq, None)
        result = {
            "event": name,
            "data": received.data,
            "received_at": received.received_at.isoformat(),
        }
        self._keep_step(node.id, result)
        self._finish(record, StepStatus.success, port="received", result=result)
        return "received"

    def _next_event(self, name: str) -> ReceivedEvent | None:
        return next((e for e in self._state.events if e.name == name and not e.consumed), None)

    async def _human_task(self, node: HumanTaskNode) -> str:
        record = self._begin(node)
        try:
            rendered = templating.render_value(
                {
                    "assignee": node.config.assignee,
                    "title": node.config.title,
                    "description": node.config.description,
                },
                self._context(Scope()),
            )
        except templating.TemplateRenderError as exc:
            self._finish(record, StepStatus.failed, error=str(exc))
            raise StepFailed(node.id, str(exc)) from None
        task = PendingTask(node=node, seq=record.seq)
        self._tasks[node.id] = task
        record.status = StepStatus.waiting
        record.result = {
            **rendered,
            "fields": [f.model_dump() for f in node.config.fields],
        }
        self._open[record.seq] = record
        await self._flush(status=ExecutionStatus.waiting, with_context=True, keep_open=True)
        try:
            await workflow.wait_condition(
                lambda: task.data is not None, timeout=node.config.timeout_s
            )
        except TimeoutError:
            self._tasks.pop(node.id, None)
            self._open.pop(record.seq, None)
            self._keep_step(node.id, {"timed_out": True})
            self._finish(record, StepStatus.success, port="timeout", result={"timed_out": True})
            return "timeout"
        self._tasks.pop(node.id, None)
        self._open.pop(record.seq, None)
        result = {"data": task.data, "completed_by": task.completed_by}
        self._keep_step(node.id, result)
        shown = {**(record.result or {}), **result}  # the timeline keeps the task's title
        self._finish(record, StepStatus.success, port="completed", result=shown)
        return "completed"

    # --- structure -----------------------------------------------------------------------

    async def _loop(self, node: LoopNode, scope: Scope) -> str:
        record = self._begin(node)
        config = node.config
        context = self._context(scope)
        try:
            items = self._loop_items(node, context)
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            self._finish(record, StepStatus.failed, error=str(exc))
            raise StepFailed(node.id, str(exc)) from None
        body = node.transitions.get("body")
        index = self._state.loop_index.pop(node.id, 0)
        while index < config.max_iterations:
            if items is not None and index >= len(items):
                break
            if items is None and not self._loop_goes_on(node, record, scope):
                break
            if scope.depth == 0:
                await self._maybe_continue_as_new(node.id, loop_index={node.id: index})
            item = items[index] if items is not None else None
            if config.for_each is not None:
                self._keep_var(config.item_as, item)
            loop = {"index": index, "item": item, "node": node.id}
            if body is not None:
                await self._walk(body, scope.inner(loop=loop))
            index += 1
        result = {"iterations": index}
        if index >= config.max_iterations:
            result["stopped_at_max_iterations"] = True
        self._keep_step(node.id, result)
        self._finish(record, StepStatus.success, port="done", result=result)
        return "done"

    def _loop_goes_on(self, node: LoopNode, record: StepRecord, scope: Scope) -> bool:
        """A `while` loop's condition; one that cannot be evaluated fails the step."""
        assert node.config.while_ is not None
        try:
            return evaluate.evaluate(node.config.while_, self._context(scope))
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            self._finish(record, StepStatus.failed, error=str(exc))
            raise StepFailed(node.id, str(exc)) from None

    def _loop_items(self, node: LoopNode, context: dict[str, Any]) -> list[Any] | None:
        """The list to iterate (a range for `count`), or None for a `while` loop."""
        config = node.config
        if config.for_each is not None:
            items = templating.render_value(config.for_each, context)
            if not isinstance(items, list):
                raise ValueError(f"for_each must give a list, not {type(items).__name__}")
            return items
        if config.count is not None:
            count = int(templating.render_value(config.count, context))
            return list(range(min(count, config.max_iterations)))  # a count of 10**12 too
        return None

    async def _parallel(self, node: ParallelNode, scope: Scope) -> str | None:
        record = self._begin(node)
        branches = [
            asyncio.create_task(self._walk(start, scope.inner())) for start in node.config.branches
        ]
        failures: list[str] = []
        pending: list[asyncio.Task[None]] = list(branches)
        won = False
        try:
            while pending:
                done, pending = await workflow.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=branches.index):
                    error = task.exception()
                    if isinstance(error, StepFailed):
                        failures.append(str(error))
                    elif error is not None:
                        raise error
                    elif node.config.join == "any":
                        won = True
                if failures and node.config.join == "all":
                    break
                if won:
                    break
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await workflow.wait(pending)
        if failures and not won:
            return self._action_failed(node, record, "; ".join(failures))
        result = {"branches": len(branches), "join": node.config.join}
        self._finish(record, StepStatus.success, port="next", result=result)
        return "next"

    # --- continue-as-new -----------------------------------------------------------------

    async def _maybe_continue_as_new(
        self, node_id: str, *, loop_index: dict[str, int] | None = None
    ) -> None:
        session = self._session
        if session is not None and session.hung_up is None and not session.ended:
            return  # a call is short; its session does not travel through continue-as-new
        info = workflow.info()
        if not (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._in.history_limit
        ):
            return
        await self._flush(with_context=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        resume = ResumeState(
            node_id=node_id,
            vars=self._state.vars,
            steps=self._state.steps,
            seq=self._state.seq,
            loop_index=loop_index or {},
            events=[e for e in self._state.events if not e.consumed],
            runs=(self._in.resume.runs + 1) if self._in.resume else 2,
            visits=self._state.visits,
        )
        workflow.continue_as_new(self._in.model_copy(update={"resume": resume}))

    # --- timeline ------------------------------------------------------------------------

    @property
    def _in(self) -> ExecutionInput:
        assert self._input is not None
        return self._input

    def _context(self, scope: Scope) -> dict[str, Any]:
        data = self._in
        return {
            "contact": data.contact,
            "trigger": data.trigger,
            "vars": self._state.vars,
            "steps": self._state.steps,
            "call": self._session.view() if self._session is not None else {},
            "loop": scope.loop or {},
            "execution": {
                "id": data.execution_id,
                "flow": data.flow_id,
                "flow_name": data.flow_name,
                "version": data.version,
                "test": data.test,
            },
        }

    def _over_budget(self) -> str | None:
        """Why the execution's data has grown too big to carry, if it has."""
        size = self._state.size()
        if size <= STATE_LIMIT_BYTES:
            return None
        return (
            f"this step would grow the execution's data (vars and step results) to "
            f"{describe_size(size)}, over the {describe_size(STATE_LIMIT_BYTES)} an execution "
            "may keep: keep large data out of variables"
        )

    def _keep_step(self, node_id: str, result: dict[str, Any]) -> None:
        """`steps.<node_id>`, counted against the execution's data budget."""
        self._state.steps[node_id] = result
        self._state.sizes[f"steps.{node_id}"] = json_size(result)

    def _keep_var(self, name: str, value: Any) -> None:
        """`vars.<name>`, counted against the execution's data budget."""
        self._state.vars[name] = value
        self._state.sizes[f"vars.{name}"] = json_size(value)

    def _begin(self, node: Node) -> StepRecord:
        self._state.seq += 1
        return StepRecord(
            seq=self._state.seq,
            node_id=node.id,
            node_type=node.type,
            status=StepStatus.running,
            started_at=workflow.now(),
        )

    def _finish(
        self,
        record: StepRecord,
        status: StepStatus,
        *,
        port: str | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        oversized = self._over_budget() if status == StepStatus.success else None
        if oversized:
            # Kept, the data would break a payload (a flush, the result): the step fails.
            status, port, result, error = StepStatus.failed, None, {}, oversized
        record.status = status
        record.ended_at = workflow.now()
        record.port = port
        if result is not None:
            record.result = result
        record.error = error
        self._pending.append(record.model_copy())
        if oversized:
            assert error is not None
            raise StepFailed(record.node_id, error)

    def _close_open_steps(self, reason: str) -> None:
        for record in self._open.values():
            record.status = StepStatus.skipped
            record.ended_at = workflow.now()
            record.skip_reason = reason
            self._pending.append(record.model_copy())
        self._open.clear()

    def _take_pending(self) -> list[StepRecord]:
        pending, self._pending = self._pending, []
        return [_for_timeline(record) for record in pending]

    async def _flush(
        self,
        *,
        status: ExecutionStatus | None = None,
        reason: str | None = None,
        with_context: bool = False,
        keep_open: bool = False,
        regular: bool = False,
    ) -> None:
        """Write buffered records (and open ones, when `keep_open`) with a local activity, or
        with a regular one (`regular`) when a caller waits for this workflow task's answer:
        a local activity holds the task, and so the answer, until the write is done."""
        records = self._take_pending()
        if keep_open:
            records.extend(_for_timeline(r.model_copy()) for r in self._open.values())
        if status is not None and status not in (ExecutionStatus.running, ExecutionStatus.waiting):
            self._status = status
        context = {"vars": self._state.vars, "steps": self._state.steps} if with_context else None
        if context is not None and self._state.size() > STATE_LIMIT_BYTES:
            context = None  # the step that grew it failed, saying so; the rest is kept
        progress = self._record_input(records, status=status, reason=reason, context=context)
        if regular:
            await workflow.execute_activity(
                ACTIVITY_RECORD_PROGRESS,
                progress,
                start_to_close_timeout=RECORD_TIMEOUT,
                summary="record progress",
            )
            return
        await workflow.execute_local_activity(
            ACTIVITY_RECORD_PROGRESS, progress, start_to_close_timeout=RECORD_TIMEOUT
        )

    def _record_input(
        self,
        records: list[StepRecord],
        *,
        status: ExecutionStatus | None,
        reason: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> RecordInput:
        return RecordInput(
            execution_id=self._in.execution_id,
            tenant_id=self._in.tenant_id,
            flow_id=self._in.flow_id,
            records=records,
            status=status,
            reason=reason,
            context=context,
            at=workflow.now(),
        )


def _for_timeline(record: StepRecord) -> StepRecord:
    """The record as the timeline keeps it: a result too large to show is left out (the step
    still has it, in `steps.<id>`), so a big variable never bloats what the workflow sends."""
    if record.result is None:
        return record
    size = json_size(record.result)
    if size <= RECORD_RESULT_LIMIT_BYTES:
        return record
    note = {"omitted": f"a {describe_size(size)} result, too large for the timeline"}
    return record.model_copy(update={"result": note})


def _summary(node: Node) -> str:
    """What the Temporal Web UI shows for the step's activity: its type and id."""
    return f"{node.type} {node.id}"
