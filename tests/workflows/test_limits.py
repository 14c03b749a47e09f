"""Hostile flows fail with a clear reason instead of wedging their execution: data that would
break Temporal's payload limits, loops that never pause."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.client import WorkflowFailureError

from tests.workflows.conftest import Runner

END = {"id": "done", "type": "end"}


def _notify(url: str, **config: Any) -> dict[str, Any]:
    return {
        "id": "notify",
        "type": "http",
        "config": {"method": "POST", "url": url, "body": {"n": 1}, **config},
        "transitions": {"success": "done"},
    }


async def _fails(runner: Runner, handle: Any) -> str:
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    row = runner.execution(handle)
    assert row.status == "failed"
    assert row.reason is not None
    return row.reason


async def test_a_step_that_grows_the_data_past_its_budget_fails_the_execution(
    runner: Runner, httpserver: HTTPServer
) -> None:
    flow = {
        "start": "copy",
        "nodes": [
            {
                "id": "copy",
                "type": "set",
                "config": {"assign": {"again": "{{ vars.chunk }}"}},
                "transitions": {"next": "notify"},
            },
            _notify(httpserver.url_for("/hook")),
            END,
        ],
    }
    handle = await runner.start(flow, variables={"chunk": "x" * 600_000})
    reason = await _fails(runner, handle)
    assert "over the 1.00 MiB an execution may keep" in reason
    [copy] = runner.steps(handle)
    assert copy.node_id == "copy" and copy.status == "failed"
    # chunk, its copy in vars, and the copy in steps.copy.assigned
    assert copy.error is not None and "to 1.72 MiB" in copy.error
    assert httpserver.log == []  # the step after it never ran
    assert runner.events(handle)[-1] == "flow.failed"


async def test_a_step_whose_input_temporal_would_refuse_fails_with_its_size(
    runner: Runner, httpserver: HTTPServer
) -> None:
    flow = {"start": "notify", "nodes": [_notify(httpserver.url_for("/hook")), END]}
    handle = await runner.start(flow, contact={"name": "Asha", "notes": "n" * 2_000_000})
    reason = await _fails(runner, handle)
    assert "this step's input is 1.91 MiB, over the 1.88 MiB a step may take" in reason
    assert [(s.node_id, s.status) for s in runner.steps(handle)] == [("notify", "failed")]
    assert httpserver.log == []


async def test_a_loop_through_a_wait_that_never_waits_fails_instead_of_spinning(
    runner: Runner,
) -> None:
    flow = {
        "start": "count",
        "nodes": [
            {
                "id": "count",
                "type": "set",
                "config": {"assign": {"n": "{{ (vars.n | default(0)) + 1 }}"}},
                "transitions": {"next": "pause"},
            },
            {
                "id": "pause",
                "type": "wait",
                # In the past: a wait of nothing, known only at run time.
                "config": {"until": "2000-01-01T00:00:00Z"},
                "transitions": {"next": "count"},
            },
        ],
    }
    handle = await runner.start(flow)
    reason = await _fails(runner, handle)
    assert "5000 steps ran in a row without pausing" in reason


async def test_a_big_result_stays_usable_but_out_of_the_timeline(runner: Runner) -> None:
    flow = {
        "start": "copy",
        "nodes": [
            {
                "id": "copy",
                "type": "set",
                "config": {"assign": {"copy": "{{ vars.chunk }}"}},
                "transitions": {"next": "measure"},
            },
            {
                "id": "measure",
                "type": "set",
                "config": {"assign": {"length": "{{ vars.copy | length }}"}},
            },
        ],
    }
    handle = await runner.start(flow, variables={"chunk": "y" * 100_000})
    result = await handle.result()
    assert result.vars["length"] == 100_000
    copy, measure = runner.steps(handle)
    assert copy.result == {"omitted": "a 98 KiB result, too large for the timeline"}
    assert measure.result == {"assigned": {"length": 100_000}}


async def test_a_loop_whose_templates_keep_the_task_busy_fails_instead_of_freezing(
    runner: Runner,
) -> None:
    busy = "{% for i in range(9000) %}{% endfor %}{{ loop.index }}"
    flow = {
        "start": "each",
        "nodes": [
            {
                "id": "each",
                "type": "loop",
                "config": {"count": 1000, "max_iterations": 1000},
                "transitions": {"body": "churn"},
            },
            {"id": "churn", "type": "set", "config": {"assign": {"i": busy}}},
        ],
    }
    handle = await runner.start(flow)
    reason = await _fails(runner, handle)
    assert "rendered templates doing over 150,000 operations" in reason


async def test_a_loop_whose_condition_cannot_run_fails_its_step(runner: Runner) -> None:
    flow = {
        "start": "again",
        "nodes": [
            {
                "id": "again",
                "type": "loop",
                # Python runs this pattern; RE2 (a flow saved before regexes moved to it) cannot.
                "config": {"while": {"var": "vars.word", "op": "regex", "value": r"(a)\1"}},
            }
        ],
    }
    handle = await runner.start(flow, variables={"word": "aa"})
    reason = await _fails(runner, handle)
    assert reason.startswith("step again failed")
    [again] = runner.steps(handle)
    assert again.status == "failed"


async def test_a_huge_templated_count_stops_at_the_loop_bound(runner: Runner) -> None:
    flow = {
        "start": "each",
        "nodes": [
            {
                "id": "each",
                "type": "loop",
                "config": {"count": "{{ 10 ** 12 }}", "max_iterations": 3},
            }
        ],
    }
    handle = await runner.start(flow)
    result = await handle.result()
    assert result.steps["each"] == {"iterations": 3, "stopped_at_max_iterations": True}


async def test_an_action_whose_answer_would_overgrow_the_data_fails_itself(
    runner: Runner, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/big").respond_with_data("z" * 200_000, content_type="text/plain")

    def fetch(node_id: str, then: str) -> dict[str, Any]:
        return {
            "id": node_id,
            "type": "http",
            "config": {"url": httpserver.url_for("/big"), "save_as": node_id},
            "transitions": {"success": then},
        }

    flow = {"start": "a", "nodes": [fetch("a", "b"), fetch("b", "c"), fetch("c", "done"), END]}
    handle = await runner.start(flow)
    reason = await _fails(runner, handle)
    assert reason.startswith("step c failed: this step would grow the execution's data")
    assert [(s.node_id, s.status) for s in runner.steps(handle)] == [
        ("a", "success"),
        ("b", "success"),
        ("c", "failed"),
    ]
