"""The walk through a flow's graph, node by node: each step's work, and where it goes next.

Pure steps (`set`, `condition`, `split`, `ab_split`, `loop`, `parallel`) are decided here at
no round-trip cost; actions run as activities (`workflows.action_steps`, local ones when
quick); waits are timers and conditions; voice steps speak on the live call
(`workflows.voice_steps`). The walker owns the flow's data (`State`): its variables, step
results and visits, within a budget (`schemas.limits`). A step that fails leaves by its
failure port (`LeaveBy`) or fails its branch (`StepFailed`); `end`, DNC and a hang-up end
the execution (`Finish`, `CallerHungUp`).
"""

from __future__ import annotations

import asyncio
from typing import Any, assert_never

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas import evaluate, hours, templating
    from schemas.call import OutboundCall
    from schemas.execution import (
        ExecutionInput,
        ExecutionStatus,
        MessageReplySignal,
        ReceivedEvent,
        ResumeState,
        StepRecord,
        StepStatus,
    )
    from schemas.flow import (
        AbSplitNode,
        ActionNodeBase,
        AiCallConfig,
        AiCallNode,
        ConditionNode,
        EndNode,
        GatherNode,
        HangupNode,
        HumanTaskNode,
        LoopNode,
        Node,
        ParallelNode,
        RecordNode,
        SayNode,
        SetNode,
        SplitNode,
        SubflowNode,
        TransferNode,
        WaitForNode,
        WaitNode,
    )
    from schemas.limits import (
        PURE_STEPS_WITHOUT_PAUSE,
        STATE_LIMIT_BYTES,
        TEMPLATE_WORK_WITHOUT_PAUSE,
        describe_size,
        json_size,
    )
    from schemas.steps import NEVER_AWAIT, TAKES_TIME
    from workflows.routing import failure_port
    from workflows.state import (
        Finish,
        LeaveBy,
        PendingTask,
        Scope,
        State,
        StepFailed,
        decide,
        loop_items,
        task_fields,
        wait_target,
    )
from workflows.action_steps import ActionSteps
from workflows.call import Call, held_within
from workflows.timeline import Timeline
from workflows.voice_steps import VoiceSteps

OUTBOUND_CALL = "outbound_call"
"""The timeline's name for the call a run with `call` places before its first step."""


