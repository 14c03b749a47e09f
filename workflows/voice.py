"""The plain parts of a live call: the session's state, the verbs voice steps add, their ports.

Passed through the sandbox (see workflows/sandbox.py); no I/O, no clock, no randomness. The
interpreter owns the waiting; this module only turns rendered step configs into TwiML verbs
(as data, `schemas.call`) and Twilio's answers into ports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.call import (
    CallInfo,
    CallTurn,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Play,
    Record,
    Redirect,
    Routed,
    Say,
    TurnAnswer,
    Verb,
)

CALL_OVER = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
"""Call statuses after which nobody is on the line any more."""


class CallerHungUp(Exception):
    """The caller hung up while the flow still needed the call."""

    def __init__(self, status: str, duration_s: int | None) -> None:
        super().__init__(f"the caller hung up (call {status})")
        self.status = status
        self.duration_s = duration_s


@dataclass
class CallSession:
    """One live call: the answers given so far (answer k answers turn k), the turns received,
    and the verbs gathered for the next answer."""

    call: CallInfo
    answers: list[TurnAnswer] = field(default_factory=list)
    turns: dict[int, CallTurn] = field(default_factory=dict)
    verbs: list[Verb] = field(default_factory=list)
    hung_up: tuple[str, int | None] | None = None
    """(CallStatus, duration) once Twilio reported the call over."""
    ended: bool = False
    digits: str | None = None
    speech: str | None = None
    """What the caller entered at the last gather (`call.digits`, `call.speech`)."""

    @property
    def next_turn(self) -> int:
        """The turn the callbacks of the answer being built will carry."""
        return len(self.answers) + 1

    def answer(self, *, ended: bool = False) -> int:
        """Close the verbs gathered so far into the next answer; the turn it awaits."""
        turn = len(self.answers)
        verbs, self.verbs = self.verbs, []
        if ended:
            verbs.append(Hangup())
            self.ended = True
        self.answers.append(TurnAnswer(turn=turn, verbs=verbs, ended=ended))
        return turn + 1

    def view(self) -> dict[str, Any]:
        """The call as templates and conditions see it: `call.*`."""
        return {
            "call_sid": self.call.call_sid,
            "from": self.call.from_,
            "to": self.call.to,
            "direction": self.call.direction,
            "digits": self.digits,
            "speech": self.speech,
        }


def say_verb(config: dict[str, Any]) -> Verb:
    if config.get("play"):
        return Play(url=str(config["play"]))
    return Say(text=str(config["text"]), voice=config.get("voice"), language=config.get("language"))


def gather_verbs(config: dict[str, Any], *, turn: int, attempt: int) -> list[Verb]:
    """The `<Gather>` (its prompt inside, so a key press interrupts it) and, after it, the
    redirect Twilio follows when the caller entered nothing."""
    texts = [config.get("prompt")]
    if attempt > 0 and config.get("retry_prompt"):
        # "Sorry, I did not get that." and then the choices again, as an IVR says it.
        texts.insert(0, config["retry_prompt"])
    voice, language = config.get("voice"), config.get("language")
    prompt = [Say(text=str(text), voice=voice, language=language) for text in texts if text]
    gather = Gather(
        turn=turn,
        input=str(config.get("input") or "dtmf"),
        num_digits=config.get("num_digits"),
        timeout_s=int(config.get("timeout_s") or 5),
        finish_on_key=config.get("finish_on_key"),
        language=config.get("language"),
        hints=config.get("hints"),
        prompt=prompt,
    )
    return [gather, Redirect(turn=turn, event="timeout")]


def gathered(turn: CallTurn) -> tuple[str | None, str | None]:
    """What the caller entered on a gather turn: (digits, speech), both None on a timeout."""
    if turn.event != "input":
        return None, None
    digits = (turn.digits or "").strip() or None
    speech = (turn.speech or "").strip() or None
    return digits, speech


def record_verbs(config: dict[str, Any], *, turn: int) -> list[Verb]:
    verbs: list[Verb] = []
    if config.get("prompt"):
        verbs.append(Say(text=str(config["prompt"])))
    verbs.append(
        Record(
            turn=turn,
            max_length_s=int(config.get("max_length_s") or 120),
            play_beep=bool(config.get("play_beep", True)),
        )
    )
    verbs.append(Redirect(turn=turn, event="no_audio"))
    return verbs


def dial_verb(routed: Routed, *, turn: int) -> Dial:
    return Dial(
        turn=turn,
        number=routed.number,
        client=routed.client,
        timeout_s=routed.timeout_s,
        caller_id=routed.caller_id,
    )


def queue_verbs(routed: Routed, *, turn: int) -> list[Verb]:
    """Tell the caller the department is busy, then hold them in its queue."""
    name = routed.department or "our team"
    text = f"All agents of {name} are busy. Please hold, and you will be connected."
    if routed.position:
        text = f"{text} You are number {routed.position} in the queue."
    assert routed.queue is not None
    return [Say(text=text), Enqueue(turn=turn, queue=routed.queue)]
