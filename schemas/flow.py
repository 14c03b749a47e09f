"""The flow document (SPEC §3): a graph of typed steps with transitions between outcome ports.

Each step type is declared here, in one place: its `config` model (which forbids unknown
keys), then its node model under `@step(...)` (`schemas.step`), which gives its ports, its
place in the palette and how the engine treats it; `schemas.steps` derives every table from
those declarations. The one other line a step type needs here is its name in the `Node`
union, which pydantic's discriminator and mypy's exhaustive `match` read as written.
Graph-level rules (missing targets, unreachable nodes, cycles) live in `schemas.validation`.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from schemas.json_schema import schema_problem
from schemas.step import step

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
    `action` and `activity` in its `@step`): the walker runs every one of them the same
    way, so a new one needs no change there."""


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


@step(
    category="voice",
    label="Say",
    description="Speak a text, or play an audio file, on the live call.",
    ports=("next",),
    voice=True,
    awaits=False,
)
class SayNode(_NodeBase):
    type: Literal["say"]
    config: SayConfig


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


@step(
    category="voice",
    label="Gather input",
    description="Ask a question and collect key presses and/or speech.",
    ports=("input", "timeout"),
    voice=True,
    pauses=True,
)
class GatherNode(_NodeBase):
    type: Literal["gather"]
    config: GatherConfig = Field(default_factory=GatherConfig)


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


@step(
    category="voice",
    label="Transfer",
    description="Connect the caller to a department, an agent or a number.",
    ports=("connected", "no_answer", "failed"),
    failure_port="failed",
    voice=True,
    activity=True,
)
class TransferNode(_NodeBase):
    type: Literal["transfer"]
    config: TransferConfig


class RecordConfig(_Config):
    prompt: str | None = None
    max_length_s: int = Field(default=120, ge=1, le=3600)
    play_beep: bool = True


@step(
    category="voice",
    label="Record voicemail",
    description="Record a message from the caller and store it.",
    ports=("recorded", "no_audio"),
    voice=True,
    activity=True,
    error_port=True,
)
class RecordNode(_NodeBase):
    type: Literal["record"]
    config: RecordConfig = Field(default_factory=RecordConfig)


class EmptyConfig(_Config):
    pass


@step(
    category="voice",
    label="Hang up",
    description="End the call.",
    voice=True,
)
class HangupNode(_NodeBase):
    type: Literal["hangup"]
    config: EmptyConfig = Field(default_factory=EmptyConfig)


class AiCallConfig(_Config):
    agent_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str = "{{ contact.phone }}"
    ring_timeout_s: int = Field(default=30, ge=5, le=600)
    machine_detection: bool = False


@step(
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
)
class AiCallNode(ActionNodeBase):
    type: Literal["ai_call"]
    config: AiCallConfig = Field(default_factory=AiCallConfig)


# --- messaging steps ---------------------------------------------------------------------


class SmsConfig(_Config):
    to: str = "{{ contact.phone }}"
    from_: str | None = Field(default=None, alias="from")
    body: str


@step(
    category="messaging",
    label="Send SMS",
    description="Send a text message.",
    ports=("sent", "failed"),
    success_port="sent",
    failure_port="failed",
    action=True,
    activity=True,
    reaches_contact=True,
    takes_time=True,
    local="sandbox",
    provider="sms",
    cost="sms",
)
class SmsNode(ActionNodeBase):
    type: Literal["sms"]
    config: SmsConfig


class WhatsappConfig(_Config):
    to: str = "{{ contact.phone }}"
    from_: str | None = Field(default=None, alias="from")
    template: str
    params: dict[str, str] = Field(default_factory=dict)
    language: str | None = None


@step(
    category="messaging",
    label="Send WhatsApp",
    description="Send an approved WhatsApp template.",
    ports=("sent", "failed"),
    success_port="sent",
    failure_port="failed",
    action=True,
    activity=True,
    reaches_contact=True,
    takes_time=True,
    local="sandbox",
    provider="whatsapp",
    cost="whatsapp",
)
class WhatsappNode(ActionNodeBase):
    type: Literal["whatsapp"]
    config: WhatsappConfig


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


