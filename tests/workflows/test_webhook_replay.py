"""Histories of real webhook delivery runs, committed under tests/histories/webhooks, must
replay on today's delivery workflow. To record them again after an intended change:
`FLOWDECK_RECORD_HISTORIES=1 FLOWDECK_TEST_DATABASES=sqlite pytest
tests/api/test_webhook_delivery.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.sandbox import workflow_runner
from workflows.webhooks import WebhookDeliveries

HISTORIES = sorted((Path(__file__).parents[1] / "histories" / "webhooks").glob("*.json"))


def test_the_delivery_workflow_has_a_committed_history() -> None:
    assert HISTORIES


@pytest.mark.parametrize(
    "history",
    [WorkflowHistory.from_json(p.stem, p.read_text()) for p in HISTORIES],
    ids=[p.stem for p in HISTORIES],
)
async def test_history_replays(history: WorkflowHistory) -> None:
    replayer = Replayer(
        workflows=[WebhookDeliveries],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(history)
