"""The step catalogue: one declaration per step type, and every table derived from it.

A step type is declared once, in `STEPS`: its node and config models, its ports, how it is
shown in the dashboard's palette, and how the engine treats it. The interpreter, validation,
the dry run, the worker's local activities, the cost estimate and `GET /api/steps` all read
these declarations, so a new step type is one `Step(...)` here plus, for an action, one
activity module; a table that forgot it is a failing test, not a `KeyError` at run time.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from schemas.flow import (
    AbSplitNode,
    AiCallNode,
    ConditionNode,
    CrmUpdateNode,
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
    SendAndWaitNode,
    SetNode,
    SmsNode,
    SplitNode,
    SubflowNode,
    TagNode,
    TransferNode,
    WaitForNode,
    WaitNode,
    WhatsappNode,
)

Category = Literal["trigger", "logic", "messaging", "voice", "data", "people"]
"""Where the palette groups a step. `trigger` is for steps that start a flow: none yet (a
flow's trigger is a setting of the flow, SPEC §4)."""

Provider = Literal["sms", "whatsapp", "email", "voice"]
"""A channel whose provider is configured (`FLOWDECK_PROVIDER_<CHANNEL>`)."""

Cost = Literal["sms", "whatsapp", "email", "call", "message"]
"""What the dry run's estimate charges for a step: one message of a channel, a connected
call's minute, or (`message`) one message of the channel the step's config names."""


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step type."""

    type: str
    node: builtins.type[BaseModel]
    category: Category
    label: str
    description: str
    ports: tuple[str, ...] = ()
    """Its fixed outcome ports (a `split`'s and an `ab_split`'s come from its config)."""
    success_port: str | None = None
    """Where `continue_on_error` sends it when it fails with no failure transition."""
    failure_port: str | None = None
    """Its own port for a failure, taken when it has a transition and `error` has none."""
    action: bool = False
    """It has a side effect: it accepts `error`, `retry`, `timeout_s` and `continue_on_error`."""
    activity: bool = False
    """The worker's `perform_action` activity does it (one handler in `activities`)."""
    error_port: bool = False
    """It accepts an `error` transition without being an action (its activity can fail)."""
    voice: bool = False
    """It needs a live call."""
    reaches_contact: bool = False
    """It reaches a person: a Do-Not-Call tag stops it when it is addressed to the contact."""
    pauses: bool = False
    """It waits for time or for someone: a cycle through it is not a busy loop."""
    takes_time: bool = False
    """It is not done at once: on a live call, what the flow said before it is heard first."""
    awaits: bool = True
    """It awaits something (an activity, a timer, a person); `False`: it is decided in the
    workflow at once, and a stretch of such steps is bounded (`schemas.limits`)."""
    local: Literal["always", "sandbox", "short", "never"] = "never"
    """It may run as a local activity: always, or while its channel's provider is `sandbox`,
    or (`short`, and `sandbox` ones on a real provider) when one attempt's timeout is within
    `FLOWDECK_LOCAL_ACTIVITY_MAX_S`."""
    provider: Provider | None = None
    """The channel whose provider it uses."""
    native_fields: frozenset[str] = frozenset()
    """Config keys whose `{{ expr }}` keeps its native type (a JSON body); others are text."""
    cost: Cost | None = None

    @property
    def config(self) -> builtins.type[BaseModel]:
        annotation = self.node.model_fields["config"].annotation
        assert isinstance(annotation, builtins.type) and issubclass(annotation, BaseModel)
        return annotation

    @property
    def accepts_error(self) -> bool:
        return self.action or self.error_port

    def all_ports(self, node: Node | None = None) -> tuple[str, ...]:
        """The ports a node of this type may have transitions for."""
        if isinstance(node, SplitNode):
            return (*(c.port for c in node.config.cases), "else")
        if isinstance(node, AbSplitNode):
            return tuple(v.port for v in node.config.variants)
        if self.accepts_error and "error" not in self.ports:
            return (*self.ports, "error")
        return self.ports

    def catalogue_entry(self) -> dict[str, Any]:
        """What `GET /api/steps` shows of it: the palette's entry and its config's schema."""
        return {
            "type": self.type,
            "category": self.category,
            "label": self.label,
            "description": self.description,
            "ports": list(self.all_ports()),
            "dynamic_ports": self.node in (SplitNode, AbSplitNode),
            "action": self.action,
            "voice": self.voice,
            "pauses": self.pauses,
            "config_schema": self.config.model_json_schema(),
        }


_SENT = ("sent", "failed")

STEPS: tuple[Step, ...] = (
    # --- voice -----------------------------------------------------------------------------
    Step(
        type="say",
        node=SayNode,
        category="voice",
        label="Say",
        description="Speak a text, or play an audio file, on the live call.",
        ports=("next",),
        voice=True,
        awaits=False,
    ),
    Step(
        type="gather",
        node=GatherNode,
        category="voice",
        label="Gather input",
        description="Ask a question and collect key presses and/or speech.",
        ports=("input", "timeout"),
        voice=True,
        pauses=True,
    ),
    Step(
        type="transfer",
        node=TransferNode,
        category="voice",
        label="Transfer",
        description="Connect the caller to a department, an agent or a number.",
        ports=("connected", "no_answer", "failed"),
        failure_port="failed",
        voice=True,
        activity=True,
    ),
    Step(
        type="record",
        node=RecordNode,
        category="voice",
        label="Record voicemail",
        description="Record a message from the caller and store it.",
        ports=("recorded", "no_audio"),
        voice=True,
        activity=True,
        error_port=True,
    ),
    Step(
        type="hangup",
        node=HangupNode,
        category="voice",
        label="Hang up",
        description="End the call.",
        voice=True,
    ),
    Step(
        type="ai_call",
        node=AiCallNode,
        category="voice",
        label="Place a call",
        description="Call the contact (an AI voice agent, or the flow's own voice steps).",
        ports=("answered", "missed", "busy", "failed", "voicemail"),
        success_port="answered",
        failure_port="failed",
        action=True,
        activity=True,
        reaches_contact=True,
        pauses=True,
        takes_time=True,
        provider="voice",
        cost="call",
    ),
    # --- messaging -------------------------------------------------------------------------
    Step(
        type="sms",
        node=SmsNode,
        category="messaging",
        label="Send SMS",
        description="Send a text message.",
        ports=_SENT,
        success_port="sent",
        failure_port="failed",
        action=True,
        activity=True,
        reaches_contact=True,
        takes_time=True,
        local="sandbox",
        provider="sms",
        cost="sms",
    ),
    Step(
        type="whatsapp",
        node=WhatsappNode,
        category="messaging",
        label="Send WhatsApp",
        description="Send an approved WhatsApp template.",
        ports=_SENT,
        success_port="sent",
        failure_port="failed",
        action=True,
        activity=True,
        reaches_contact=True,
        takes_time=True,
        local="sandbox",
        provider="whatsapp",
        cost="whatsapp",
    ),
    Step(
        type="send_and_wait",
        node=SendAndWaitNode,
        category="messaging",
        label="Ask and wait for a reply",
        description="Send an SMS or WhatsApp and wait for the contact's answer.",
        ports=("reply", "timeout", "failed"),
        success_port="reply",
        failure_port="failed",
        action=True,
        activity=True,
        reaches_contact=True,
        pauses=True,
        takes_time=True,
        cost="message",
    ),
    Step(
        type="email",
        node=EmailNode,
        category="messaging",
        label="Send email",
        description="Send an email, written here or from a stored template.",
        ports=_SENT,
        success_port="sent",
        failure_port="failed",
        action=True,
        activity=True,
        reaches_contact=True,
        takes_time=True,
        local="sandbox",
        provider="email",
        cost="email",
    ),
    # --- data ------------------------------------------------------------------------------
    Step(
        type="http",
        node=HttpNode,
        category="data",
        label="HTTP request",
        description="Call a web service; its answer is in the step's result.",
        ports=("success", "error"),
        success_port="success",
        failure_port="error",
        action=True,
        activity=True,
        takes_time=True,
        native_fields=frozenset({"body"}),
        local="short",
    ),
    Step(
        type="crm_update",
        node=CrmUpdateNode,
        category="data",
        label="Update CRM",
        description="Set fields on a Bitrix24 lead, deal, contact or company.",
        ports=("success", "error"),
        success_port="success",
        failure_port="error",
        action=True,
        activity=True,
        takes_time=True,
        native_fields=frozenset({"fields"}),
        local="short",
    ),
    Step(
        type="set",
        node=SetNode,
        category="data",
        label="Set variables",
        description="Give variables a value, for the steps that follow.",
        ports=("next",),
        awaits=False,
    ),
    Step(
        type="tag",
        node=TagNode,
        category="data",
        label="Tag contact",
        description="Add or remove tags on the contact (DNC stops what reaches them).",
        ports=("next",),
        success_port="next",
        action=True,
        activity=True,
        local="always",
    ),
    # --- logic -----------------------------------------------------------------------------
    Step(
        type="condition",
        node=ConditionNode,
        category="logic",
        label="Condition",
        description="Go one way if a condition holds, the other if not.",
        ports=("true", "false"),
        awaits=False,
    ),
    Step(
        type="split",
        node=SplitNode,
        category="logic",
        label="Split",
        description="Go the way of the first case that holds, else `else`.",
        awaits=False,
    ),
    Step(
        type="ab_split",
        node=AbSplitNode,
        category="logic",
        label="A/B split",
        description="Send each execution down one variant, by weight.",
        awaits=False,
    ),
    Step(
        type="wait",
        node=WaitNode,
        category="logic",
        label="Wait",
        description="Wait for a time, until a date, or until business hours open.",
        ports=("next",),
        pauses=True,
        takes_time=True,
        awaits=False,  # only while its time is ahead, which it tells the walk itself
    ),
    Step(
        type="wait_for",
        node=WaitForNode,
        category="logic",
        label="Wait for event",
        description="Wait until an event is sent to the execution.",
        ports=("received", "timeout"),
        pauses=True,
        takes_time=True,
    ),
    Step(
        type="loop",
        node=LoopNode,
        category="logic",
        label="Loop",
        description="Run the `body` branch for each item, a number of times, or while.",
        ports=("body", "done"),
        awaits=False,
    ),
    Step(
        type="parallel",
        node=ParallelNode,
        category="logic",
        label="Parallel",
        description="Run branches at the same time; go on when all (or any) end.",
        ports=("next", "error"),
        failure_port="error",
        awaits=False,
    ),
    Step(
        type="subflow",
        node=SubflowNode,
        category="logic",
        label="Subflow",
        description="Run another published flow and wait for it to end.",
        ports=("success", "failed"),
        success_port="success",
        failure_port="failed",
        action=True,
        takes_time=True,
    ),
    Step(
        type="end",
        node=EndNode,
        category="logic",
        label="End",
        description="End the execution, completed or failed.",
    ),
    # --- people ----------------------------------------------------------------------------
    Step(
        type="human_task",
        node=HumanTaskNode,
        category="people",
        label="Human task",
        description="Wait for an agent to complete a form.",
        ports=("completed", "timeout"),
        pauses=True,
        takes_time=True,
    ),
)

STEP: Mapping[str, Step] = {step.type: step for step in STEPS}
"""Each step type's declaration, by type."""


def step_of(node: Node) -> Step:
    return STEP[node.type]


def ports_of(node: Node) -> tuple[str, ...]:
    """The outcome ports a node may have transitions for."""
    return STEP[node.type].all_ports(node)


def _types(**wanted: bool) -> frozenset[str]:
    return frozenset(
        step.type
        for step in STEPS
        if all(getattr(step, name) == value for name, value in wanted.items())
    )


VOICE_TYPES = _types(voice=True)
"""Steps that need a live call."""
ACTION_TYPES = _types(action=True)
"""Steps with a side effect: they accept `error`, `retry`, `timeout_s`, `continue_on_error`."""
ACTIVITY_TYPES = _types(activity=True)
"""Steps the worker's `perform_action` activity does."""
CONTACT_STEPS = _types(reaches_contact=True)
"""Steps that reach a person, and so must respect a Do-Not-Call tag."""
PAUSING_TYPES = _types(pauses=True)
"""Steps that wait for time or for someone: a cycle through one is not a busy loop."""
TAKES_TIME = _types(takes_time=True)
"""Steps that are not done at once: what a live call heard before them goes out first."""
NEVER_AWAIT = _types(awaits=False)
"""Steps decided in the workflow at once (a `wait` awaits only while its time is ahead)."""
SUCCESS_PORT: Mapping[str, str] = {s.type: s.success_port for s in STEPS if s.success_port}
FAILURE_PORT: Mapping[str, str] = {s.type: s.failure_port for s in STEPS if s.failure_port}
NATIVE_FIELDS: Mapping[str, frozenset[str]] = {
    s.type: s.native_fields for s in STEPS if s.native_fields
}


def short_local_types(providers: Mapping[Provider, str]) -> list[str]:
    """The action steps that run as local activities when one attempt's timeout is short
    (`FLOWDECK_LOCAL_ACTIVITY_MAX_S`): HTTP and CRM calls, and sends on a real provider."""
    return [
        step.type
        for step in STEPS
        if step.local == "short"
        or (step.local == "sandbox" and step.provider and providers[step.provider] != "sandbox")
    ]


def local_types(providers: Mapping[Provider, str]) -> list[str]:
    """The action steps to run as local activities, given each channel's provider: those
    that always may, and sandbox sends (no round trip through the Temporal server; real
    providers and HTTP keep regular activities, whose timeouts the server enforces)."""
    return [
        step.type
        for step in STEPS
        if step.local == "always"
        or (step.local == "sandbox" and step.provider and providers[step.provider] == "sandbox")
    ]
