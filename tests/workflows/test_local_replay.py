"""A local step's side effect happens once even when its workflow task is replayed.

A local activity's result reaches Temporal only with its workflow task. Here that task fails
right after the step's POST (as a deadlock check or a task timeout fails it on a starved
box): Temporal runs the task again, the workflow replays and runs the local activity again,
and the worker hands back the outcome it kept (`activities.performed`) instead of posting
twice. When the task is lost with its worker, another worker (or the same one restarted)
finds the outcome the step stored before it returned. A step whose attempt failed is
performed again, as a retry must be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from activities.performed import Performed
from schemas.execution import ActionInput, ActionOutput, ExecutionResult
from tests.running import running as run_worker
from tests.workflows.conftest import Runner, flaky_sink
from tests.workflows.conftest import _settings as flow_settings
from worker import build_worker


class FailAfterLocal(Interceptor):
    """Fails the workflow task in which an execution's first local activity completes: the
    workflow raises a plain error there, which fails the task, not the workflow. The task
    then runs again on this worker, unless `dies`: this worker then fails every later task
    of that execution before it does anything, as a worker gone with the task would, so only
    another worker can go on."""

    def __init__(self, *, dies: bool = False) -> None:
        self.failed: set[str] = set()
        self.dies = dies

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        owner = self

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_FailAfterLocal(outbound, owner))

        return Inbound


class _FailAfterLocal(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, owner: FailAfterLocal) -> None:
        super().__init__(next)
        self._owner = owner

    def start_local_activity(self, input: StartLocalActivityInput) -> Any:
        execution = workflow.info().workflow_id
        if execution in self._owner.failed:
            if self._owner.dies:
                raise RuntimeError("this worker is gone")
            return super().start_local_activity(input)
        handle = super().start_local_activity(input)

        async def then_fail() -> Any:
            await handle
            self._owner.failed.add(execution)
            raise RuntimeError("the workflow task fails after its local activity")

        return asyncio.ensure_future(then_fail())


class SeenRechecks(Interceptor):
    """Notes, for each action a worker performs, whether it was asked to look for the
    step's stored outcome first (`ActionInput.recheck`)."""

    def __init__(self) -> None:
        self.rechecks: list[bool] = []

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        rechecks = self.rechecks

        class Inbound(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput) -> Any:
                if isinstance(action := input.args[0], ActionInput):
                    rechecks.append(action.recheck)
                return await super().execute_activity(input)

        return Inbound(next)


def _order_sink_and_flow(httpserver: HTTPServer) -> tuple[Any, dict[str, Any]]:
    """A sink that counts the orders posted to it, and a flow of one POST there."""
    sink = flaky_sink()
    httpserver.expect_request("/orders", method="POST").respond_with_handler(sink)
    flow = {
        "start": "post",
        "nodes": [
            {
                "id": "post",
                "type": "http",
                "config": {"method": "POST", "url": httpserver.url_for("/orders"), "timeout_s": 5},
                "transitions": {"success": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }
    return sink, flow


@pytest.fixture
async def failing_runner(
    temporal_env: WorkflowEnvironment, engine: Engine, task_queue: str, tenant_id: str
) -> AsyncIterator[Runner]:
    worker = build_worker(
        temporal_env.client,
        engine=engine,
        settings=flow_settings(),
        task_queue=task_queue,
        interceptors=[FailAfterLocal()],
    )
    async with run_worker(worker):
        yield Runner(temporal_env.client, engine, task_queue, tenant_id)


async def test_a_replayed_workflow_task_does_not_post_a_local_step_twice(
    failing_runner: Runner, httpserver: HTTPServer
) -> None:
    sink, flow = _order_sink_and_flow(httpserver)
    handle = await failing_runner.start(flow, short_local_steps=["http"], local_max_s=15)
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    history = await handle.fetch_history()
    types = [event.event_type for event in history.events]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in types  # the task did fail and replay
    assert len(sink.seen) == 1, sink.seen  # ...and the order was posted once
    [step] = [s for s in failing_runner.steps(handle) if s.node_id == "post"]
    assert step.status == "success" and step.result is not None
    assert step.result["status"] == 200


async def test_a_worker_taking_over_a_lost_task_does_not_post_a_local_step_again(
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    tenant_id: str,
    httpserver: HTTPServer,
) -> None:
    """The first worker posts, stores the step, and never completes its task; the second
    has nothing in its ledger, and finds the step's stored outcome instead of posting."""
    sink, flow = _order_sink_and_flow(httpserver)
    runner = Runner(temporal_env.client, engine, task_queue, tenant_id)
    dying, seen = FailAfterLocal(dies=True), SeenRechecks()
    first = build_worker(
        temporal_env.client,
        engine=engine,
        settings=flow_settings(),
        task_queue=task_queue,
        interceptors=[dying, seen],
    )
    async with run_worker(first):
        handle = await runner.start(flow, short_local_steps=["http"], local_max_s=15)
        for _ in range(200):
            if dying.failed:
                break
            await asyncio.sleep(0.05)
    assert dying.failed == {handle.id} and len(sink.seen) == 1
    # stored before the local activity returned, with the end it leads straight to
    assert [(s.node_id, s.status) for s in runner.steps(handle)] == [
        ("post", "success"),
        ("done", "success"),
    ]

    second = build_worker(
        temporal_env.client,
        engine=engine,
        settings=flow_settings(),
        task_queue=task_queue,
        interceptors=[seen],
    )
    async with run_worker(second):
        result: ExecutionResult = await asyncio.wait_for(handle.result(), 60)

    assert result.status == "completed"
    assert len(sink.seen) == 1, sink.seen  # the second worker did not post again
    # The execution's first task had nothing before it to look for; the second worker's had.
    assert seen.rechecks == [False, True]
    [step] = [s for s in runner.steps(handle) if s.node_id == "post"]
    assert step.status == "success" and step.result is not None
    assert step.result["status"] == 200
    assert runner.path(handle) == [("post", "success", "success"), ("done", "success", None)]


def test_the_ledger_forgets_after_its_time_and_past_its_budget() -> None:
    now = [0.0]
    ledger = Performed(ttl_s=60, max_bytes=1000, clock=lambda: now[0])
    small = ActionOutput(port="success", result={"status": 200})
    ledger.put("run-1", 1, small)
    assert ledger.get("run-1", 1) == small
    assert ledger.get("run-1", 2) is None and ledger.get("run-2", 1) is None

    now[0] = 61.0
    assert ledger.get("run-1", 1) is None  # a replay comes within seconds, not minutes

    big = ActionOutput(port="success", result={"body": "x" * 600})
    ledger.put("run-1", 2, big)
    ledger.put("run-1", 3, big)  # over 1,000 bytes: the oldest goes
    assert ledger.get("run-1", 2) is None and ledger.get("run-1", 3) == big
    ledger.put("run-1", 4, ActionOutput(port="success", result={"body": "x" * 2000}))
    assert ledger.get("run-1", 4) is None and len(ledger) == 1  # never kept: too big alone
