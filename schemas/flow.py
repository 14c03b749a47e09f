"""The flow document (SPEC §3): a graph of typed steps with transitions between outcome ports.

Each step type has its own `config` model that forbids unknown keys; its ports and how the
engine treats it are declared once in `schemas.steps`. Graph-level rules (missing targets,
unreachable nodes, cycles) live in `schemas.validation`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from schemas.conditions import Condition

# Upper bounds of numbers in configs. The interpreter turns them into Python timedeltas and
# Temporal timers and timeouts; without a bound, `days: 1e12` overflows a timedelta inside the
# workflow and wedges the execution instead of being refused at validation.
YEAR_S = 365 * 86400
MAX_WAIT_S = 10 * YEAR_S
"""A `wait` lasts at most 10 years (each unit, and all of them together)."""
MAX_TIMEOUT_S = YEAR_S
"""Timeouts (of a step's attempt, a reply, an event, a human task) are at most a year."""
MAX_RETRY_DELAY_S = 86400
"""Retries are at most a day apart."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class RetryPolicy(_Config):
    """How often an action step is tried before its failure goes to the `error` port."""

    max_attempts: int = Field(default=3, ge=1, le=100)
    """At most 100 tries."""
    delay_s: float = Field(default=1.0, ge=0, le=MAX_RETRY_DELAY_S)
    """Before the second try; at most a day."""
    backoff: float = Field(default=2.0, ge=1, le=10)
    """Each delay is the one before times this (1 to 10)."""
    max_delay_s: float | None = Field(default=None, gt=0, le=MAX_RETRY_DELAY_S)
    """No delay grows past this; at most a day, and not under `delay_s`."""

    @model_validator(mode="after")
    def _delays_in_order(self) -> RetryPolicy:
        # Temporal refuses a policy whose longest interval is below its first (at least 1 ms).
        if self.max_delay_s is not None and self.max_delay_s < max(self.delay_s, 0.001):
            raise ValueError("max_delay_s must be at least delay_s (and 0.001)")
        return self


# --- voice steps -------------------------------------------------------------------------


class SayConfig(_Config):
    text: str | None = None
    play: str | None = None
    voice: str | None = None
    language: str | None = None

    @model_validator(mode="after")
    def _text_or_play(self) -> SayConfig:
        if not self.text and not self.play:
            raise ValueError("say needs `text` or `play`")
        return self


FINISH_KEYS = "0123456789#*"


class GatherConfig(_Config):
    prompt: str | None = None
    input: str = "dtmf"
    num_digits: int | None = Field(default=None, ge=1, le=64)
    timeout_s: int = Field(default=5, ge=1, le=60)
    finish_on_key: str | None = "#"
    save_as: str | None = None
    max_retries: int = Field(default=0, ge=0, le=10)
    retry_prompt: str | None = None
    voice: str | None = None
    language: str | None = None
    hints: str | None = None

    @field_validator("input")
    @classmethod
    def _input_kinds(cls, value: str) -> str:
        """`dtmf`, `speech`, or both: `both`, or `dtmf speech` as Twilio writes it."""
        kinds = value.split()
        if kinds == ["both"]:
            return "dtmf speech"
        if not kinds or any(k not in ("dtmf", "speech") for k in kinds):
            raise ValueError("input must be `dtmf`, `speech` or `both` (`dtmf speech`)")
        return " ".join(kinds)

    @field_validator("finish_on_key")
    @classmethod
    def _one_key(cls, value: str | None) -> str | None:
        """Twilio ends the input at one key; empty: at none."""
        if value and (len(value) != 1 or value not in FINISH_KEYS):
            raise ValueError("finish_on_key must be one key (0-9, # or *), or empty for none")
        return value


class TransferConfig(_Config):
    department: str | None = None
    agent: str | None = None
    number: str | None = None
    skills: list[str] = Field(default_factory=list)
    timeout_s: int = Field(default=30, ge=1, le=600)
    priority: int = Field(default=5, ge=0, le=100)
    """In the department's queue, lower is served first (as `POST /api/departments/route`)."""

    @model_validator(mode="after")
    def _one_target(self) -> TransferConfig:
        targets = [t for t in (self.department, self.agent, self.number) if t]
        if len(targets) != 1:
            raise ValueError("transfer needs exactly one of `department`, `agent`, `number`")
        return self


class RecordConfig(_Config):
    prompt: str | None = None
    max_length_s: int = Field(default=120, ge=1, le=3600)
    play_beep: bool = True


class EmptyConfig(_Config):
    pass


# --- channel and action steps ------------------------------------------------------------


class AiCallConfig(_Config):
    agent_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str = "{{ contact.phone }}"
    ring_timeout_s: int = Field(default=30, ge=5, le=600)
    machine_detection: bool = False


class SmsConfig(_Config):
    to: str = "{{ contact.phone }}"
    from_: str | None = Field(default=None, alias="from")
    body: str


class WhatsappConfig(_Config):
    to: str = "{{ contact.phone }}"
    from_: str | None = Field(default=None, alias="from")
    template: str
    params: dict[str, str] = Field(default_factory=dict)
    language: str | None = None


class SendAndWaitConfig(_Config):
    channel: Literal["sms", "whatsapp"] = "sms"
    to: str = "{{ contact.phone }}"
    from_: str | None = Field(default=None, alias="from")
    body: str | None = None
    template: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    timeout_s: int = Field(default=3600, ge=1, le=MAX_TIMEOUT_S)
    """How long to wait for the reply; at most a year."""

    @model_validator(mode="after")
    def _body_or_template(self) -> SendAndWaitConfig:
        if self.channel == "sms" and not self.body:
            raise ValueError("an SMS needs a `body`")
        if self.channel == "whatsapp" and not (self.template or self.body):
            raise ValueError("a WhatsApp message needs a `template` (or a session `body`)")
        return self


class EmailConfig(_Config):
    to: str
    subject: str | None = None
    body: str | None = None
    html: str | None = None
    template: str | None = None
    from_name: str | None = None
    reply_to: str | None = None

    @model_validator(mode="after")
    def _content(self) -> EmailConfig:
        if not self.template and not (self.body or self.html):
            raise ValueError("email needs `body`, `html` or a stored `template`")
        if not self.template and not self.subject:
            raise ValueError("email needs a `subject` unless it uses a stored `template`")
        return self


IDEMPOTENCY_HEADER = "Idempotency-Key"


def _no_header(value: Any) -> Any:
    return "" if value is None else value


IdempotencyHeader = Annotated[
    str,
    BeforeValidator(_no_header),
    Field(
        max_length=100,
        pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]*$",
        description="The request header that carries the step's idempotency key (the same "
        "for every attempt of one visit of the step: `<execution>:<node>:<visit>`), so a "
        "receiver that honours it sees one request when a crash or a retry sends it twice; "
        'another name for receivers that expect one, or null (or "") to send none.',
    ),
]


