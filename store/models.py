"""The tables. Ids are opaque strings; JSON columns hold documents; times are aware UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on every backend (SQLite keeps no zone)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_type=sa.JSON, nullable=nullable)


def _time(nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


class Tenant(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    business_hours: dict[str, Any] | None = _json()
    created_at: datetime = _time()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    prefix: str = Field(index=True, max_length=16)
    """The first characters of the secret, to find the row without storing the secret."""
    secret_hash: str = Field(max_length=128)
    operator: bool = False
    created_at: datetime = _time()
    revoked_at: datetime | None = _time(nullable=True)
    last_used_at: datetime | None = _time(nullable=True)
    campaign_ids: list[str] | None = _json()
    """The campaigns whose recordings this key may read; null: every campaign."""


class Flow(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "priority", name="uq_flow_priority"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    description: str | None = None
    enabled: bool = True
    priority: int | None = None
    trigger: dict[str, Any] | None = _json()
    business_hours: dict[str, Any] | None = _json()
    cooldown_minutes: int = 60
    published_version: int | None = None
    deleted_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class FlowVersion(SQLModel, table=True):
    __tablename__ = "flow_version"
    __table_args__ = (sa.UniqueConstraint("flow_id", "number", name="uq_flow_version_number"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    flow_id: str = Field(foreign_key="flow.id", index=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    number: int
    status: str = Field(default="draft", max_length=16)
    """draft, published or archived."""
    definition: dict[str, Any] = Field(sa_type=sa.JSON, nullable=False)
    change_notes: str | None = None
    created_by: str | None = Field(default=None, max_length=200)
    rolled_back_from: int | None = None
    created_at: datetime = _time()
    published_at: datetime | None = _time(nullable=True)


class Execution(SQLModel, table=True):
    __table_args__ = (
        # A page, newest first: a range scan of the tenant's rows, never a sort of all of them.
        sa.Index("ix_execution_page", "tenant_id", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    flow_id: str = Field(foreign_key="flow.id", index=True, max_length=32)
    version: int
    status: str = Field(default="pending", index=True, max_length=16)
    workflow_id: str = Field(index=True, max_length=200)
    contact: dict[str, Any] | None = _json()
    contact_name: str | None = Field(default=None, index=True, max_length=200)
    contact_phone: str | None = Field(default=None, index=True, max_length=32)
    trigger: dict[str, Any] | None = _json()
    variables: dict[str, Any] | None = _json()
    context: dict[str, Any] | None = _json()
    """The last known `vars` and `steps`, written at waits and at the end."""
    test: bool = Field(default=False, index=True)
    reason: str | None = None
    current_node: str | None = Field(default=None, max_length=64)
    retry_of: str | None = Field(default=None, max_length=32)
    parent_execution_id: str | None = Field(default=None, index=True, max_length=32)
    contact_id: str | None = Field(default=None, index=True, max_length=32)
    match: dict[str, Any] | None = _json()
    """For triggered runs: the flow that matched, the losing candidates and why."""
    campaign_id: str | None = Field(default=None, index=True, max_length=32)
    """The campaign the execution (and its calls' recordings) belongs to."""
    launch: dict[str, Any] | None = _json()
    """How its workflow starts (`schemas.execution.Launch`) while that start is unconfirmed:
    set with the row, cleared by the workflow's first progress or by the start sweeper."""
    created_at: datetime = _time(index=True)
    started_at: datetime | None = _time(nullable=True)
    ended_at: datetime | None = _time(nullable=True)
    updated_at: datetime = _time()


class ExecutionStep(SQLModel, table=True):
    __tablename__ = "execution_step"
    __table_args__ = (sa.UniqueConstraint("execution_id", "seq", name="uq_execution_step_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    execution_id: str = Field(foreign_key="execution.id", index=True, max_length=32)
    tenant_id: str = Field(index=True, max_length=32)
    seq: int
    node_id: str = Field(max_length=64)
    node_type: str = Field(max_length=32)
    status: str = Field(max_length=16)
    port: str | None = Field(default=None, max_length=64)
    attempt: int = 1
    started_at: datetime = _time()
    ended_at: datetime | None = _time(nullable=True)
    duration_ms: int | None = None
    result: dict[str, Any] | None = _json()
    error: str | None = None
    skip_reason: str | None = None


class OutboxMessage(SQLModel, table=True):
    """What the sandbox providers would have sent, and the idempotency record of real sends."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        # A page, newest first: a range scan of the tenant's rows, never a sort of all of them.
        sa.Index("ix_outbox_message_page", "tenant_id", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(index=True, max_length=32)
    execution_id: str | None = Field(default=None, index=True, max_length=32)
    node_id: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=16)
    provider: str = Field(default="sandbox", max_length=16)
    to: str = Field(max_length=320)
    subject: str | None = None
    content: dict[str, Any] | None = _json()
    status: str = Field(default="sent", max_length=16)
    provider_id: str | None = Field(default=None, max_length=64)
    idempotency_key: str = Field(unique=True, max_length=128)
    created_at: datetime = _time(index=True)


class Event(SQLModel, table=True):
    """The event log behind the SSE stream, outgoing webhooks and the timeline."""

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(index=True, max_length=32)
    type: str = Field(max_length=64)
    flow_id: str | None = Field(default=None, max_length=32)
    execution_id: str | None = Field(default=None, index=True, max_length=32)
    node_id: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] | None = _json()
    created_at: datetime = _time()


class Contact(SQLModel, table=True):
    """A lead or customer. One per phone number (E.164) in a tenant, when it has one."""

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "phone", name="uq_contact_phone"),
        # A page, newest first: a range scan of the tenant's rows, never a sort of all of them.
        sa.Index("ix_contact_page", "tenant_id", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, index=True, max_length=320)
    lead_source: str | None = Field(default=None, max_length=64)
    entry_type: str | None = Field(default=None, max_length=32)
    tags: list[str] | None = _json()
    custom: dict[str, Any] | None = _json()
    created_at: datetime = _time(index=True)
    updated_at: datetime = _time()


class FlowEntry(SQLModel, table=True):
    """When a contact last entered a flow: the cooldown's lock, one row per flow and contact."""

    __tablename__ = "flow_entry"

    flow_id: str = Field(foreign_key="flow.id", primary_key=True, max_length=32)
    contact_id: str = Field(foreign_key="contact.id", primary_key=True, max_length=32)
    tenant_id: str = Field(index=True, max_length=32)
    execution_id: str | None = Field(default=None, max_length=32)
    entered_at: datetime = _time()


class Template(SQLModel, table=True):
    """A stored email or message template (Jinja2), named per tenant and channel."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "channel", "name", name="uq_template_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    channel: str = Field(max_length=16)
    """email, sms or whatsapp."""
    subject: str | None = None
    body: str | None = None
    html: str | None = None
    created_at: datetime = _time()
    updated_at: datetime = _time()


class PhoneNumber(SQLModel, table=True):
    """A phone number (E.164) of the tenant; a number belongs to one tenant only."""

    __tablename__ = "phone_number"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    number: str = Field(unique=True, max_length=32)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class Department(SQLModel, table=True):
    """Where a call is transferred: its agents, else its queue; outside hours, its overflow."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "name", name="uq_department_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    phone_number: str | None = Field(default=None, max_length=32)
    queue: str | None = Field(default=None, max_length=64)
    business_hours: dict[str, Any] | None = _json()
    overflow_department_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class Agent(SQLModel, table=True):
    """A person who takes transferred calls, by phone or by Twilio Client identity."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    client_identity: str | None = Field(default=None, max_length=200)
    department_ids: list[str] | None = _json()
    skills: list[str] | None = _json()
    status: str = Field(default="offline", index=True, max_length=16)
    """available, busy or offline."""
    status_changed_at: datetime = _time()
    created_at: datetime = _time()
    updated_at: datetime = _time()


class Deployment(SQLModel, table=True):
    """A flow answering a number in an environment; replaced rows stay as history."""

    __table_args__ = (
        # One active deployment per number and environment, enforced by the database.
        sa.Index(
            "uq_deployment_active",
            "phone_number_id",
            "environment",
            unique=True,
            sqlite_where=sa.text("replaced_at IS NULL"),
            postgresql_where=sa.text("replaced_at IS NULL"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    flow_id: str = Field(foreign_key="flow.id", index=True, max_length=32)
    version: int
    phone_number_id: str = Field(foreign_key="phone_number.id", index=True, max_length=32)
    number: str = Field(max_length=32)
    environment: str = Field(max_length=16)
    """production or staging."""
    schedule: dict[str, Any] | None = _json()
    fallback_flow_id: str | None = Field(default=None, max_length=32)
    campaign_id: str | None = Field(default=None, index=True, max_length=32)
    """The campaign calls to this number are recorded with."""
    created_at: datetime = _time(index=True)
    replaced_at: datetime | None = _time(nullable=True)


class QueuedCall(SQLModel, table=True):
    """One routed transfer: a caller waiting in a department's queue, or offered to an agent.

    A transfer dialled straight to an agent is an entry too (created `offered`), so releasing
    the agent and retrying the routing step work the same way for both.
    """

    __tablename__ = "queued_call"
    __table_args__ = (
        # Dispatch: the oldest waiting caller of a department, by priority then arrival.
        sa.Index(
            "ix_queued_call_dispatch",
            "tenant_id",
            "department_id",
            "status",
            "priority",
            "enqueued_at",
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    department_id: str = Field(max_length=32)
    queue: str = Field(max_length=64)
    execution_id: str | None = Field(default=None, index=True, max_length=32)
    call_sid: str = Field(index=True, max_length=64)
    route_key: str | None = Field(default=None, unique=True, max_length=128)
    """The routing step's idempotency key: a retried step finds its entry instead of a new one."""
    priority: int = 5
    """Lower first."""
    skills: list[str] | None = _json()
    context: dict[str, Any] | None = _json()
    """What the agent should know: the caller's path through the flow, free data."""
    status: str = Field(default="waiting", max_length=16)
    """waiting, offered or done."""
    agent_id: str | None = Field(default=None, index=True, max_length=32)
    offer_call: str | None = Field(default=None, max_length=64)
    """An offer from the queue: `pending` from the claim until the agent's call is placed,
    then that call's sid (`sandbox` in sandbox mode). None for a call dialled straight to its
    agent. An offer left `pending` (its dispatch crashed) is swept back into the queue."""
    enqueued_at: datetime = _time()
    offered_at: datetime | None = _time(nullable=True)
    ended_at: datetime | None = _time(nullable=True)
    outcome: str | None = Field(default=None, max_length=32)


class Campaign(SQLModel, table=True):
    """A named body of work (a product launch, a support line) that executions and their
    recordings belong to; keys may be limited to some campaigns' recordings."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "name", name="uq_campaign_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    description: str | None = None
    created_at: datetime = _time()
    updated_at: datetime = _time()


class Recording(SQLModel, table=True):
    """A call recording, stored as a file under the recordings directory of its campaign."""

    __table_args__ = (
        # A page, newest first: a range scan of the tenant's rows, never a sort of all of them.
        sa.Index("ix_recording_page", "tenant_id", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    campaign_id: str | None = Field(
        default=None, foreign_key="campaign.id", index=True, max_length=32
    )
    flow_id: str = Field(foreign_key="flow.id", index=True, max_length=32)
    execution_id: str = Field(foreign_key="execution.id", index=True, max_length=32)
    call_sid: str = Field(index=True, max_length=64)
    recording_sid: str = Field(unique=True, max_length=64)
    duration_s: int | None = None
    content_type: str = Field(max_length=100)
    size_bytes: int
    path: str = Field(max_length=500)
    """Relative to the recordings directory: `<tenant>/<campaign or no-campaign>/<sid>.<ext>`."""
    source_url: str = Field(max_length=2000)
    created_at: datetime = _time(index=True)


class Webhook(SQLModel, table=True):
    """A tenant's subscription to events, delivered to its URL signed with its secret."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    """Event names, `prefix.*` or `*`."""
    description: str | None = None
    active: bool = True
    secret: str = Field(max_length=200)
    """`whsec_` + base64: kept as it is, since signing needs it (a hash could not sign)."""
    failed_in_a_row: int = 0
    """Deliveries in a row whose every retry failed; the webhook is disabled at the limit."""
    disabled_reason: str | None = None
    created_at: datetime = _time()
    updated_at: datetime = _time()


class WebhookDelivery(SQLModel, table=True):
    """One event offered to one webhook: its payload, attempts and outcome."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # The fan-out offers an event once per webhook, however often it reads it.
        sa.UniqueConstraint("webhook_id", "fanout_event_id", name="uq_webhook_delivery_event"),
        sa.Index("ix_webhook_delivery_pending", "webhook_id", "status", "event_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(index=True, max_length=32)
    webhook_id: str = Field(foreign_key="webhook.id", max_length=32)
    event_id: int
    fanout_event_id: int | None = None
    """The event id for the fan-out's rows, null for a redelivery (never deduplicated)."""
    event_type: str = Field(max_length=64)
    execution_id: str | None = Field(default=None, max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    status: str = Field(default="pending", max_length=16)
    """pending, delivered or failed (every retry used)."""
    attempts: int = 0
    response_status: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    created_at: datetime = _time()
    updated_at: datetime = _time()
    delivered_at: datetime | None = _time(nullable=True)


class WebhookCursor(SQLModel, table=True):
    """How far the fan-out has read the event log (a single row)."""

    __tablename__ = "webhook_cursor"

    id: int = Field(default=1, primary_key=True)
    event_id: int = 0


class EventPost(SQLModel, table=True):
    """A posted event under an `Idempotency-Key`: claimed by inserting this row (its primary
    key is the unique claim), then holding the answer that a retry with the key gets again."""

    __tablename__ = "event_post"

    tenant_id: str = Field(foreign_key="tenant.id", primary_key=True, max_length=32)
    idempotency_key: str = Field(primary_key=True, max_length=255)
    event: str = Field(max_length=100)
    fingerprint: str = Field(max_length=64)
    """SHA-256 of the event's name and body: the same key with another request is refused."""
    result: dict[str, Any] | None = _json()
    """The answer, once the post has been handled; null while it is being handled."""
    created_at: datetime = _time()


class EventHook(SQLModel, table=True):
    """A flow's inbound webhook: `POST /webhooks/events/{id}` signed with its secret fires the
    flow's event for that flow, without an API key. One per flow; made anew to rotate it."""

    __tablename__ = "event_hook"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    flow_id: str = Field(foreign_key="flow.id", unique=True, max_length=32)
    secret: str = Field(max_length=200)
    """Kept as it is: checking a signature needs it (a hash could not)."""
    created_at: datetime = _time()


class CampaignFlow(SQLModel, table=True):
    """A flow assigned to a campaign for one of its triggers (`outbound_start`,
    `inbound_start`, `manual`), with a priority, conditions and an active switch; one per
    campaign, flow and trigger."""

    __tablename__ = "campaign_flow"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "flow_id", "trigger", name="uq_campaign_flow"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    campaign_id: str = Field(foreign_key="campaign.id", index=True, max_length=32)
    flow_id: str = Field(foreign_key="flow.id", index=True, max_length=32)
    trigger: str = Field(max_length=32)
    priority: int | None = None
    conditions: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    active: bool = True
    created_at: datetime = _time()
    updated_at: datetime = _time()


class Connection(SQLModel, table=True):
    """A tenant's named credentials for an integration (`schemas.connections`): the secret
    encrypted (`store.vault`), a masked hint of it, and non-secret settings."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "name", name="uq_connection_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=32)
    name: str = Field(max_length=100)
    integration: str = Field(max_length=32)
    auth: str = Field(max_length=32)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    secret_ciphertext: str = Field(sa_type=sa.Text, nullable=False)
    """The secret's JSON, Fernet-encrypted: never the plaintext."""
    secret_hint: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    """Each secret field masked (`schemas.connections.mask`), what the API shows."""
    created_at: datetime = _time()
    updated_at: datetime = _time()
