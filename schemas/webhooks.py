"""Outgoing webhooks: the events one can subscribe to, how a subscription matches them, and
what the delivery workflow and its activities exchange."""

from __future__ import annotations

from pydantic import BaseModel

EVENT_TYPES: tuple[str, ...] = (
    "flow.published",
    "flow.assigned",
    "flow.started",
    "flow.step.started",
    "flow.step.completed",
    "flow.step.failed",
    "flow.completed",
    "flow.failed",
    "flow.cancelled",
    "flow.skipped",
    "webhook.disabled",
)
"""SPEC §5's events, and the one a webhook disabled after repeated failure raises."""

WEBHOOK_DISABLED = "webhook.disabled"
WORKFLOW_NAME = "WebhookDeliveries"
ACTIVITY_PENDING = "webhook_pending"
ACTIVITY_SEND = "webhook_send"
ACTIVITY_GIVE_UP = "webhook_give_up"


def workflow_id(webhook_id: str) -> str:
    """One delivery workflow per webhook."""
    return f"webhook-{webhook_id}"


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` can match no event (None when it can): an event name, `prefix.*` or `*`."""
    if pattern == "*" or pattern in EVENT_TYPES:
        return None
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        if "*" not in prefix and any(t.startswith(prefix) for t in EVENT_TYPES):
            return None
        return f"{pattern!r} matches no event"
    return f"unknown event {pattern!r}: one of {', '.join(EVENT_TYPES)}, 'prefix.*' or '*'"


def matches(patterns: list[str], event_type: str) -> bool:
    """Whether an event of this type goes to a webhook subscribed to `patterns`.

    `*` is every event; `flow.*` every event whose name begins with `flow.` (so
    `flow.step.started` too); any other pattern is one event's name.
    """
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


class RetryPlan(BaseModel):
    """How one delivery is retried: backoff from `initial_s`, doubling up to `max_interval_s`,
    for `retry_for_s` in all; the webhook is disabled after `disable_after` deliveries in a
    row that exhausted it."""

    initial_s: float = 5.0
    max_interval_s: float = 3600.0
    retry_for_s: float = 86400.0
    timeout_s: float = 15.0
    disable_after: int = 5


class DeliveriesInput(BaseModel):
    webhook_id: str
    tenant_id: str
    plan: RetryPlan


class PendingInput(BaseModel):
    webhook_id: str
    skip: list[str] = []
    """Deliveries the workflow holds already."""
    limit: int = 100


class PendingDelivery(BaseModel):
    id: str
    lane: str
    """Deliveries of one lane (one execution, or one event without one) go in order."""


class PendingBatch(BaseModel):
    active: bool
    """False when the webhook was deleted or disabled: the workflow stops."""
    deliveries: list[PendingDelivery]


class SendInput(BaseModel):
    delivery_id: str
    timeout_s: float


class GiveUpInput(BaseModel):
    delivery_id: str
    error: str
    disable_after: int


class GiveUpOutcome(BaseModel):
    disabled: bool
