"""The activities registered on a real worker, called by name from a workflow on a real server.

Proves what ActivityEnvironment cannot: the names the workflow uses, pydantic payloads both
ways, and that Temporal retries what is retryable and stops at what is not.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities import FlowActivities
from schemas.execution import (
    ACTIVITY_PERFORM_ACTION,
    ACTIVITY_RECORD_PROGRESS,
    ActionInput,
    ActionOutput,
    ExecutionStatus,
    RecordInput,
)
from tests.activities.conftest import Seed, make_settings


@workflow.defn
class PerformOneAction:
    """Stands in for the interpreter: one action step with a fast retry policy, then a record."""

    @workflow.run
    async def run(self, data: ActionInput) -> ActionOutput:
        output: ActionOutput = await workflow.execute_activity(
            ACTIVITY_PERFORM_ACTION,
            data,
            result_type=ActionOutput,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                maximum_attempts=3,
                initial_interval=timedelta(milliseconds=50),
                backoff_coefficient=1,
            ),
        )
        await workflow.execute_local_activity(
            ACTIVITY_RECORD_PROGRESS,
            RecordInput(
                execution_id=data.execution_id,
                tenant_id=data.tenant_id,
                flow_id=data.flow_id,
                status=ExecutionStatus.completed,
                at=workflow.now().astimezone(UTC),
            ),
            start_to_close_timeout=timedelta(seconds=10),
        )
        return output


@pytest.fixture
async def run_action(
    temporal_env: WorkflowEnvironment, seed: Seed, task_queue: str
) -> AsyncIterator[Any]:
    async with httpx.AsyncClient(trust_env=False) as http_client:
        activities = FlowActivities(
            engine=seed.engine,
            settings=make_settings(FLOWDECK_HTTP_ALLOWLIST="127.0.0.1"),
            http_client=http_client,
        )
        async with Worker(
            temporal_env.client,
            task_queue=task_queue,
            workflows=[PerformOneAction],
            activities=activities.all(),
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):

            async def run(data: ActionInput) -> ActionOutput:
                return await temporal_env.client.execute_workflow(
                    PerformOneAction.run,
                    data,
                    id=f"test-{uuid.uuid4().hex}",
                    task_queue=task_queue,
                )

            yield run


def failure_cause(error: WorkflowFailureError) -> ApplicationError:
    assert isinstance(error.cause, ActivityError)
    assert isinstance(error.cause.cause, ApplicationError)
    return error.cause.cause


async def test_an_action_runs_by_name_and_the_execution_completes(
    run_action: Any, seed: Seed
) -> None:
    output = await run_action(seed.action("sms", {"to": "+15550002222", "body": "Hi"}))

    assert output.port == "sent"
    assert [m.to for m in seed.outbox()] == ["+15550002222"]
    assert seed.execution().status == "completed"
    assert seed.event_types() == [
        "flow.started",
        "flow.step.started",
        "flow.step.completed",
        "flow.completed",
    ]


async def test_a_retryable_failure_is_retried_to_the_last_attempt(
    run_action: Any, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request("/flaky").respond_with_data("down", status=503)
    data = seed.action("http", {"url": f"http://127.0.0.1:{http_server.port}/flaky"})

    with pytest.raises(WorkflowFailureError) as caught:
        await run_action(data)

    assert failure_cause(caught.value).type == "HttpStatusError"
    assert len(http_server.log) == 3
    step = seed.step(1)
    assert step is not None and step.attempt == 3 and step.error is not None
    assert "HTTP 503" in step.error


async def test_a_non_retryable_failure_is_tried_once(
    run_action: Any, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request("/missing").respond_with_data("no", status=404)
    data = seed.action("http", {"url": f"http://127.0.0.1:{http_server.port}/missing"})

    with pytest.raises(WorkflowFailureError) as caught:
        await run_action(data)

    cause = failure_cause(caught.value)
    assert cause.type == "HttpStatusError" and cause.non_retryable
    assert len(http_server.log) == 1
