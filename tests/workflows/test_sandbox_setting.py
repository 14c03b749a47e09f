"""The interpreter runs sandboxed in every test, and also runs without the sandbox."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from schemas.execution import ExecutionResult
from schemas.settings import Settings
from tests.workflows.conftest import Runner
from worker import build_worker


async def test_workers_built_in_tests_are_sandboxed(
    engine: Engine, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    settings = Settings()
    assert settings.workflow_sandbox
    worker = build_worker(
        temporal_env.client, engine=engine, settings=settings, task_queue=task_queue
    )
    assert isinstance(worker.config()["workflow_runner"], SandboxedWorkflowRunner)


async def test_the_interpreter_also_runs_unsandboxed(
    engine: Engine, time_skipping_env: WorkflowEnvironment, task_queue: str, tenant_id: str
) -> None:
    settings = Settings.model_validate({"FLOWDECK_WORKFLOW_SANDBOX": "false"})
    worker = build_worker(
        time_skipping_env.client, engine=engine, settings=settings, task_queue=task_queue
    )
    assert isinstance(worker.config()["workflow_runner"], UnsandboxedWorkflowRunner)
    async with worker:
        runner = Runner(
            client=time_skipping_env.client,
            engine=engine,
            task_queue=task_queue,
            tenant_id=tenant_id,
        )
        flow = {
            "start": "pause",
            "nodes": [
                {
                    "id": "pause",
                    "type": "wait",
                    "config": {"hours": 2},
                    "transitions": {"next": "sms"},
                },
                {
                    "id": "sms",
                    "type": "sms",
                    "config": {"to": "+15550001111", "body": "Hi {{ vars.x }}"},
                },
            ],
        }
        handle = await runner.start(flow, variables={"x": 1})
        result: ExecutionResult = await handle.result()
    assert result.status == "completed"
    assert [(s.node_id, s.status) for s in runner.steps(handle)] == [
        ("pause", "success"),
        ("sms", "success"),
    ]
    [sms] = runner.outbox(handle)
    assert sms.content == {"body": "Hi 1"}