class HttpConfig(_Config):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    timeout_s: float | None = Field(default=None, gt=0, le=300)
    retry: RetryPolicy | None = None
    save_as: str | None = None
    idempotency_header: IdempotencyHeader = IDEMPOTENCY_HEADER


class CrmUpdateConfig(_Config):
    webhook_url: str = Field(min_length=1)
    entity: Literal["lead", "deal", "contact", "company"] = "lead"
    id: str
    fields: dict[str, Any] = Field(min_length=1)
    idempotency_header: IdempotencyHeader = IDEMPOTENCY_HEADER


class SubflowConfig(_Config):
    flow_id: str
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)
    """A version number, as the database stores it (a 32-bit integer)."""
    input: dict[str, Any] = Field(default_factory=dict)


class FormField(_Config):
    name: str = Field(min_length=1)
    type: Literal["text", "number", "choice", "boolean", "datetime", "date"] = "text"
    label: str | None = None
    options: list[str] = Field(default_factory=list)
    required: bool = False


class HumanTaskConfig(_Config):
    assignee: str
    title: str
    description: str | None = None
    fields: list[FormField] = Field(default_factory=list)
    timeout_s: int | None = Field(default=None, ge=1, le=MAX_TIMEOUT_S)
    """How long the task waits for an agent; at most a year."""


