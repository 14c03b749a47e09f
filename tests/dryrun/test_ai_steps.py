"""The AI steps in the pure dry-run walk: nothing called, a label to route on, a stand-in answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.flow import FlowDocument
from workflows.dryrun import dry_run

START = datetime(2030, 5, 6, 5, 0, tzinfo=UTC)
NODES: list[dict[str, Any]] = [
    {
        "id": "classify",
        "type": "ai_classify",
        "config": {"connection": "gpt", "text": "{{ vars.message }}", "labels": ["yes", "no"]},
        "transitions": {"success": "route"},
    },
    {
        "id": "route",
        "type": "split",
        "config": {
            "cases": [
                {"port": "no", "when": {"var": "steps.classify.label", "op": "eq", "value": "no"}}
            ]
        },
        "transitions": {"no": "done", "else": "write"},
    },
    {
        "id": "write",
        "type": "ai_generate",
        "config": {"connection": "gpt", "prompt": "Thank them", "save_as": "draft"},
        "transitions": {"success": "keep"},
    },
    {"id": "keep", "type": "set", "config": {"assign": {"line": "{{ vars.draft }}!"}}},
    {"id": "done", "type": "end"},
]


def _walk(outcomes: dict[str, str], variables: dict[str, Any]) -> Any:
    return dry_run(
        FlowDocument.model_validate({"start": "classify", "nodes": NODES}),
        contact={},
        variables={"message": "Yes please", **variables},
        trigger={},
        outcomes=outcomes,
        start_at=START,
    )


def test_classify_answers_its_first_label_or_the_one_the_outcomes_name() -> None:
    first = _walk({}, {"draft": "Thanks"})
    assert [s["node_id"] for s in first.steps] == ["classify", "route", "write", "keep"]
    assert first.steps[0]["result"] == {
        "connection": "gpt",
        "model": None,  # the connection's: the API's dry run fills it in
        "simulated": True,
        "label": "yes",
        "confidence": 1.0,
    }
    assert first.steps[0]["calls"]["integration"] == "openai"
    named = _walk({"classify": "no"}, {})
    assert [s["node_id"] for s in named.steps] == ["classify", "route", "done"]


def test_a_generated_answer_is_stood_in_for_by_the_dry_runs_variable() -> None:
    run = _walk({}, {"draft": "Thank you, Asha"})
    assert "output" not in run.steps[2]["result"]
    assert run.vars["line"] == "Thank you, Asha!"