@step(
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
)
class SendAndWaitNode(ActionNodeBase):
    type: Literal["send_and_wait"]
    config: SendAndWaitConfig


class EmailConfig(_Config):
    to: str
    subject: str | None = None
    body: str | None = None
    html: str | None = None
    template: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    connection: str | None = Field(default=None, min_length=1, max_length=100)
    """A `sendgrid` connection to send through (SendGrid's v3 API) instead of the
    deployment's email provider (SMTP); the sandbox still only records it."""

    @property
    def integration(self) -> str | None:
        """The integration of the connection it names (`schemas.connections.step_integration`)."""
        return "sendgrid" if self.connection else None

    @model_validator(mode="after")
    def _content(self) -> EmailConfig:
        if not self.template and not (self.body or self.html):
            raise ValueError("email needs `body`, `html` or a stored `template`")
        if not self.template and not self.subject:
            raise ValueError("email needs a `subject` unless it uses a stored `template`")
        return self


@step(
    category="messaging",
    label="Send email",
    description="Send an email, written here or from a stored template.",
    ports=("sent", "failed"),
    success_port="sent",
    failure_port="failed",
    action=True,
    activity=True,
    reaches_contact=True,
    takes_time=True,
    local="sandbox",
    provider="email",
    cost="email",
)
class EmailNode(ActionNodeBase):
    type: Literal["email"]
    config: EmailConfig


# --- data steps --------------------------------------------------------------------------


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
    connection: str | None = Field(default=None, min_length=1, max_length=100)
    """An `http` connection (`/api/connections`) whose credentials the request presents
    (`Authorization`, or its API key header), in place of a secret in `headers`."""


@step(
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
    saves="body",
)
class HttpNode(ActionNodeBase):
    type: Literal["http"]
    config: HttpConfig


class CrmUpdateConfig(_Config):
    webhook_url: str = Field(min_length=1)
    entity: Literal["lead", "deal", "contact", "company"] = "lead"
    id: str
    fields: dict[str, Any] = Field(min_length=1)
    idempotency_header: IdempotencyHeader = IDEMPOTENCY_HEADER


@step(
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
)
class CrmUpdateNode(ActionNodeBase):
    type: Literal["crm_update"]
    config: CrmUpdateConfig


class SetConfig(_Config):
    assign: dict[str, Any] = Field(min_length=1)


@step(
    category="data",
    label="Set variables",
    description="Give variables a value, for the steps that follow.",
    ports=("next",),
    awaits=False,
)
class SetNode(_NodeBase):
    type: Literal["set"]
    config: SetConfig


class TagConfig(_Config):
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


@step(
    category="data",
    label="Tag contact",
    description="Add or remove tags on the contact (DNC stops what reaches them).",
    ports=("next",),
    success_port="next",
    action=True,
    activity=True,
    local="always",
)
class TagNode(ActionNodeBase):
    type: Literal["tag"]
    config: TagConfig


# --- connector steps (issue 16): a vendor's API through a named connection ---------------


ConnectionName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="The name of the tenant's connection (`/api/connections`) holding the "
        "credentials; a secret never goes in a step's config.",
    ),
]


class SlackConfig(_Config):
    connection: ConnectionName
    action: Literal["post_message"] = "post_message"
    channel: str = Field(min_length=1)
    """A channel id (`C…`), a `#name`, or a user id for a direct message."""
    text: str | None = None
    """The message, and the notification's text when `blocks` are given."""
    blocks: list[dict[str, Any]] | str | None = None
    """Block Kit blocks (or a template giving a list of them)."""
    thread_ts: str | None = None
    """Reply in the thread of this message."""

    @model_validator(mode="after")
    def _text_or_blocks(self) -> SlackConfig:
        if not self.text and not self.blocks:
            raise ValueError("a Slack message needs `text` or `blocks`")
        return self


@step(
    category="messaging",
    label="Slack message",
    description="Post a message (text or Block Kit) to a Slack channel.",
    ports=("sent", "failed"),
    success_port="sent",
    failure_port="failed",
    action=True,
    activity=True,
    takes_time=True,
    native_fields=frozenset({"blocks"}),
    integration="slack",
)
class SlackNode(ActionNodeBase):
    type: Literal["slack"]
    config: SlackConfig