class TagConfig(_Config):
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


# --- control steps -----------------------------------------------------------------------


class SplitCase(_Config):
    port: str = Field(min_length=1)
    when: Condition


class SplitConfig(_Config):
    cases: list[SplitCase] = Field(min_length=1)


class ConditionConfig(_Config):
    when: Condition


class WaitConfig(_Config):
    """A duration (its units add up; 10 years at most) or `until`, and/or `until_open`: with
    both, the wait lasts the duration (or to `until`), then until business hours open."""

    seconds: float | None = Field(default=None, ge=0, le=MAX_WAIT_S)
    minutes: float | None = Field(default=None, ge=0, le=MAX_WAIT_S // 60)
    hours: float | None = Field(default=None, ge=0, le=MAX_WAIT_S // 3600)
    days: float | None = Field(default=None, ge=0, le=MAX_WAIT_S // 86400)
    until: str | None = None
    until_open: bool = False

    @model_validator(mode="after")
    def _one_mode(self) -> WaitConfig:
        duration = any(v is not None for v in (self.seconds, self.minutes, self.hours, self.days))
        if duration and self.until is not None:
            raise ValueError("wait takes a duration or `until`, not both")
        if not (duration or self.until is not None or self.until_open):
            raise ValueError("wait needs a duration, `until` or `until_open`")
        if self.duration_s() > MAX_WAIT_S:
            raise ValueError("a wait lasts at most 10 years (3650 days)")
        return self

    def is_instant(self) -> bool:
        """A literal duration that comes to no time at all: the interpreter starts no timer."""
        has_duration = self.until is None and not self.until_open
        return has_duration and timedelta(seconds=self.duration_s()) <= timedelta(0)

    def duration_s(self) -> float:
        return (
            (self.seconds or 0)
            + (self.minutes or 0) * 60
            + (self.hours or 0) * 3600
            + (self.days or 0) * 86400
        )


class WaitForConfig(_Config):
    event: str = Field(min_length=1)
    timeout_s: int | None = Field(default=None, ge=1, le=MAX_TIMEOUT_S)
    """How long to wait for the event; at most a year."""


class SetConfig(_Config):
    assign: dict[str, Any] = Field(min_length=1)


class AbVariant(_Config):
    port: str = Field(min_length=1)
    weight: float = Field(gt=0, le=1_000_000)


class AbSplitConfig(_Config):
    variants: list[AbVariant] = Field(min_length=2)


class LoopConfig(_Config):
    for_each: str | list[Any] | None = None
    item_as: str = "item"
    count: int | str | None = None
    """A number of iterations (a loop never runs more than `max_iterations`, itself ≤ 1000),
    or a template giving one."""
    while_: Condition | None = Field(default=None, alias="while")
    max_iterations: int = Field(default=100, ge=1, le=1000)

    @field_validator("count")
    @classmethod
    def _count_in_range(cls, value: int | str | None) -> int | str | None:
        """A number from 0 to 1000 (written as a number or as text), or a template."""
        number = value
        if isinstance(value, str):
            if "{{" in value or "{%" in value:
                return value
            try:
                number = int(value.strip())
            except ValueError:
                raise ValueError("count must be a number or a template giving one") from None
        if isinstance(number, int) and not 0 <= number <= 1000:
            raise ValueError("count must be between 0 and 1000")
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> LoopConfig:
        modes = sum(x is not None for x in (self.for_each, self.count, self.while_))
        if modes != 1:
            raise ValueError("loop needs exactly one of `for_each`, `count` or `while`")
        return self


class ParallelConfig(_Config):
    branches: list[str] = Field(min_length=1)
    join: Literal["all", "any"] = "all"


class EndConfig(_Config):
    status: Literal["completed", "failed"] = "completed"
    reason: str | None = None


# --- nodes -------------------------------------------------------------------------------


class _NodeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    name: str | None = None
    transitions: dict[str, str] = Field(default_factory=dict)
    retry: RetryPolicy | None = None
    timeout_s: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_S)
    """How long one attempt of an action step may take; at most a year."""
    continue_on_error: bool = False
    position: dict[str, float] | None = None


class ActionNodeBase(_NodeBase):
    """A node of an action step the worker's `perform_action` activity does (declared with
    `action` and `activity` in `schemas.steps`): the walker runs every one of them the same
    way, so a new one needs no change there."""


class SayNode(_NodeBase):
    type: Literal["say"]
    config: SayConfig


class GatherNode(_NodeBase):
    type: Literal["gather"]
    config: GatherConfig = Field(default_factory=GatherConfig)


class SplitNode(_NodeBase):
    type: Literal["split"]
    config: SplitConfig


class ConditionNode(_NodeBase):
    type: Literal["condition"]
    config: ConditionConfig


class TransferNode(_NodeBase):
    type: Literal["transfer"]
    config: TransferConfig


class RecordNode(_NodeBase):
    type: Literal["record"]
    config: RecordConfig = Field(default_factory=RecordConfig)


class HangupNode(_NodeBase):
    type: Literal["hangup"]
    config: EmptyConfig = Field(default_factory=EmptyConfig)


class AiCallNode(ActionNodeBase):
    type: Literal["ai_call"]
    config: AiCallConfig = Field(default_factory=AiCallConfig)


class SmsNode(ActionNodeBase):
    type: Literal["sms"]
    config: SmsConfig


class WhatsappNode(ActionNodeBase):
    type: Literal["whatsapp"]
    config: WhatsappConfig


class SendAndWaitNode(ActionNodeBase):
    type: Literal["send_and_wait"]
    config: SendAndWaitConfig


class EmailNode(ActionNodeBase):
    type: Literal["email"]
    config: EmailConfig


class HttpNode(ActionNodeBase):
    type: Literal["http"]
    config: HttpConfig


class CrmUpdateNode(ActionNodeBase):
    type: Literal["crm_update"]
    config: CrmUpdateConfig


class WaitNode(_NodeBase):
    type: Literal["wait"]
    config: WaitConfig


class WaitForNode(_NodeBase):
    type: Literal["wait_for"]
    config: WaitForConfig


class SetNode(_NodeBase):
    type: Literal["set"]
    config: SetConfig


class AbSplitNode(_NodeBase):
    type: Literal["ab_split"]
    config: AbSplitConfig


class LoopNode(_NodeBase):
    type: Literal["loop"]
    config: LoopConfig


class ParallelNode(_NodeBase):
    type: Literal["parallel"]
    config: ParallelConfig


class SubflowNode(_NodeBase):
    type: Literal["subflow"]
    config: SubflowConfig


class HumanTaskNode(_NodeBase):
    type: Literal["human_task"]
    config: HumanTaskConfig


class TagNode(ActionNodeBase):
    type: Literal["tag"]
    config: TagConfig


class EndNode(_NodeBase):
    type: Literal["end"]
    config: EndConfig = Field(default_factory=EndConfig)


Node = Annotated[
    SayNode
    | GatherNode
    | SplitNode
    | ConditionNode
    | TransferNode
    | RecordNode
    | HangupNode
    | AiCallNode
    | SmsNode
    | WhatsappNode
    | SendAndWaitNode
    | EmailNode
    | HttpNode
    | CrmUpdateNode
    | WaitNode
    | WaitForNode
    | SetNode
    | AbSplitNode
    | LoopNode
    | ParallelNode
    | SubflowNode
    | HumanTaskNode
    | TagNode
    | EndNode,
    Field(discriminator="type"),
]


class FlowDocument(BaseModel):
    """One flow version's graph: `start`, flow-level `variables` and the `nodes`."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(min_length=1)
    variables: dict[str, Any] = Field(default_factory=dict)
    nodes: list[Node] = Field(min_length=1)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}
