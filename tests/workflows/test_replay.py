"""Histories of real runs, committed under tests/histories, must replay on today's interpreter.

A change to the interpreter that would break executions already running fails here. To record
them again after an intended change: `FLOWDECK_RECORD_HISTORIES=1 FLOWDECK_TEST_DATABASES=sqlite
pytest tests/workflows`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows import FlowExecution
from workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))
EXPECTED = {
    "ab_split",
    "call_hangup",
    "call_menu_transfer",
    "call_outbound_ai_call",
    "call_outbound_machine",
    "call_queue_transfer",
    "call_say_before_slow_step",
    "call_slow_lookup_hold",
    "call_time_limit",
    "call_voicemail",
    "call_voicemail_after_hangup",
    "cancel_during_wait",
    "crm_http_wait_condition_email",
    "http_condition_wait_email",
    "http_retry_error_port",
    "human_task",
    "loops",
    "parallel_all",
    "split_set_tag",
    "subflow",
    "wait_for_event",
    "wait_until_open",
}


def test_every_step_type_has_a_committed_history() -> None:
    assert {p.stem for p in HISTORIES} >= EXPECTED


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
