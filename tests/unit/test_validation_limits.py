"""Issue 11, validation's side: no flow can wedge an execution or the API that validates it.

Validation takes time in proportion to the flow (counted in Python calls, not timed); flows
over the size limits are refused at once; a zero wait does not break a busy cycle; every number
of a step's config is bounded; a regex RE2 cannot run is refused at its path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.flow import MAX_TIMEOUT_S, MAX_WAIT_S, FlowDocument, HttpNode, WaitNode
from schemas.settings import Settings
from schemas.validation import DEFAULT_LIMITS, FlowLimits, Problem, validate_flow
from workflows.routing import retry_policy_of, timeout_of

END = {"id": "done", "type": "end"}


def only_error(raw: Any, limits: FlowLimits = DEFAULT_LIMITS) -> Problem:
    report, document = validate_flow(raw, limits=limits)
    assert document is None
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


def set_node(index: int, following: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": f"n{index}", "type": "set", "config": {"assign": {"x": index}}}
    if following is not None:
        node["transitions"] = {"next": following}
    return node


# --- linear time --------------------------------------------------------------------------


def busy_cycle(size: int) -> dict[str, Any]:
    return {"start": "n0", "nodes": [set_node(i, f"n{(i + 1) % size}") for i in range(size)]}


def chain(size: int) -> dict[str, Any]:
    following = [f"n{i + 1}" for i in range(size - 2)] + ["done"]
    return {"start": "n0", "nodes": [*(set_node(i, following[i]) for i in range(size - 1)), END]}


def small_cycles(size: int) -> dict[str, Any]:
    """Pairs of nodes that go back and forth: one problem per pair."""
    nodes = [set_node(i, f"n{i ^ 1}") for i in range(size)]
    for i in range(0, size - 2, 2):
        nodes[i]["transitions"] = {"next": f"n{i ^ 1}"}
        nodes[i + 1] = {
            "id": f"n{i + 1}",
            "type": "condition",
            "config": {"when": {"var": "vars.x", "op": "gt", "value": 1}},
            "transitions": {"true": f"n{i}", "false": f"n{i + 2}"},
        }
    return {"start": "n0", "nodes": nodes}


def islands(size: int) -> dict[str, Any]:
    """One node reached from the start, all the others unreachable."""
    return {"start": "n0", "nodes": [set_node(i, None) for i in range(size)]}


def broken(size: int) -> dict[str, Any]:
    """Every node with an unknown config key: one problem each, to locate and convert."""
    document = chain(size)
    for node in document["nodes"][:-1]:
        node["config"]["colour"] = "red"
    return document


def python_calls(validate: Callable[[], object]) -> int:
    """How many Python and C function calls `validate` makes: a measure of work, not time."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += 1

    sys.setprofile(count)
    try:
        validate()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("shape", [busy_cycle, chain, small_cycles, islands, broken])
def test_validation_work_grows_linearly_with_the_flow(
    shape: Callable[[int], dict[str, Any]],
) -> None:
    small, large = shape(500), shape(1000)
    work_small = python_calls(lambda: validate_flow(small))
    work_large = python_calls(lambda: validate_flow(large))
    # Twice the nodes, about twice the work; a search from every node made it four times.
    assert work_large < 2.3 * work_small, (work_small, work_large)


def test_every_busy_cycle_is_still_reported_once_at_its_first_node() -> None:
    report, _ = validate_flow(small_cycles(8))
    assert [(p.path, p.code) for p in report.errors] == [
        ("$.nodes[0]", "unbounded_cycle"),
        ("$.nodes[2]", "unbounded_cycle"),
        ("$.nodes[4]", "unbounded_cycle"),
        ("$.nodes[6]", "unbounded_cycle"),
    ]
    assert "n0 → n1 → n0" in report.errors[0].message
    problem = only_error(busy_cycle(3))
    assert (problem.path, problem.code) == ("$.nodes[0]", "unbounded_cycle")
    assert "n0 → n1 → n2 → n0" in problem.message


# --- size limits --------------------------------------------------------------------------


def test_a_flow_over_the_node_limit_is_refused_at_nodes_without_further_checks() -> None:
    problem = only_error(busy_cycle(DEFAULT_LIMITS.max_nodes + 1))
    assert (problem.path, problem.code) == ("$.nodes", "too_many_nodes")
    assert "2,001 nodes, over the limit of 2,000 (FLOWDECK_MAX_NODES)" in problem.message
    assert validate_flow(chain(DEFAULT_LIMITS.max_nodes))[0].valid

    tight = FlowLimits(max_nodes=10)
    assert validate_flow(chain(10), limits=tight)[0].valid
    assert only_error(chain(11), limits=tight).code == "too_many_nodes"