class CardFact(_Config):
    name: str
    value: str


class TeamsConfig(_Config):
    connection: ConnectionName
    action: Literal["post_card"] = "post_card"
    title: str = Field(min_length=1)
    text: str | None = None
    facts: list[CardFact] = Field(default_factory=list)
    card: Literal["adaptive", "message_card"] = "adaptive"
    """An Adaptive Card (Teams workflows' webhooks) or a legacy MessageCard (Office 365
    connectors' incoming webhooks)."""


@step(
    category="messaging",
    label="Teams card",
    description="Post a card with a title, text and facts to a Microsoft Teams channel.",
    ports=("sent", "failed"),
    success_port="sent",
    failure_port="failed",
    action=True,
    activity=True,
    takes_time=True,
    integration="teams",
)
class TeamsNode(ActionNodeBase):
    type: Literal["teams"]
    config: TeamsConfig


MAX_QUERY_ROWS = 1000
QUERY_CONNECT_S = 10
"""How long a `postgresql` step waits to connect to the database."""


class PostgresqlConfig(_Config):
    connection: ConnectionName
    action: Literal["query"] = "query"
    sql: str = Field(min_length=1, max_length=20_000)
    """One statement; values go in as `:name` parameters from `params`, never into the text."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Each `:name`'s value; templates here keep their type (`{{ contact.id }}`)."""
    max_rows: int = Field(default=100, ge=1, le=MAX_QUERY_ROWS)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    """The statement's timeout (PostgreSQL's `statement_timeout`)."""
    save_as: str | None = None
    """Put the rows in `vars.<save_as>`."""

    @field_validator("sql")
    @classmethod
    def _no_template(cls, value: str) -> str:
        # A template would put run data into the SQL text: an injection waiting to happen.
        if "{{" in value or "{%" in value:
            raise ValueError("sql may not hold templates: pass values as `:name` in `params`")
        return value


@step(
    category="data",
    label="PostgreSQL query",
    description="Run a parameterised SQL query; its rows are in the step's result.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    native_fields=frozenset({"params"}),
    integration="postgresql",
    saves="rows",
)
class PostgresqlNode(ActionNodeBase):
    type: Literal["postgresql"]
    config: PostgresqlConfig


STRIPE_FIELDS: dict[str, tuple[str, ...]] = {
    "find_customer": ("email",),
    "get_payment_intent": ("payment_intent",),
    "create_refund": ("payment_intent",),
}
"""What each Stripe action needs."""


class StripeConfig(_Config):
    connection: ConnectionName
    action: Literal["find_customer", "get_payment_intent", "create_refund"]
    email: str | None = None
    """find_customer: the customer's email."""
    payment_intent: str | None = None
    """get_payment_intent, create_refund: the PaymentIntent's id (`pi_…`)."""
    amount: int | str | None = None
    """create_refund: in the currency's smallest unit (cents); the whole payment if unset."""
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None
    """create_refund: why, as Stripe records it."""

    @model_validator(mode="after")
    def _action_fields(self) -> StripeConfig:
        missing = [name for name in STRIPE_FIELDS[self.action] if not getattr(self, name)]
        if missing:
            raise ValueError(f"Stripe's {self.action} needs `{'`, `'.join(missing)}`")
        return self


@step(
    category="data",
    label="Stripe",
    description="Find a customer, read a payment or refund it on Stripe.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    integration="stripe",
)
class StripeNode(ActionNodeBase):
    type: Literal["stripe"]
    config: StripeConfig


def _needs_for_action(config: BaseModel, needs: Mapping[str, tuple[str, ...]], vendor: str) -> None:
    """Refuse a connector's config that lacks what its `action` needs (`needs[action]`)."""
    action = str(getattr(config, "action", ""))
    missing = [name for name in needs.get(action, ()) if getattr(config, name) in (None, "", [])]
    if missing:
        raise ValueError(f"{vendor}'s {action} needs `{'`, `'.join(missing)}`")


