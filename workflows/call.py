"""The calls of an execution, with one owner: the live call it answers (its session of
numbered turns, SPEC §6), the calls it placed and their outcomes, the agents it was routed
to. The plain parts (verbs, ports, the session's data) are in `workflows.voice`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.call import (
        ACTIVITY_RELEASE_AGENT,
        CallInfo,
        CallRoutedSignal,
        CallTurn,
        Fallback,
        Hangup,
        Redirect,
        ReleaseAgent,
        Routed,
        TurnAnswer,
    )
    from schemas.execution import (
        CallAnswer,
        CallStatusSignal,
        ExecutionInput,
        StepStatus,
    )
    from workflows.contact_rules import answered_port, call_port
    from workflows.voice import CALL_OVER, CallerHungUp, CallSession
from workflows.timeline import RECORD_TIMEOUT, Timeline

RELEASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_attempts=6
)
"""A freed agent's next offer is retried for about half a minute, then given up (logged)."""
SESSION_WAIT_S = 30.0
"""How long a voice step after an answered `ai_call` waits for the call's first webhook
(Twilio's status callback and its request for TwiML race each other)."""
NO_CALLBACK_S = 120.0
"""How long after its ring timeout a placed call may still report its outcome."""
NO_FINAL_STATUS = "no-final-status"
"""The call status of a call whose time limit passed without Twilio's final status."""
# Changes to what a call's workflow does, each behind `workflow.patched`: executions started
# before one replay as they ran (tests/histories holds runs from before and after).
PATCH_CALL_TIME_LIMIT = "call-time-limit"
PATCH_RECORDING_AFTER_HANGUP = "recording-after-hangup"
PATCH_SPEAK_FIRST = "speak-before-slow-steps"


async def held_within(predicate: Callable[[], bool], timeout_s: float | None) -> bool:
    """Wait (durably) until `predicate` holds, for at most `timeout_s`: whether it did."""
    try:
        await workflow.wait_condition(predicate, timeout=timeout_s)
    except TimeoutError:
        return False
    return True


