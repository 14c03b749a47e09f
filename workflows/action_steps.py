"""The action steps: each one's activity (a local one when quick), the outcome of a call
placed or a question sent, and a subflow as a child execution.

An action's activity records the step itself (`activities.flow_activities`), carrying the
records of the pure steps before it; a failure leaves by the step's failure port (`LeaveBy`)
or fails its branch, as `Walker.leave` decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from schemas import search_attributes, templating
    from schemas.execution import (
        ACTIVITY_PERFORM_ACTION,
        ACTIVITY_PREPARE_SUBFLOW,
        WORKFLOW_NAME,
        ActionInput,
        ActionOutput,
        ExecutionResult,
        ExecutionStatus,
        StepEnding,
        StepRecord,
        StepStatus,
        SubflowStart,
        SubflowStartInput,
    )
    from schemas.flow import AiCallNode, EmailNode, EndNode, Node, SubflowNode, TagNode
    from schemas.limits import STATE_LIMIT_BYTES, STEP_INPUT_LIMIT_BYTES, describe_size
    from workflows.contact_rules import DNC_REASON
    from workflows.routing import retry_policy_of, timeout_of
    from workflows.state import (
        Finish,
        Scope,
        cause,
        dnc_stops,
        render_config,
        save_target,
        saved_var,
    )
from workflows.call import Call, held_within
from workflows.timeline import RECORD_TIMEOUT, Timeline

if TYPE_CHECKING:
    from workflows.walker import Walker

DEFAULT_REPLY_TIMEOUT_S = 3600.0
ENDING_CONTEXT_LIMIT_BYTES = 64 * 1024
"""Most `vars` and `steps` (as JSON) a step carries to write the execution's end with it:
beyond, the workflow writes the end itself, and the step's input stays small."""
FIRST_TASK_HISTORY_LENGTH = 3
"""An execution's first workflow task, on its first attempt: started, task scheduled, task
started."""