class Walker:
    """Owns the flow's data and walks its graph."""

    def __init__(self, data: ExecutionInput, timeline: Timeline, call: Call) -> None:
        self._in = data
        self._timeline = timeline
        self._call = call
        self.nodes = data.definition.by_id()
        self.state = _restored(data)
        self.tasks: dict[str, PendingTask] = {}
        """Human tasks waiting for an agent, by node id."""
        self.replies: list[MessageReplySignal] = []
        self.current: str | None = None
        self.path: list[str] = []
        """The nodes walked so far, in order: a transferred caller's path through the flow."""
        self._unpaused = 0
        """Steps walked in a row without pausing (see `_count_unpaused`)."""
        self._work_at = 0
        """What templates had done on this thread when that stretch began."""
        self._voice = VoiceSteps(self, call, timeline)
        self.actions = ActionSteps(self, call, timeline)

    @property
    def input(self) -> ExecutionInput:
        return self._in

    @property
    def start(self) -> str:
        return self._in.resume.node_id if self._in.resume else self._in.definition.start

    def on_event(self, name: str, data: dict[str, Any]) -> None:
        self.state.events.append(ReceivedEvent(name=name, data=data, received_at=workflow.now()))

    # --- the data ------------------------------------------------------------------------

    def context(self, scope: Scope) -> dict[str, Any]:
        """What templates and conditions see."""
        data = self._in
        return {
            "contact": data.contact,
            "trigger": data.trigger,
            "vars": self.state.vars,
            "steps": self.state.steps,
            "call": self._call.view(),
            "loop": scope.loop or {},
            "execution": {
                "id": data.execution_id,
                "flow": data.flow_id,
                "flow_name": data.flow_name,
                "version": data.version,
                "test": data.test,
            },
        }

    def recorded_context(self) -> dict[str, Any] | None:
        """`vars` and `steps` as the execution's row keeps them (none when over budget: the
        step that grew them failed, saying so)."""
        if self.state.size() > STATE_LIMIT_BYTES:
            return None
        return {"vars": self.state.vars, "steps": self.state.steps}

    def keep_step(self, node_id: str, result: dict[str, Any]) -> None:
        """`steps.<node_id>`, counted against the execution's data budget."""
        self.state.steps[node_id] = result
        self.state.sizes[f"steps.{node_id}"] = json_size(result)

    def keep_var(self, name: str, value: Any) -> None:
        """`vars.<name>`, counted against the execution's data budget."""
        self.state.vars[name] = value
        self.state.sizes[f"vars.{name}"] = json_size(value)

    def over_budget(self) -> str | None:
        """Why the execution's data has grown too big to carry, if it has."""
        size = self.state.size()
        if size <= STATE_LIMIT_BYTES:
            return None
        return (
            f"this step would grow the execution's data (vars and step results) to "
            f"{describe_size(size)}, over the {describe_size(STATE_LIMIT_BYTES)} an execution "
            "may keep: keep large data out of variables"
        )

    def begin(self, node: Node) -> StepRecord:
        return self._timeline.begin(node.id, node.type)

    def succeed(self, record: StepRecord, *, port: str | None, result: dict[str, Any]) -> None:
        """The step is done, unless what it kept breaks the data budget: then it fails."""
        oversized = self.over_budget()
        if oversized:
            self._timeline.finish(record, StepStatus.failed, result={}, error=oversized)
            raise StepFailed(record.node_id, oversized)
        self._timeline.finish(record, StepStatus.success, port=port, result=result)

    def fail(self, node: Node, record: StepRecord, error: str) -> StepFailed:
        """A step that nothing routes fails its branch (raise what this returns)."""
        self._timeline.finish(record, StepStatus.failed, error=error)
        return StepFailed(node.id, error)

    def leave(
        self, node: Node, record: StepRecord, error: str, *, failing_to: str | None = None
    ) -> LeaveBy | StepFailed:
        """A failed step leaves by its failure port (`failing_to` when it has no failure
        transition), or fails its branch: raise what this returns."""
        self.keep_step(node.id, {"error": error})
        port = failure_port(node) or failing_to
        self._timeline.finish(record, StepStatus.failed, port=port, error=error)
        return LeaveBy(port) if port is not None else StepFailed(node.id, error)

    # --- the walk ------------------------------------------------------------------------

    async def walk(self, node_id: str | None, scope: Scope) -> None:
        """Run nodes from `node_id` until a port with no transition."""
        while node_id is not None:
            if scope.depth == 0:
                await self._continue_as_new_if_due(node_id)
            node = self.nodes[node_id]
            self.current = node_id
            self.state.visits[node_id] = self.state.visits.get(node_id, 0) + 1
            self.path.append(node_id)
            self._timeline.walking()
            self._count_unpaused(node)
            try:
                port = await self._step(node, scope)
            except LeaveBy as leave:
                port = leave.port
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
        """Do one step; the port it leaves by (None: its branch ends)."""
        if node.type in TAKES_TIME:
            self._call.speak_first()
        match node:
            case SayNode() | GatherNode() | TransferNode() | RecordNode() | HangupNode():
                return await self._voice.run(node, scope)
            case SetNode() | ConditionNode() | SplitNode() | AbSplitNode():
                return self._pure(node, scope)
            case EndNode():
                self._timeline.finish(self.begin(node), StepStatus.success)
                raise Finish(ExecutionStatus(node.config.status), node.config.reason)
            case WaitNode():
                return await self._wait(node)
            case WaitForNode():
                return await self._wait_for(node)
            case HumanTaskNode():
                return await self._human_task(node)
            case LoopNode():
                return await self._loop(node, scope)
            case ParallelNode():
                return await self._parallel(node, scope)
            case SubflowNode():
                return await self.actions.subflow(node)
            case ActionNodeBase():
                # Every action step the worker's `perform_action` does: a new one needs no arm.
                return await self.actions.run(node, scope)
            case _:
                assert_never(node)

    async def run_from_start(self) -> None:
        """The walk of a fresh execution (or of one handed over by continue-as-new)."""
        data = self._in
        if data.resume is None and data.respect_business_hours and data.business_hours:
            await self._wait_for_opening()
        if data.resume is None and data.dial is not None:
            await self._dial_out(data.dial)
        await self.walk(self.start, Scope())

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
        port = await self.actions.run(node, Scope())
        if port != "answered":
            raise Finish(ExecutionStatus.completed, f"the call was not answered: {port}")

    async def _wait_for_opening(self) -> None:
        """Outside business hours a triggered execution waits, durably, for the opening."""
        now = workflow.now()
        assert self._in.business_hours is not None
        opening = hours.next_opening(self._in.business_hours, now)
        if opening <= now:
            return
        record = self._timeline.begin("business_hours", "wait", status=StepStatus.waiting)
        record.result = {"until": opening.isoformat(), "reason": "outside business hours"}
        self._timeline.hold(record)
        await self._timeline.flush(status=ExecutionStatus.waiting, keep_open=True)
        await workflow.sleep((opening - now).total_seconds())
        self._timeline.release(record)
        self._timeline.finish(record, StepStatus.success, port="next", result=record.result)

    # --- pure steps ----------------------------------------------------------------------

    def _pure(self, node: SetNode | ConditionNode | SplitNode | AbSplitNode, scope: Scope) -> str:
        record = self.begin(node)
        try:
            port, result = decide(
                node,
                self.context(scope),
                variables=self.state.vars,
                execution_id=self._in.execution_id,
                visit=self.state.visits.get(node.id, 1),
            )
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            raise self.fail(node, record, str(exc)) from None
        for name, value in result.get("assigned", {}).items():
            self.keep_var(name, value)  # `set` wrote them: counted against the budget
        self.keep_step(node.id, result)
        self.succeed(record, port=port, result=result)
        return port

    # --- waiting steps -------------------------------------------------------------------

    async def _hold_and_flush(self, record: StepRecord, result: dict[str, Any]) -> None:
        """The step waits: written `waiting`, with the execution's data, before it does."""
        record.status = StepStatus.waiting
        record.result = result
        self._timeline.hold(record)
        await self._timeline.flush(
            status=ExecutionStatus.waiting, context=self.recorded_context(), keep_open=True
        )

    async def _wait(self, node: WaitNode) -> str:
        record = self.begin(node)
        now = workflow.now()
        try:
            until = wait_target(
                node.config,
                now=now,
                context=self.context(Scope()),
                business_hours=self._in.business_hours,
            )
        except (templating.TemplateRenderError, ValueError) as exc:
            raise self.fail(node, record, str(exc)) from None
        seconds = max((until - now).total_seconds(), 0.0)
        if seconds > 0:
            await self._hold_and_flush(record, {"until": until.isoformat()})
            await workflow.sleep(seconds)
            self._unpaused = 0
            self._timeline.release(record)
        self.succeed(record, port="next", result={"until": until.isoformat()})
        return "next"

    async def _wait_for(self, node: WaitForNode) -> str:
        record = self.begin(node)
        name = node.config.event
        record.status = StepStatus.waiting
        record.result = {"event": name}
        self._timeline.hold(record)
        if self._next_event(name) is None:
            await self._timeline.flush(
                status=ExecutionStatus.waiting, context=self.recorded_context(), keep_open=True
            )
        received_in_time = await held_within(
            lambda: self._next_event(name) is not None, node.config.timeout_s
        )
        self._timeline.release(record)
        if not received_in_time:
            self.keep_step(node.id, {"event": name, "timed_out": True})
            self.succeed(record, port="timeout", result={"timed_out": True})
            return "timeout"
        received = self._next_event(name)
        assert received is not None
        received.consumed = True
        result = {
            "event": name,
            "data": received.data,
            "received_at": received.received_at.isoformat(),
        }
        self.keep_step(node.id, result)
        self.succeed(record, port="received", result=result)
        return "received"

    def _next_event(self, name: str) -> ReceivedEvent | None:
        return next((e for e in self.state.events if e.name == name and not e.consumed), None)

    async def _human_task(self, node: HumanTaskNode) -> str:
        record = self.begin(node)
        try:
            rendered = task_fields(node.config, self.context(Scope()))
        except templating.TemplateRenderError as exc:
            raise self.fail(node, record, str(exc)) from None
        task = PendingTask(node=node, seq=record.seq)
        self.tasks[node.id] = task
        fields = [f.model_dump() for f in node.config.fields]
        await self._hold_and_flush(record, {**rendered, "fields": fields})
        completed = await held_within(lambda: task.data is not None, node.config.timeout_s)
        self.tasks.pop(node.id, None)
        self._timeline.release(record)
        if not completed:
            self.keep_step(node.id, {"timed_out": True})
            self.succeed(record, port="timeout", result={"timed_out": True})
            return "timeout"
        result = {"data": task.data, "completed_by": task.completed_by}
        self.keep_step(node.id, result)
        shown = {**(record.result or {}), **result}  # the timeline keeps the task's title
        self.succeed(record, port="completed", result=shown)
        return "completed"

    # --- structure -----------------------------------------------------------------------

    async def _loop(self, node: LoopNode, scope: Scope) -> str:
        record = self.begin(node)
        config = node.config
        try:
            items = loop_items(config, self.context(scope))
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            raise self.fail(node, record, str(exc)) from None
        body = node.transitions.get("body")
        index = self.state.loop_index.pop(node.id, 0)
        while index < config.max_iterations:
            if items is not None and index >= len(items):
                break
            if items is None and not self._loop_goes_on(node, record, scope):
                break
            if scope.depth == 0:
                await self._continue_as_new_if_due(node.id, loop_index={node.id: index})
            item = items[index] if items is not None else None
            if config.for_each is not None:
                self.keep_var(config.item_as, item)
            loop = {"index": index, "item": item, "node": node.id}
            if body is not None:
                await self.walk(body, scope.inner(loop=loop))
            index += 1
        result: dict[str, Any] = {"iterations": index}
        if index >= config.max_iterations:
            result["stopped_at_max_iterations"] = True
        self.keep_step(node.id, result)
        self.succeed(record, port="done", result=result)
        return "done"

    def _loop_goes_on(self, node: LoopNode, record: StepRecord, scope: Scope) -> bool:
        """A `while` loop's condition; one that cannot be evaluated fails the step."""
        assert node.config.while_ is not None
        try:
            return evaluate.evaluate(node.config.while_, self.context(scope))
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            raise self.fail(node, record, str(exc)) from None

    async def _parallel(self, node: ParallelNode, scope: Scope) -> str:
        record = self.begin(node)
        branches = [
            asyncio.create_task(self.walk(start, scope.inner())) for start in node.config.branches
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
            raise self.leave(node, record, "; ".join(failures))
        result = {"branches": len(branches), "join": node.config.join}
        self.succeed(record, port="next", result=result)
        return "next"

    # --- continue-as-new -----------------------------------------------------------------

    async def _continue_as_new_if_due(
        self, node_id: str, *, loop_index: dict[str, int] | None = None
    ) -> None:
        """Hand over to a new run once the history is long (not during a live call)."""
        if self._call.live:
            return  # a call is short; its session does not travel through continue-as-new
        info = workflow.info()
        if not (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._in.history_limit
        ):
            return
        await self._timeline.flush(context=self.recorded_context())
        await workflow.wait_condition(workflow.all_handlers_finished)
        resume = self._in.resume
        handed_over = ResumeState(
            node_id=node_id,
            vars=self.state.vars,
            steps=self.state.steps,
            seq=self._timeline.seq,
            loop_index=loop_index or {},
            events=[e for e in self.state.events if not e.consumed],
            runs=(resume.runs + 1) if resume else 2,
            visits=self.state.visits,
        )
        workflow.continue_as_new(self._in.model_copy(update={"resume": handed_over}))


def _restored(data: ExecutionInput) -> State:
    """Fresh state from the input, or the state handed over by continue-as-new."""
    resume = data.resume
    if resume is None:
        state = State(vars={**data.definition.variables, **data.variables})
    else:
        state = State(
            vars=resume.vars,
            steps=resume.steps,
            events=resume.events,
            loop_index=dict(resume.loop_index),
            visits=dict(resume.visits),
        )
    state.measure()
    return state