SHOPIFY_FIELDS: dict[str, tuple[str, ...]] = {
    "get_order": ("order_id",),
    "add_tags": ("order_id", "tags"),
    "add_note": ("order_id", "note"),
}


class ShopifyConfig(_Config):
    connection: ConnectionName
    action: Literal["get_order", "add_tags", "add_note"]
    order_id: int | str | None = None
    """The order's numeric id (the number in its admin URL), or its `gid://shopify/Order/…`."""
    tags: list[str] = Field(default_factory=list, max_length=50)
    """add_tags: tags to add (those the order has already are left alone)."""
    note: str | None = Field(default=None, max_length=5000)
    """add_note: a line added to the order's note (kept once, however often it is sent)."""

    @model_validator(mode="after")
    def _action_fields(self) -> ShopifyConfig:
        _needs_for_action(self, SHOPIFY_FIELDS, "Shopify")
        if any("," in tag for tag in self.tags):
            raise ValueError("a Shopify tag cannot contain a comma")
        return self


@step(
    category="data",
    label="Shopify",
    description="Read an order on Shopify, or add tags or a note to it.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    integration="shopify",
)
class ShopifyNode(ActionNodeBase):
    type: Literal["shopify"]
    config: ShopifyConfig


class HubspotConfig(_Config):
    connection: ConnectionName
    action: Literal["upsert_contact", "add_note"]
    email: str | None = Field(default=None, max_length=320)
    """upsert_contact: the contact's email, by which it is found; add_note: the contact's, when
    no `contact_id` is given."""
    properties: dict[str, Any] = Field(default_factory=dict)
    """upsert_contact: HubSpot property names (`firstname`, `lifecyclestage`, …) and values."""
    contact_id: int | str | None = None
    """add_note: the contact's HubSpot id."""
    note: str | None = Field(default=None, max_length=65_536)
    """add_note: the note's body (`hs_note_body`)."""

    @model_validator(mode="after")
    def _action_fields(self) -> HubspotConfig:
        needs = {"upsert_contact": ("email",), "add_note": ("note",)}
        _needs_for_action(self, needs, "HubSpot")
        if self.action == "add_note" and self.contact_id in (None, "") and not self.email:
            raise ValueError("HubSpot's add_note needs `contact_id` or `email`")
        return self


@step(
    category="data",
    label="HubSpot",
    description="Create or update a HubSpot contact by email, or add a note to a contact.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    native_fields=frozenset({"properties"}),
    integration="hubspot",
)
class HubspotNode(ActionNodeBase):
    type: Literal["hubspot"]
    config: HubspotConfig


SALESFORCE_FIELDS: dict[str, tuple[str, ...]] = {
    "create": (),
    "update": ("record_id",),
    "upsert": ("external_id_field", "external_id"),
}


class SalesforceConfig(_Config):
    connection: ConnectionName
    action: Literal["create", "update", "upsert"]
    object: Literal["Lead", "Contact"] = "Lead"
    fields: dict[str, Any] = Field(min_length=1)
    """The record's field API names (`LastName`, `Company`, `Email`, `My_Field__c`) and values."""
    record_id: str | None = None
    """update: the record's Salesforce id (15 or 18 characters)."""
    external_id_field: str | None = Field(
        default=None, max_length=80, pattern=r"^[A-Za-z][A-Za-z0-9_]*$"
    )
    """upsert: a field marked External ID on the object (`External_Id__c`)."""
    external_id: int | str | None = None
    """upsert: its value: the record that has it is updated, else one is created."""

    @model_validator(mode="after")
    def _action_fields(self) -> SalesforceConfig:
        _needs_for_action(self, SALESFORCE_FIELDS, "Salesforce")
        return self


@step(
    category="data",
    label="Salesforce",
    description="Create or update a Salesforce Lead or Contact.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    native_fields=frozenset({"fields"}),
    integration="salesforce",
)
class SalesforceNode(ActionNodeBase):
    type: Literal["salesforce"]
    config: SalesforceConfig


