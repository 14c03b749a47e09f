"""A live call's session: what Twilio's voice webhooks hand the execution, and what it answers.

Each request Twilio makes for a call (the answer webhook, then every `<Gather>`, `<Record>`,
`<Dial>`, `<Enqueue>` action and every `<Redirect>`) is a numbered *turn*: request `k`
carries `turn=k` in its URL. The API hands it to the execution's workflow as the
`call_turn` Update; the workflow answers with `answers[k]`, a list of `Verb`s (plain data,
no I/O in workflow code), which the API renders as TwiML with the twilio library. Every
callback in answer `k` points at turn `k + 1`, so a webhook that Twilio retries is the same
turn again and gets the same answer, and a hold redirect (`event=hold`) re-asks for it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

UPDATE_CALL_TURN = "call_turn"
SIGNAL_CALL_ROUTED = "call_routed"
ACTIVITY_RELEASE_AGENT = "release_agent"

_CALL_NAMESPACE = uuid.UUID("0b8e6c1e-5a57-4f0e-9d57-3c3f1f4f2a61")


def execution_id_for_call(call_sid: str, *, fallback: bool = False) -> str:
    """The execution an inbound call runs as, derived from its CallSid: a retried webhook
    finds the same execution and its workflow, never a second one. The call's fallback flow
    (when its flow failed mid-call) runs as a second execution, derived the same way."""
    return uuid.uuid5(_CALL_NAMESPACE, f"{call_sid}:fallback" if fallback else call_sid).hex


TurnEvent = Literal[
    "answer",  # the call's first request (an inbound call rang, or an outbound one answered)
    "input",  # a <Gather> action: Digits and/or SpeechResult
    "timeout",  # the redirect after a <Gather> that got no input
    "recorded",  # a <Record> action: RecordingUrl, RecordingSid, RecordingDuration
    "no_audio",  # the redirect after a <Record> that recorded nothing
    "dial",  # a <Dial> action: DialCallStatus
    "queue",  # an <Enqueue> action: QueueResult, QueueTime
    "hold",  # the redirect of a hold answer: ask again for the same turn
    "continue",  # the redirect after what the call heard before a step that takes time
]


class CallInfo(BaseModel):
    """The live call, as templates see it under `call.*`."""

    call_sid: str
    from_: str = Field(default="", alias="from")
    to: str = ""
    direction: str = "inbound"
    """inbound, or outbound-api for a call we placed."""
    answered_by: str | None = None
    """Twilio's machine detection on a call we placed (AnsweredBy: human, machine_start…)."""

    model_config = {"populate_by_name": True}


class OutboundCall(BaseModel):
    """A call the execution places first; its flow runs on the call once it is answered."""

    to: str
    from_: str | None = Field(default=None, alias="from")
    ring_timeout_s: int = Field(default=30, ge=5, le=600)
    machine_detection: bool = False

    model_config = {"populate_by_name": True}


class CallTurn(BaseModel):
    """One request of Twilio's for a live call, handed to its execution."""

    turn: int = Field(ge=0)
    event: TurnEvent
    call: CallInfo
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None
    recording_url: str | None = None
    recording_sid: str | None = None
    recording_duration_s: int | None = None
    dial_status: str | None = None
    """DialCallStatus: completed, answered, busy, no-answer, failed, canceled."""
    dial_duration_s: int | None = None
    queue_result: str | None = None
    """QueueResult: bridged, bridging-in-process, hangup, leave, redirected, queue-full,
    error, system-shutdown."""
    queue_time_s: int | None = None


# --- the answer: TwiML verbs as data -----------------------------------------------------


class Say(BaseModel):
    verb: Literal["say"] = "say"
    text: str
    voice: str | None = None
    language: str | None = None


class Play(BaseModel):
    verb: Literal["play"] = "play"
    url: str


class Gather(BaseModel):
    verb: Literal["gather"] = "gather"
    turn: int
    input: str = "dtmf"
    num_digits: int | None = None
    timeout_s: int = 5
    finish_on_key: str | None = "#"
    language: str | None = None
    hints: str | None = None
    prompt: list[Annotated[Say | Play, Field(discriminator="verb")]] = Field(default_factory=list)


class Record(BaseModel):
    verb: Literal["record"] = "record"
    turn: int
    max_length_s: int = 120
    play_beep: bool = True


class Dial(BaseModel):
    verb: Literal["dial"] = "dial"
    turn: int
    number: str | None = None
    client: str | None = None
    timeout_s: int = 30
    caller_id: str | None = None
    record: bool = False


class Enqueue(BaseModel):
    verb: Literal["enqueue"] = "enqueue"
    turn: int
    queue: str


class Redirect(BaseModel):
    verb: Literal["redirect"] = "redirect"
    turn: int
    event: TurnEvent


class Hangup(BaseModel):
    verb: Literal["hangup"] = "hangup"


class Fallback(BaseModel):
    """Hand the call to its deployment's fallback flow (the flow failed mid-call)."""

    verb: Literal["fallback"] = "fallback"
    environment: str = "production"
    """The deployment's environment: a staging call falls back to staging's fallback flow."""


Verb = Annotated[
    Say | Play | Gather | Record | Dial | Enqueue | Redirect | Hangup | Fallback,
    Field(discriminator="verb"),
]


class TurnAnswer(BaseModel):
    """What Twilio is told to do next; the API renders it as TwiML."""

    turn: int
    verbs: list[Verb] = Field(default_factory=list)
    ended: bool = False
    """The execution is over (the call is told to hang up)."""


# --- routing a transfer ------------------------------------------------------------------


class Routed(BaseModel):
    """A transfer's destination, as the routing activity chose it (ActionOutput.result)."""

    action: Literal["dial", "enqueue"]
    number: str | None = None
    client: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    department_id: str | None = None
    department: str | None = None
    queue: str | None = None
    queue_entry_id: str | None = None
    position: int | None = None
    caller_id: str | None = None
    timeout_s: int = 30
    overflow_from: str | None = None
    """The department the call overflowed from (closed), when it did."""


class CallRoutedSignal(BaseModel):
    """A queued caller was handed to an agent (the agent's call to the queue was placed)."""

    queue_entry_id: str
    agent_id: str
    agent_name: str | None = None


class ReleaseAgent(BaseModel):
    """A transfer is over: the agent is available again, its queue entry closed, and the next
    caller waiting for that agent's departments is offered to it."""

    tenant_id: str
    execution_id: str
    call_sid: str
    agent_id: str | None = None
    queue_entry_id: str | None = None
    outcome: str
    """connected, no_answer, failed or hangup."""
    extra: dict[str, Any] = Field(default_factory=dict)


def dial_port(status: str | None) -> str:
    """A `<Dial>`'s DialCallStatus as a transfer port."""
    if status in ("completed", "answered"):
        return "connected"
    if status in ("busy", "no-answer"):
        return "no_answer"
    return "failed"


def queue_port(result: str | None) -> str:
    """An `<Enqueue>`'s QueueResult as a transfer port."""
    if result in ("bridged", "bridging-in-process"):
        return "connected"
    if result in ("leave", "redirected"):
        return "no_answer"
    return "failed"