def test_a_flow_over_the_size_limit_is_refused_at_its_top() -> None:
    document = chain(3)
    document["variables"] = {"blob": "é" * 300_000}  # 600,000 bytes of UTF-8
    problem = only_error(document)
    assert (problem.path, problem.code) == ("$", "too_large")
    assert "over the limit of 524,288 (FLOWDECK_MAX_DEFINITION_BYTES)" in problem.message
    assert "2 MB" in problem.message

    document["variables"] = {"blob": "é" * 250_000}
    assert validate_flow(document)[0].valid
    assert only_error(document, FlowLimits(max_definition_bytes=400_000)).code == "too_large"


def test_a_value_nested_too_deep_is_refused_at_its_path() -> None:
    body: Any = "{{ contact.name }}"
    for _ in range(80):
        body = [body]
    http = {
        "id": "h",
        "type": "http",
        "config": {"url": "https://x.example", "body": body},
        "transitions": {"success": "done", "error": "done"},
    }
    problem = only_error({"start": "h", "nodes": [http, END]})
    assert problem.code == "too_deep"
    assert problem.path.startswith("$.nodes[0].config.body[0][0]")
    assert "nested more than 64" in problem.message


def test_the_limits_are_settings() -> None:
    settings = Settings.model_validate(
        {"FLOWDECK_MAX_NODES": "50", "FLOWDECK_MAX_DEFINITION_BYTES": "65536"}
    )
    assert settings.flow_limits() == FlowLimits(max_nodes=50, max_definition_bytes=65536)
    assert Settings().flow_limits() == DEFAULT_LIMITS


# --- waits of no length --------------------------------------------------------------------


def cycle_through(wait_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": "bump",
        "nodes": [
            {
                "id": "bump",
                "type": "set",
                "config": {"assign": {"n": 1}},
                "transitions": {"next": "pause"},
            },
            {"id": "pause", "type": "wait", "config": wait_config, "transitions": {"next": "bump"}},
        ],
    }


@pytest.mark.parametrize(
    "config",
    [
        {"seconds": 0},
        {"minutes": 0},
        {"hours": 0.0, "days": 0},
        {"seconds": 0, "minutes": 0, "hours": 0, "days": 0},
        {"seconds": 1e-9},  # less than a microsecond: the interpreter starts no timer
    ],
)
def test_a_wait_of_no_length_does_not_break_a_busy_cycle(config: dict[str, Any]) -> None:
    problem = only_error(cycle_through(config))
    assert (problem.path, problem.code) == ("$.nodes[0]", "unbounded_cycle")
    assert "bump → pause → bump" in problem.message
    assert "a wait of no length does not count" in problem.message


@pytest.mark.parametrize(
    "config",
    [
        {"seconds": 1},
        {"seconds": 0, "minutes": 5},
        {"days": 0.5},
        {"until": "{{ vars.next_call }}"},
        {"until_open": True},
    ],
)
def test_a_wait_that_takes_time_or_may_breaks_a_cycle(config: dict[str, Any]) -> None:
    assert validate_flow(cycle_through(config))[0].errors == []


# --- numbers in configs -------------------------------------------------------------------


def flow_with(node: dict[str, Any]) -> dict[str, Any]:
    return {"start": node["id"], "nodes": [node, END]}


def action(node_type: str, config: dict[str, Any], **fields: Any) -> dict[str, Any]:
    port = {"http": "success", "send_and_wait": "reply", "subflow": "success"}[node_type]
    return {
        "id": "a",
        "type": node_type,
        "config": config,
        "transitions": {port: "done", "error": "done"},
        **fields,
    }


HTTP = {"url": "https://crm.example/hook"}