class ZendeskConfig(_Config):
    connection: ConnectionName
    action: Literal["create_ticket", "update_ticket"]
    ticket_id: int | str | None = None
    """update_ticket: the ticket's number."""
    subject: str | None = Field(default=None, max_length=500)
    """create_ticket: the ticket's subject."""
    comment: str | None = Field(default=None, max_length=65_536)
    """create_ticket: its description (the first comment); update_ticket: a comment to add."""
    public: bool = True
    """Whether the comment is public (seen by the requester) or an internal note."""
    requester_email: str | None = Field(default=None, max_length=320)
    """create_ticket: who asks (Zendesk makes the user if it is new); default the agent."""
    requester_name: str | None = Field(default=None, max_length=255)
    status: Literal["new", "open", "pending", "hold", "solved", "closed"] | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    """create_ticket: its tags; update_ticket: tags added to those it has."""

    @model_validator(mode="after")
    def _action_fields(self) -> ZendeskConfig:
        needs = {"create_ticket": ("subject", "comment"), "update_ticket": ("ticket_id",)}
        _needs_for_action(self, needs, "Zendesk")
        changes = (self.comment, self.status, self.priority, self.tags)
        if self.action == "update_ticket" and not any(changes):
            raise ValueError(
                "Zendesk's update_ticket needs a `comment`, `status`, `priority` or `tags`"
            )
        return self


@step(
    category="data",
    label="Zendesk",
    description="Create a Zendesk ticket, or update one (status, priority, tags, a comment).",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    integration="zendesk",
)
class ZendeskNode(ActionNodeBase):
    type: Literal["zendesk"]
    config: ZendeskConfig


JIRA_FIELDS: dict[str, tuple[str, ...]] = {
    "create_issue": ("project", "summary"),
    "add_comment": ("issue", "comment"),
}
"""What each Jira action needs."""


class JiraConfig(_Config):
    connection: ConnectionName
    action: Literal["create_issue", "add_comment"]
    project: str | None = None
    """create_issue: the project's key (`SUP`) or id."""
    issue_type: str = Field(default="Task", min_length=1, max_length=100)
    """create_issue: the issue type's name in that project (`Task`, `Bug`, `Story`)."""
    summary: str | None = None
    """create_issue: the issue's one-line title."""
    description: str | None = None
    """create_issue: plain text (blank lines part paragraphs), sent as an ADF document."""
    labels: list[str] | str = Field(default_factory=list)
    """create_issue: labels (no spaces, as Jira requires), or a template giving a list."""
    fields: dict[str, Any] = Field(default_factory=dict)
    """create_issue: more of Jira's issue fields, as its API takes them
    (`{"priority": {"name": "High"}}`); templates here keep their type."""
    issue: str | None = None
    """add_comment: the issue's key (`SUP-42`) or id."""
    comment: str | None = None
    """add_comment: plain text, sent as an ADF document."""

    @model_validator(mode="after")
    def _action_fields(self) -> JiraConfig:
        missing = [name for name in JIRA_FIELDS[self.action] if not getattr(self, name)]
        if missing:
            raise ValueError(f"Jira's {self.action} needs `{'`, `'.join(missing)}`")
        return self


@step(
    category="data",
    label="Jira",
    description="Create a Jira issue, or comment on one.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    native_fields=frozenset({"labels", "fields"}),
    integration="jira",
)
class JiraNode(ActionNodeBase):
    type: Literal["jira"]
    config: JiraConfig


ODOO_FIELDS: dict[str, tuple[str, ...]] = {
    "read": ("ids",),
    "search_read": (),
    "create": ("values",),
    "write": ("ids", "values"),
}
"""What each Odoo action needs besides `model`."""
MAX_ODOO_RECORDS = 1000


