"""The voice steps (`say`, `gather`, `record`, `transfer`, `hangup`) on the live call.

`say` adds to the next answer; `gather`, `record` and `transfer` close it and wait for the
caller's next turn (`Call.exchange`); `hangup` ends the execution. The verbs themselves are
plain data built in `workflows.voice`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas import templating
    from schemas.call import Routed, dial_port, queue_port
    from schemas.execution import ExecutionStatus, StepRecord, StepStatus
    from schemas.flow import GatherNode, HangupNode, RecordNode, SayNode, TransferNode
    from workflows.state import Finish, LeaveBy, Scope, render_config
    from workflows.voice import (
        CallerHungUp,
        CallSession,
        dial_verb,
        gather_verbs,
        gathered,
        queue_verbs,
        record_verbs,
        say_verb,
    )
from workflows.call import Call
from workflows.timeline import Timeline

if TYPE_CHECKING:
    from workflows.walker import Walker

VoiceNode = SayNode | GatherNode | TransferNode | RecordNode | HangupNode
RECORDING_AFTER_HANGUP_S = 30.0
"""How long a `record` step whose caller hung up waits for the recording Twilio still posts."""
PATCH_CLEAR_INPUT_ON_TIMEOUT = "clear-input-on-timeout"
NO_CALL = "this step needs a live call, and this execution has none"


class VoiceSteps:
    """The voice steps, on the walker's data and the execution's call."""

    def __init__(self, walker: Walker, call: Call, timeline: Timeline) -> None:
        self._walker = walker
        self._call = call
        self._timeline = timeline

    async def run(self, node: VoiceNode, scope: Scope) -> str:
        walker = self._walker
        session = await self._call.session_for_voice()
        if session is None:
            raise walker.leave(node, walker.begin(node), NO_CALL)
        record = walker.begin(node)
        try:
            config = render_config(node, walker.context(scope))
        except templating.TemplateRenderError as exc:
            raise walker.leave(node, record, str(exc)) from None
        if isinstance(node, SayNode):
            session.verbs.append(say_verb(config))
            result = {"text": config.get("text"), "play": config.get("play")}
            walker.succeed(record, port="next", result=result)
            return "next"
        if isinstance(node, HangupNode):
            self._timeline.finish(record, StepStatus.success, result={"by": "flow"})
            raise Finish(ExecutionStatus.completed, "the flow hung up")
        self._timeline.hold(record)
        if isinstance(node, RecordNode):
            return await self._record(node, record, config, session)
        if isinstance(node, GatherNode):
            port, result = await self._gather(node, config, session)
        else:
            routed = await self._route(node, record, config, session)
            port, result = await self._transfer(routed, session)
        self._timeline.release(record)
        walker.keep_step(node.id, result)
        walker.succeed(record, port=port, result=result)
        return port

    async def _gather(
        self, node: GatherNode, config: dict[str, Any], session: CallSession
    ) -> tuple[str, dict[str, Any]]:
        # A gather the flow comes back to (a wrong key, say) starts with its retry prompt.
        revisit = self._walker.state.visits.get(node.id, 1) - 1
        tries = 0
        while True:
            verbs = gather_verbs(config, turn=session.next_turn, attempt=tries + revisit)
            session.verbs.extend(verbs)
            turn = await self._call.exchange(session)
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
            self._walker.keep_var(node.config.save_as, digits if digits is not None else speech)
        result = {
            "digits": digits,
            "speech": speech,
            "confidence": turn.confidence,
            "attempts": tries,
        }
        return "input", result

    async def _record(
        self, node: RecordNode, record: StepRecord, config: dict[str, Any], session: CallSession
    ) -> str:
        walker = self._walker
        session.verbs.extend(record_verbs(config, turn=session.next_turn))
        # Hanging up is how a caller ends a voicemail: Twilio still posts the <Record>'s
        # action with the recording, and its status callback may arrive first.
        turn = await self._call.exchange(session, after_hangup_s=RECORDING_AFTER_HANGUP_S)
        if turn.event != "recorded" or not turn.recording_url:
            self._timeline.release(record)
            walker.keep_step(node.id, {"recorded": False})
            walker.succeed(record, port="no_audio", result={"recorded": False})
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
        try:
            output = await walker.actions.run_action(node, record, stored, failing_to="recorded")
        except LeaveBy:
            walker.keep_step(node.id, {**walker.state.steps[node.id], **stored, "stored": False})
            raise
        walker.keep_step(node.id, output.result)
        return output.port

    async def _route(
        self, node: TransferNode, record: StepRecord, config: dict[str, Any], session: CallSession
    ) -> Routed:
        """Where the transfer goes: a number directly, a department or agent by the routing
        activity (which claims the agent, or queues the caller)."""
        if config.get("number"):
            return Routed(
                action="dial", number=str(config["number"]), timeout_s=int(config["timeout_s"])
            )
        context = {"call": session.view(), "path": list(self._walker.path)}
        output = await self._walker.actions.run_action(node, record, config, context=context)
        self._timeline.hold(record)
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
            turn = await self._call.exchange(session)
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
            agent = self._call.agent_of(routed)
            if agent is not None:
                result.update(agent_id=agent[0], agent_name=agent[1])
            if agent is not None or routed.queue_entry_id is not None:
                await self._call.release(routed, session, agent, outcome)
        return port, result