@pytest.mark.parametrize(
    ("node", "path"),
    [
        ({"id": "a", "type": "wait", "config": {"seconds": 1e20}}, "config.seconds"),
        ({"id": "a", "type": "wait", "config": {"minutes": 1e12}}, "config.minutes"),
        ({"id": "a", "type": "wait", "config": {"hours": 10**9}}, "config.hours"),
        ({"id": "a", "type": "wait", "config": {"days": 10**12}}, "config.days"),
        ({"id": "a", "type": "wait", "config": {"days": 3650, "hours": 24}}, "config"),
        ({"id": "a", "type": "wait", "config": {"seconds": float("inf")}}, "config.seconds"),
        ({"id": "a", "type": "wait", "config": {"seconds": float("nan")}}, "config.seconds"),
        (action("http", HTTP, timeout_s=1e20), "timeout_s"),
        (action("http", HTTP, retry={"delay_s": 1e20}), "retry.delay_s"),
        (action("http", HTTP, retry={"max_delay_s": 1e20}), "retry.max_delay_s"),
        (action("http", HTTP, retry={"backoff": 1e300}), "retry.backoff"),
        (action("http", HTTP, retry={"max_attempts": 10**6}), "retry.max_attempts"),
        (action("http", HTTP, retry={"delay_s": 60, "max_delay_s": 5}), "retry"),
        (action("http", {**HTTP, "retry": {"delay_s": 1e20}}), "config.retry.delay_s"),
        (action("http", {**HTTP, "timeout_s": 1e9}), "config.timeout_s"),
        (action("send_and_wait", {"body": "Hi?", "timeout_s": 10**12}), "config.timeout_s"),
        (action("subflow", {"flow_id": "f", "version": 10**12}), "config.version"),
        (
            {"id": "a", "type": "wait_for", "config": {"event": "paid", "timeout_s": 10**12}},
            "config.timeout_s",
        ),
        (
            {"id": "a", "type": "human_task", "config": {"assignee": "x", "title": "t"}}
            | {"config": {"assignee": "x", "title": "t", "timeout_s": 10**12}},
            "config.timeout_s",
        ),
        (
            {"id": "a", "type": "loop", "config": {"count": 10**12}, "transitions": {}},
            "config.count",
        ),
        (
            {"id": "a", "type": "loop", "config": {"count": "1000000000000"}, "transitions": {}},
            "config.count",
        ),
        (
            {
                "id": "a",
                "type": "ab_split",
                "config": {
                    "variants": [{"port": "x", "weight": 1e300}, {"port": "y", "weight": 1}]
                },
            },
            "config.variants[0].weight",
        ),
    ],
)
def test_numbers_in_configs_are_bounded_at_their_paths(node: dict[str, Any], path: str) -> None:
    report, _ = validate_flow(flow_with(node))
    assert [p.path for p in report.errors] == [f"$.nodes[0].{path}"]
    assert report.errors[0].code == "invalid_value"


def test_the_largest_accepted_numbers_run_without_overflow() -> None:
    """At every bound, what the interpreter computes from the numbers still fits."""
    longest = {"days": MAX_WAIT_S // 86400}
    retry = {"max_attempts": 100, "delay_s": 86400, "backoff": 10, "max_delay_s": 86400}
    document = FlowDocument.model_validate(
        {
            "start": "w",
            "nodes": [
                {"id": "w", "type": "wait", "config": longest, "transitions": {"next": "h"}},
                {
                    "id": "h",
                    "type": "http",
                    "config": {"url": "https://x.example", "timeout_s": 300, "retry": retry},
                    "timeout_s": MAX_TIMEOUT_S,
                    "transitions": {"success": "done", "error": "done"},
                },
                END,
            ],
        }
    )
    wait, http = document.nodes[0], document.nodes[1]
    assert isinstance(wait, WaitNode) and isinstance(http, HttpNode)
    far_future = datetime(2200, 1, 1, tzinfo=UTC)  # workflow time, however late it runs
    assert far_future + timedelta(seconds=wait.config.duration_s()) < datetime.max.replace(
        tzinfo=UTC
    )
    assert timeout_of(http) == timedelta(seconds=MAX_TIMEOUT_S)
    policy = retry_policy_of(http)
    assert policy.maximum_interval == timedelta(days=1) and policy.maximum_attempts == 100


# --- regexes ------------------------------------------------------------------------------


def regex_check(pattern: str) -> dict[str, Any]:
    when = {"var": "steps.ask.reply", "op": "regex", "value": pattern}
    return {
        "id": "mood",
        "type": "condition",
        "config": {"when": when},
        "transitions": {"true": "done", "false": "done"},
    }


@pytest.mark.parametrize("pattern", [r"(\w+) \1", r"(?=refund)", r"(?<!not )angry", r"(?x) a b"])
def test_a_regex_re2_cannot_run_is_refused_at_its_path(pattern: str) -> None:
    problem = only_error(flow_with(regex_check(pattern)))
    assert (problem.path, problem.code) == ("$.nodes[0].config.when.value", "invalid_regex")
    assert "RE2" in problem.message


@pytest.mark.parametrize("pattern", [r"(?i)angry|refund", r"^\d{4}$", r"^(a+)+$", r"\bno\b"])
def test_a_regex_re2_runs_is_accepted(pattern: str) -> None:
    assert validate_flow(flow_with(regex_check(pattern)))[0].errors == []
