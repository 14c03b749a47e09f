"""Pure decisions of the interpreter: where a failure goes, which A/B variant, which policy.

Plain functions over the flow document, so unit tests call them without a Temporal server.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from temporalio.common import RetryPolicy as TemporalRetryPolicy

from schemas.flow import (
    QUERY_CONNECT_S,
    AbSplitConfig,
    HttpNode,
    Node,
    PostgresqlNode,
    RecordNode,
    RetryPolicy,
)
from schemas.steps import FAILURE_PORT, SUCCESS_PORT

DEFAULT_RETRY = RetryPolicy(max_attempts=3, delay_s=1.0, backoff=2.0)
RECORDING_RETRY = RetryPolicy(max_attempts=5, delay_s=2.0, backoff=2.0)
"""Storing a recording: Twilio may answer 404 for a moment right after the call."""
DEFAULT_TIMEOUT_S = 30.0


def failure_port(node: Node) -> str | None:
    """The port a failed step leaves by, or None when the failure ends the execution.

    In order: an explicit `error` transition, the step's own failure port (`failed`, `error`),
    and with `continue_on_error` the step's success port, as if it had succeeded.
    """
    if "error" in node.transitions:
        return "error"
    own = FAILURE_PORT.get(node.type)
    if own is not None and own in node.transitions:
        return own
    if node.continue_on_error:
        return SUCCESS_PORT.get(node.type, own)
    return None


def choose_variant(config: AbSplitConfig, *, execution_id: str, node_id: str, visit: int) -> str:
    """A weighted variant, the same every time for one execution, node and visit."""
    digest = hashlib.sha256(f"{execution_id}:{node_id}:{visit}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * sum(v.weight for v in config.variants)
    for variant in config.variants:
        point -= variant.weight
        if point < 0:
            return variant.port
    return config.variants[-1].port


def retry_policy_of(node: Node) -> TemporalRetryPolicy:
    """The node's `retry` (or an HTTP step's `config.retry`) as a Temporal retry policy."""
    policy = node.retry
    if policy is None and isinstance(node, HttpNode):
        policy = node.config.retry
    policy = policy or (RECORDING_RETRY if isinstance(node, RecordNode) else DEFAULT_RETRY)
    return TemporalRetryPolicy(
        initial_interval=timedelta(seconds=max(policy.delay_s, 0.001)),
        backoff_coefficient=policy.backoff,
        maximum_interval=timedelta(seconds=policy.max_delay_s) if policy.max_delay_s else None,
        maximum_attempts=policy.max_attempts,
    )


def timeout_of(node: Node) -> timedelta:
    """How long one attempt of an action step may take."""
    seconds = node.timeout_s
    if seconds is None and isinstance(node, HttpNode) and node.config.timeout_s:
        seconds = node.config.timeout_s + 5  # the request's own timeout fires first
    if seconds is None and isinstance(node, PostgresqlNode):
        # connecting, then the statement's own timeout, which fires first
        seconds = max(DEFAULT_TIMEOUT_S, node.config.timeout_s + QUERY_CONNECT_S + 5)
    return timedelta(seconds=seconds or DEFAULT_TIMEOUT_S)