class OdooConfig(_Config):
    connection: ConnectionName
    action: Literal["read", "search_read", "create", "write"]
    model: str = Field(min_length=1, max_length=200, pattern=r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$")
    """The record's model, as Odoo names it (`res.partner`, `crm.lead`, `sale.order`)."""
    ids: list[int] | int | str | None = None
    """read, write: the record ids (a number, a list, or a template giving either)."""
    domain: list[Any] | str = Field(default_factory=list)
    """search_read: Odoo's domain (`[["email", "=", "{{ contact.email }}"]]`); empty: all."""
    fields: list[str] = Field(default_factory=list)
    """read, search_read: the fields to return; empty: all of them (Odoo's default)."""
    values: dict[str, Any] | str | None = None
    """create, write: the fields to set (templates keep their type)."""
    limit: int = Field(default=80, ge=1, le=MAX_ODOO_RECORDS)
    """search_read: at most this many records."""
    save_as: str | None = None
    """read, search_read: put the records in `vars.<save_as>`."""

    @model_validator(mode="after")
    def _action_fields(self) -> OdooConfig:
        missing = [n for n in ODOO_FIELDS[self.action] if getattr(self, n) in (None, "", [], {})]
        if missing:
            raise ValueError(f"Odoo's {self.action} needs `{'`, `'.join(missing)}`")
        return self


@step(
    category="data",
    label="Odoo",
    description="Read, find, create or update a record in Odoo (JSON-RPC).",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    native_fields=frozenset({"ids", "domain", "values"}),
    integration="odoo",
    saves="records",
)
class OdooNode(ActionNodeBase):
    type: Literal["odoo"]
    config: OdooConfig


# --- AI steps (issue 16): an OpenAI-compatible chat-completions API through a connection --


class _AiConfig(_Config):
    connection: ConnectionName
    """An `openai` connection: the endpoint's base URL, its key, a model and its prices."""
    model: str | None = Field(default=None, min_length=1, max_length=200)
    """The model to ask; default the connection's."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    """At most this many tokens in the answer; default the endpoint's."""


class AiGenerateConfig(_AiConfig):
    prompt: str = Field(min_length=1)
    """The user message: a template over the run's variables."""
    system: str | None = None
    """The system message (a template too)."""
    output: Literal["text", "json"] = "text"
    """`json`: the answer must be JSON (the endpoint is asked for a JSON object), and match
    `json_schema` when one is given; the parsed value is the step's `output`."""
    json_schema: dict[str, Any] | None = None
    """A JSON Schema the answer must satisfy (with `output: json`)."""
    save_as: str | None = None
    """Put the answer (`output`) in `vars.<save_as>`."""

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and (problem := schema_problem(value)) is not None:
            raise ValueError(f"json_schema is not a valid JSON Schema: {problem}")
        return value

    @model_validator(mode="after")
    def _schema_needs_json(self) -> AiGenerateConfig:
        if self.json_schema is not None and self.output != "json":
            raise ValueError("json_schema needs `output: json`")
        return self


@step(
    category="data",
    label="AI generate",
    description="Ask a language model; its answer (text or JSON) is in the step's result.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    native_fields=frozenset({"json_schema"}),
    integration="openai",
    saves="output",
)
class AiGenerateNode(ActionNodeBase):
    type: Literal["ai_generate"]
    config: AiGenerateConfig


class AiClassifyConfig(_AiConfig):
    text: str = Field(min_length=1)
    """What to classify: a template over the run's variables."""
    labels: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=2, max_length=100
    )
    """The answer is exactly one of them (`steps.<id>.label`), for a `split` to route on."""
    instructions: str | None = None
    """What the labels mean, or how to choose (added to the model's instructions)."""
    temperature: float | None = Field(default=0.0, ge=0, le=2)

    @field_validator("labels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len({label.strip().casefold() for label in value}) != len(value):
            raise ValueError("labels must differ (ignoring case and surrounding spaces)")
        return value


@step(
    category="data",
    label="AI classify",
    description="Have a language model pick one of the labels for a text, with a confidence.",
    ports=("success", "error"),
    success_port="success",
    failure_port="error",
    action=True,
    activity=True,
    takes_time=True,
    integration="openai",
)
class AiClassifyNode(ActionNodeBase):
    type: Literal["ai_classify"]
    config: AiClassifyConfig


# --- logic steps -------------------------------------------------------------------------


class ConditionConfig(_Config):
    when: Condition


@step(
    category="logic",
    label="Condition",
    description="Go one way if a condition holds, the other if not.",
    ports=("true", "false"),
    awaits=False,
)
class ConditionNode(_NodeBase):
    type: Literal["condition"]
    config: ConditionConfig


class SplitCase(_Config):
    port: str = Field(min_length=1)
    when: Condition


class SplitConfig(_Config):
    cases: list[SplitCase] = Field(min_length=1)


@step(
    category="logic",
    label="Split",
    description="Go the way of the first case that holds, else `else`.",
    awaits=False,
)
class SplitNode(_NodeBase):
    type: Literal["split"]
    config: SplitConfig

    def outcome_ports(self) -> tuple[str, ...]:
        return (*(case.port for case in self.config.cases), "else")


class AbVariant(_Config):
    port: str = Field(min_length=1)
    weight: float = Field(gt=0, le=1_000_000)


class AbSplitConfig(_Config):
    variants: list[AbVariant] = Field(min_length=2)


@step(
    category="logic",
    label="A/B split",
    description="Send each execution down one variant, by weight.",
    awaits=False,
)
class AbSplitNode(_NodeBase):
    type: Literal["ab_split"]
    config: AbSplitConfig

    def outcome_ports(self) -> tuple[str, ...]:
        return tuple(variant.port for variant in self.config.variants)


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


@step(
    category="logic",
    label="Wait",
    description="Wait for a time, until a date, or until business hours open.",
    ports=("next",),
    pauses=True,
    takes_time=True,
    awaits=False,  # only while its time is ahead, which it tells the walk itself
)
class WaitNode(_NodeBase):
    type: Literal["wait"]
    config: WaitConfig


class WaitForConfig(_Config):
    event: str = Field(min_length=1)
    timeout_s: int | None = Field(default=None, ge=1, le=MAX_TIMEOUT_S)
    """How long to wait for the event; at most a year."""


@step(
    category="logic",
    label="Wait for event",
    description="Wait until an event is sent to the execution.",
    ports=("received", "timeout"),
    pauses=True,
    takes_time=True,
)
class WaitForNode(_NodeBase):
    type: Literal["wait_for"]
    config: WaitForConfig


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


@step(
    category="logic",
    label="Loop",
    description="Run the `body` branch for each item, a number of times, or while.",
    ports=("body", "done"),
    awaits=False,
)
class LoopNode(_NodeBase):
    type: Literal["loop"]
    config: LoopConfig


class ParallelConfig(_Config):
    branches: list[str] = Field(min_length=1)
    join: Literal["all", "any"] = "all"


@step(
    category="logic",
    label="Parallel",
    description="Run branches at the same time; go on when all (or any) end.",
    ports=("next", "error"),
    failure_port="error",
    awaits=False,
)
class ParallelNode(_NodeBase):
    type: Literal["parallel"]
    config: ParallelConfig


class SubflowConfig(_Config):
    flow_id: str
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)
    """A version number, as the database stores it (a 32-bit integer)."""
    input: dict[str, Any] = Field(default_factory=dict)


