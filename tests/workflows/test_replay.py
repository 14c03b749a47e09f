"""Histories of real runs, committed under tests/histories, must replay on today's interpreter.

A change to the interpreter that would break executions already running fails here. To record
them again after an intended change: `FLOWDECK_RECORD_HISTORIES=1 FLOWDECK_TEST_DATABASES=sqlite
pytest tests/workflows`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from schemas.steps import STEP
from workflows import FlowExecution
from workflows.sandbox import workflow_runner
from workflows.scheduled import ScheduledFlowStart

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def _step_types(history: Path) -> set[str]:
    """The step types of the flow a committed history ran (its workflow's input)."""
    started = json.loads(history.read_text())["events"][0]
    payload = started["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    data = json.loads(base64.b64decode(payload["data"]))
    return {node["type"] for node in data["definition"]["nodes"]}


def test_every_step_type_has_a_committed_history() -> None:
    """Derived from the step registry: a new step type needs a history of a real run."""
    covered = set().union(*(_step_types(p) for p in HISTORIES))
    assert set(STEP) - covered == set()


@pytest.mark.parametrize(
    "history",
    [WorkflowHistory.from_json(p.stem, p.read_text()) for p in HISTORIES],
    ids=[p.stem for p in HISTORIES],
)
async def test_history_replays(history: WorkflowHistory) -> None:
    replayer = Replayer(
        workflows=[FlowExecution],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(history)


SCHEDULED_HISTORIES = sorted((Path(__file__).parents[1] / "histories" / "scheduled").glob("*.json"))
"""Firings of a flow's schedule (`ScheduledFlowStart`), recorded by tests/api/test_schedules.py."""


@pytest.mark.parametrize(
    "history",
    [WorkflowHistory.from_json(p.stem, p.read_text()) for p in SCHEDULED_HISTORIES],
    ids=[p.stem for p in SCHEDULED_HISTORIES],
)
async def test_scheduled_start_history_replays(history: WorkflowHistory) -> None:
    replayer = Replayer(
        workflows=[ScheduledFlowStart],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(history)
