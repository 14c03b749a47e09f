"""The interpreter's pure decisions, without a server."""

from __future__ import annotations

from collections import Counter

from schemas.flow import AbSplitConfig, FlowDocument
from workflows.routing import choose_variant, failure_port, retry_policy_of, timeout_of


def _node(**fields: object) -> object:
    doc = FlowDocument.model_validate(
        {
            "start": "n",
            "nodes": [{"id": "n", "type": "http", "config": {"url": "https://x"}, **fields}],
        }
    )
    return doc.nodes[0]


def test_error_transition_wins_over_the_own_failure_port() -> None:
    assert failure_port(_node(transitions={"error": "a"})) == "error"  # type: ignore[arg-type]


def test_continue_on_error_follows_the_success_port() -> None:
    assert failure_port(_node(continue_on_error=True)) == "success"  # type: ignore[arg-type]


def test_unrouted_failure_has_no_port() -> None:
    assert failure_port(_node(transitions={"success": "a"})) is None  # type: ignore[arg-type]


def test_variants_follow_their_weights_and_are_stable() -> None:
    config = AbSplitConfig.model_validate(
        {"variants": [{"port": "a", "weight": 80}, {"port": "b", "weight": 20}]}
    )
    picks = Counter(
        choose_variant(config, execution_id=f"e{i}", node_id="n", visit=1) for i in range(2000)
    )
    assert 1500 < picks["a"] < 1700
    assert choose_variant(config, execution_id="e1", node_id="n", visit=1) == choose_variant(
        config, execution_id="e1", node_id="n", visit=1
    )


def test_retry_and_timeout_come_from_the_node_or_the_http_config() -> None:
    node = _node(retry={"max_attempts": 5, "delay_s": 2, "backoff": 3})
    policy = retry_policy_of(node)  # type: ignore[arg-type]
    assert (policy.maximum_attempts, policy.initial_interval.total_seconds()) == (5, 2.0)
    assert policy.backoff_coefficient == 3
    http = FlowDocument.model_validate(
        {
            "start": "n",
            "nodes": [
                {
                    "id": "n",
                    "type": "http",
                    "config": {"url": "https://x", "timeout_s": 3, "retry": {"max_attempts": 2}},
                }
            ],
        }
    ).nodes[0]
    assert retry_policy_of(http).maximum_attempts == 2
    assert timeout_of(http).total_seconds() == 8