class ActionSteps:
    """The action steps, on the walker's data and the execution's call and timeline."""

    def __init__(self, walker: Walker, call: Call, timeline: Timeline) -> None:
        self._walker = walker
        self._call = call
        self._timeline = timeline
        self._in = walker.input
        self._first_live_length: int | None = None

    async def run(self, node: Node, scope: Scope) -> str:
        """An action step: its config rendered, DNC respected, its activity done (or, for a
        call placed or a question sent, its outcome awaited)."""
        record = self._walker.begin(node)
        try:
            config = render_config(node, self._walker.context(scope))
        except templating.TemplateRenderError as exc:
            raise self._walker.leave(node, record, str(exc)) from None
        if dnc_stops(node, config, self._in.contact):
            self._timeline.skip(record, DNC_REASON)
            raise Finish(ExecutionStatus.skipped, DNC_REASON)
        output = await self.run_action(
            node,
            record,
            config,
            context=self._template_context(node, scope),
            ending=self._ending(node, scope),
        )
        if output.ended:
            self._timeline.end_stored(record.seq + 1)
        if output.waiting:
            self._timeline.hold(record)
            return await self._await_outcome(node, record, output, config)
        self._walker.keep_step(node.id, output.result)
        if saved := saved_var(node, output.result):
            self._walker.keep_var(*saved)
        if oversized := self._walker.over_budget():
            # Its activity recorded it done; what it brought back cannot be carried on.
            raise self._walker.fail(node, record, oversized)
        if isinstance(node, TagNode) and "tags" in output.result:
            self._in.contact["tags"] = output.result["tags"]
        return output.port

    async def run_action(
        self,
        node: Node,
        record: StepRecord,
        config: dict[str, Any],
        *,
        context: dict[str, Any] | None = None,
        failing_to: str | None = None,
        ending: StepEnding | None = None,
    ) -> ActionOutput:
        """Perform the step's activity (which records the step); a failure raises where the
        step leaves by (`leave`). `failing_to`: the port a failure leaves by when the step
        has no failure transition."""
        self._timeline.hold(record)
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
            records=self._timeline.take_pending(),
            context=context,
            visit=self._walker.state.visits.get(node.id, 1),
            recheck=self._may_run_again(),
            ending=ending,
        )
        size = len(action.model_dump_json())
        if size > STEP_INPUT_LIMIT_BYTES:
            self._timeline.put_back(action.records)
            self._timeline.release(record)
            error = (
                f"this step's input is {describe_size(size)}, over the "
                f"{describe_size(STEP_INPUT_LIMIT_BYTES)} a step may take"
            )
            raise self._walker.leave(node, record, error, failing_to=failing_to)
        try:
            output = await self._perform(node, action)
        except (ActivityError, ApplicationError) as exc:
            # a local activity's failure arrives unwrapped, as the ApplicationError itself
            self._timeline.release(record)
            raise self._walker.leave(node, record, cause(exc), failing_to=failing_to) from None
        self._timeline.release(record)
        if not output.recorded:
            # Only in histories recorded while quick local steps gave their records back.
            self._timeline.put_back(action.records)
            self._timeline.performed(record, output)
        return output

    def _ending(self, node: Node, scope: Scope) -> StepEnding | None:
        """The execution's end for the step's activity to write with the step, when a port
        of the step leads straight to a completed `end` (`StepEnding`). Not within a loop
        or a branch, nor on a call (whose records ride on its answers), nor with a step
        held open, nor when the execution's data is too big to carry along once more."""
        if scope.depth or self._call.session is not None or self._timeline.holding():
            return None
        ends = {
            port: end
            for port, target in node.transitions.items()
            if isinstance(end := self._walker.nodes.get(target), EndNode)
            and end.config.status == "completed"
        }
        state = self._walker.state
        if not ends or state.size() > ENDING_CONTEXT_LIMIT_BYTES:
            return None
        save = save_target(node)
        replaced = state.sizes.get(f"steps.{node.id}", 0)
        if save is not None:
            replaced += state.sizes.get(f"vars.{save[0]}", 0)
        return StepEnding(
            ports={port: end.id for port, end in ends.items()},
            reasons={end.id: end.config.reason for end in ends.values() if end.config.reason},
            context={"vars": state.vars, "steps": state.steps},
            room=STATE_LIMIT_BYTES - state.size() + replaced,
            save_as=save[0] if save else None,
            saves=save[1] if save else None,
        )

    def _may_run_again(self) -> bool:
        """Whether this workflow task may be running again steps that a lost task ran: a
        local activity's outcome reaches Temporal only with its task, so after a task failed
        or timed out, or its worker stopped, the workflow is rebuilt from history and runs
        the task's local activities again. That is the first task this workflow object runs
        live, unless it is the execution's very first (then no task came before it). Later
        tasks of the same object follow tasks it completed itself."""
        if workflow.unsafe.is_replaying():
            return False  # the activity is not run: its outcome is in the history
        length = workflow.info().get_current_history_length()
        if self._first_live_length is None:
            self._first_live_length = length
        return length == self._first_live_length and length > FIRST_TASK_HISTORY_LENGTH

    def _template_context(self, node: Node, scope: Scope) -> dict[str, Any] | None:
        """What a stored template is rendered with, for the steps that name one."""
        if not isinstance(node, EmailNode) or not node.config.template:
            return None
        context = self._walker.context(scope)
        context.pop("contact")  # the activity has it
        return context

    async def _await_outcome(
        self, node: Node, record: StepRecord, output: ActionOutput, config: dict[str, Any]
    ) -> str:
        """A placed call or a sent question: wait for its outcome, which arrives by signal."""
        record.status = StepStatus.waiting
        record.result = output.result
        await self._timeline.flush(status=ExecutionStatus.waiting, keep_open=True)
        if isinstance(node, AiCallNode):
            ring = float(config.get("ring_timeout_s") or 30)
            port, result = await self._call.outcome(output.result, ring)
        else:
            port, result = await self._reply_outcome(output.result, config)
        self._timeline.release(record)
        self._walker.keep_step(node.id, result)
        self._walker.succeed(record, port=port, result=result)
        return port

    async def _reply_outcome(
        self, sent: dict[str, Any], config: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        timeout = float(config.get("timeout_s") or DEFAULT_REPLY_TIMEOUT_S)
        if not await held_within(lambda: bool(self._walker.replies), timeout):
            return "timeout", {**sent, "timed_out": True}
        reply = self._walker.replies.pop(0)
        return "reply", {
            **sent,
            "reply": reply.body,
            "from": reply.from_,
            "reply_sid": reply.message_sid,
        }

    async def _perform(self, node: Node, action: ActionInput) -> ActionOutput:
        """One action step: a local activity when quick (sandbox sends, tags, and steps whose
        attempt timeout is short), else a regular one."""
        if self._runs_local(node):
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

    def _runs_local(self, node: Node) -> bool:
        if node.type in self._in.local_steps:
            return True
        if self._call.session is not None:
            # On a live call a local activity would hold the workflow task, and with it the
            # caller's answer (what the flow said before this step), until the step is done.
            return False
        short = timeout_of(node).total_seconds() <= self._in.local_max_s
        return node.type in self._in.short_local_steps and short

    async def subflow(self, node: SubflowNode) -> str:
        """Run another flow as a child execution; its final variables come back."""
        record = self._walker.begin(node)
        try:
            inputs = templating.render_value(node.config.input, self._walker.context(Scope()))
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
            raise self._walker.leave(node, record, cause(exc)) from None
        record.status = StepStatus.running
        record.result = {"child_execution_id": start.execution_id}
        self._timeline.hold(record)
        await self._timeline.flush(status=ExecutionStatus.running, keep_open=True)
        try:
            child = start.input.model_copy(update={"local_steps": self._in.local_steps})
            result = await workflow.execute_child_workflow(
                WORKFLOW_NAME,
                child,
                id=start.workflow_id,
                result_type=ExecutionResult,
                memo=search_attributes.memo(child),
                search_attributes=(
                    search_attributes.indexed(child) if self._timeline.indexed else None
                ),
            )
        except ChildWorkflowError as exc:
            self._timeline.release(record)
            raise self._walker.leave(node, record, cause(exc)) from None
        self._timeline.release(record)
        output = {
            "execution_id": start.execution_id,
            "status": result.status,
            "vars": result.vars,
        }
        self._walker.keep_step(node.id, output)
        if result.status != ExecutionStatus.completed:
            raise self._walker.leave(node, record, f"child execution {result.status}")
        self._walker.succeed(record, port="success", result=output)
        return "success"


def _summary(node: Node) -> str:
    """What the Temporal Web UI shows for the step's activity: its type and id."""
    return f"{node.type} {node.id}"