class Call:
    """Owns what an execution knows of its calls."""

    def __init__(self, data: ExecutionInput, timeline: Timeline) -> None:
        self._in = data
        self._timeline = timeline
        self.session: CallSession | None = None
        self._statuses: dict[str, CallStatusSignal] = {}
        """Each placed call's status; the first decisive one stands."""
        self._placed: set[str] = set()
        self._routed: dict[str, CallRoutedSignal] = {}
        self._answered: str | None = None
        """The sid of the last call this execution placed that was answered."""
        self._watch: asyncio.Task[None] | None = None
        """Watches the live call's time limit (a task keeps no strong reference to itself)."""
        self.running = False
        """The workflow's run has begun (handlers may come first)."""
        self.over = False
        """The execution has ended: no turn is answered any more."""

    # --- signals and Updates -------------------------------------------------------------

    def open(self, call: CallInfo) -> CallSession:
        """The live call's session, watched until the call's time limit."""
        session = self.session = CallSession(call=call)
        if workflow.patched(PATCH_CALL_TIME_LIMIT):
            self._watch = asyncio.create_task(self._watch_limit(session))
        return session

    async def _watch_limit(self, session: CallSession) -> None:
        """Twilio ends every call within its time limit (4 h unless told otherwise). A call
        with no final status by then is over, its status callback lost or never configured:
        the execution ends as for a hang-up instead of waiting for the call for ever."""
        # A call's first turn may open its session before the run has begun; the watch
        # starts with the run (where the histories of running executions have its timer).
        await workflow.wait_condition(lambda: self.running)
        ended = await held_within(
            lambda: session.hung_up is not None or session.ended or self.over,
            self._in.call_time_limit_s,
        )
        if not ended:
            session.hung_up = (NO_FINAL_STATUS, None)

    def on_status(self, signal: CallStatusSignal) -> None:
        known = self._statuses.get(signal.call_sid)
        if known is None or call_port(known) is None:
            self._statuses[signal.call_sid] = signal  # the first decisive status stands
        session = self.session
        if (
            session is not None
            and session.call.call_sid == signal.call_sid
            and signal.status in CALL_OVER
            and session.hung_up is None
        ):
            session.hung_up = (signal.status, signal.duration_s)

    def on_routed(self, signal: CallRoutedSignal) -> None:
        self._routed[signal.queue_entry_id] = signal

    async def on_turn(self, turn: CallTurn) -> CallAnswer:
        """One of Twilio's requests for the live call; answered once the walk has the answer."""
        session = self.session
        if session is None or session.call.call_sid != turn.call.call_sid:
            session = self.open(turn.call)
        session.turns.setdefault(turn.turn, turn)
        await workflow.wait_condition(lambda: len(session.answers) > turn.turn or self.over)
        if len(session.answers) <= turn.turn:
            return CallAnswer(answer=TurnAnswer(turn=turn.turn, verbs=[Hangup()], ended=True))
        records = self._timeline.told(f"{turn.call.call_sid}:{turn.turn}")
        progress = self._timeline.record_input(records, status=None) if records else None
        return CallAnswer(answer=session.answers[turn.turn], progress=progress)

    def validate_turn(self, turn: CallTurn) -> None:
        session = self.session
        if self.over:
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

    # --- what the walk asks of it --------------------------------------------------------

    @property
    def live(self) -> bool:
        """A call is on the line (a long stretch may then not continue-as-new)."""
        session = self.session
        return session is not None and session.hung_up is None and not session.ended

    def view(self) -> dict[str, Any]:
        """`call.*` for templates and conditions."""
        return self.session.view() if self.session is not None else {}

    async def session_for_voice(self) -> CallSession | None:
        """The call a voice step speaks on. Right after a placed call was answered, its
        first request for TwiML may still be on its way: wait for it a while."""
        if self.session is None and self._answered is not None:
            await held_within(lambda: self.session is not None, SESSION_WAIT_S)
        session = self.session
        if session is not None and session.hung_up is not None:
            raise CallerHungUp(*session.hung_up)
        return session

    def speak_first(self) -> None:
        """Before a step that takes time (an action, a wait, a task, a subflow), the live call
        hears what the flow said so far at once, then comes back (a redirect) for what
        follows: "One moment, I am looking up your order" is heard before the lookup, not
        after it. The step runs meanwhile; the redirect waits for the next answer."""
        session = self.session
        if session is None or not session.verbs or session.ended or session.hung_up:
            return
        if not workflow.patched(PATCH_SPEAK_FIRST):
            return
        session.verbs.append(Redirect(turn=session.next_turn, event="continue"))
        session.answer()

    async def exchange(self, session: CallSession, *, after_hangup_s: float = 0) -> CallTurn:
        """Send what the call has gathered as the next answer; the caller's next turn.

        `after_hangup_s`: how long the turn may still come once the caller has hung up.
        """
        # The records walked so far ride on the answer (CallAnswer.progress).
        self._timeline.tell(f"{session.call.call_sid}:{len(session.answers)}")
        turn = session.answer()
        await workflow.wait_condition(lambda: turn in session.turns or session.hung_up is not None)
        if (
            turn not in session.turns
            and after_hangup_s
            and workflow.patched(PATCH_RECORDING_AFTER_HANGUP)
        ):
            await held_within(lambda: turn in session.turns, after_hangup_s)
        got = session.turns.get(turn)
        if got is None:
            assert session.hung_up is not None
            raise CallerHungUp(*session.hung_up)
        return got

    async def outcome(
        self, placed: dict[str, Any], ring_timeout_s: float
    ) -> tuple[str, dict[str, Any]]:
        """A placed call's port and result: its final status, or, answered at our voice
        webhook, what machine detection said; `missed` when nothing came in time."""
        sid = str(placed.get("call_sid"))
        self._placed.add(sid)

        def answered_here() -> bool:
            """The call came to our voice webhook: it is this execution's live call now."""
            return self.session is not None and self.session.call.call_sid == sid

        def decided() -> bool:
            known = self._statuses.get(sid)
            return answered_here() or (known is not None and call_port(known) is not None)

        # The call's own ring timeout, plus room for Twilio's callback to arrive.
        if not await held_within(decided, ring_timeout_s + NO_CALLBACK_S):
            return "missed", {**placed, "status": "no-callback"}
        signal = self._statuses.get(sid)
        port = call_port(signal) if signal is not None else None
        if port == "answered" or answered_here():
            self._answered = sid
        if signal is None or port is None:
            # Answered at our voice webhook, whose request says what machine detection found.
            assert self.session is not None
            answered_by = self.session.call.answered_by
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

    def agent_of(self, routed: Routed) -> tuple[str, str | None] | None:
        """The agent a transfer reached: dialled straight, or offered the queued caller."""
        if routed.agent_id is not None:
            return routed.agent_id, routed.agent_name
        offered = self._routed.get(routed.queue_entry_id or "")
        return (offered.agent_id, offered.agent_name) if offered else None

    async def release(
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

    # --- the end -------------------------------------------------------------------------

    def record_hangup(self, hangup: CallerHungUp) -> None:
        """The timeline's last step: who ended the call, and how."""
        record = self._timeline.begin("hangup", "hangup")
        result = {
            "by": "time_limit" if hangup.status == NO_FINAL_STATUS else "caller",
            "call_status": hangup.status,
            "duration_s": hangup.duration_s,
        }
        self._timeline.finish(record, StepStatus.success, result=result)

    def end(self, *, failed: bool) -> None:
        """The execution is over: a call still on the line is told to hang up, or, when the
        flow failed and the number has a fallback flow, handed to it."""
        self.over = True
        session = self.session
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