@step(
    category="logic",
    label="Subflow",
    description="Run another published flow and wait for it to end.",
    ports=("success", "failed"),
    success_port="success",
    failure_port="failed",
    action=True,
    takes_time=True,
)
class SubflowNode(_NodeBase):
    type: Literal["subflow"]
    config: SubflowConfig


class EndConfig(_Config):
    status: Literal["completed", "failed"] = "completed"
    reason: str | None = None


@step(
    category="logic",
    label="End",
    description="End the execution, completed or failed.",
)
class EndNode(_NodeBase):
    type: Literal["end"]
    config: EndConfig = Field(default_factory=EndConfig)


# --- people steps ------------------------------------------------------------------------


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


@step(
    category="people",
    label="Human task",
    description="Wait for an agent to complete a form.",
    ports=("completed", "timeout"),
    pauses=True,
    takes_time=True,
)
class HumanTaskNode(_NodeBase):
    type: Literal["human_task"]
    config: HumanTaskConfig


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
    | SlackNode
    | TeamsNode
    | PostgresqlNode
    | StripeNode
    | ShopifyNode
    | HubspotNode
    | SalesforceNode
    | ZendeskNode
    | JiraNode
    | OdooNode
    | WaitNode
    | WaitForNode
    | SetNode
    | AbSplitNode
    | LoopNode
    | ParallelNode
    | SubflowNode
    | HumanTaskNode
    | TagNode
    | AiGenerateNode
    | AiClassifyNode
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
