"""Inside a running execution, a template over its budget and a regex RE2 cannot run fail
their step (with the reason in the timeline) instead of wedging the workflow task."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from schemas.execution import ExecutionResult
from tests.workflows.conftest import Runner

END = {"id": "done", "type": "end"}


def check(pattern: str) -> dict[str, Any]:
    return {
        "start": "mood",
        "nodes": [
            {
                "id": "mood",
                "type": "condition",
                "config": {"when": {"var": "vars.reply", "op": "regex", "value": pattern}},
                "transitions": {"true": "angry", "false": "calm"},
            },
            {
                "id": "angry",
                "type": "set",
                "config": {"assign": {"mood": "angry"}},
                "transitions": {"next": "done"},
            },
            {
                "id": "calm",
                "type": "set",
                "config": {"assign": {"mood": "calm"}},
                "transitions": {"next": "done"},
            },
            END,
        ],
    }


async def test_a_template_over_its_budget_fails_its_step(skipping_runner: Runner) -> None:
    spin = "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
    flow = {
        "start": "spin",
        "nodes": [
            {
                "id": "spin",
                "type": "set",
                "config": {"assign": {"text": spin}},
                "transitions": {"next": "done"},
            },
            END,
        ],
    }
    handle = await skipping_runner.start(flow)
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    [step] = skipping_runner.steps(handle)
    assert step.node_id == "spin" and step.status == "failed"
    assert "template exceeds its budget of 10,000 loop iterations" in (step.error or "")
    execution = skipping_runner.execution(handle)
    assert execution.status == "failed"
    assert "budget of 10,000 loop iterations" in (execution.reason or "")


async def test_a_pathological_regex_answers_at_once(skipping_runner: Runner) -> None:
    """Python's `re` would backtrack for hours here, in the workflow task, for ever retried."""
    handle = await skipping_runner.start(check(r"^(a+)+$"), variables={"reply": "a" * 40 + "!"})
    result: ExecutionResult = await handle.result()
    assert result.status == "completed" and result.vars["mood"] == "calm"


async def test_a_regex_re2_cannot_run_fails_its_step(skipping_runner: Runner) -> None:
    """Validation refuses it; a flow saved before that still runs, and its step fails."""
    handle = await skipping_runner.start(check(r"(\w+) \1"), variables={"reply": "no no"})
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    [step] = skipping_runner.steps(handle)
    assert step.node_id == "mood" and step.status == "failed"
    assert "cannot be used" in (step.error or "")
    assert skipping_runner.execution(handle).status == "failed"
