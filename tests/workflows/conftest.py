"""Run flows for real: a Temporal server, the real activities, a real database."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from werkzeug import Request, Response

from schemas.execution import WORKFLOW_NAME, ExecutionInput, ExecutionResult, workflow_id_for
from schemas.flow import FlowDocument
from schemas.hours import BusinessHours
from schemas.settings import Settings
from store.db import session_scope
from store.models import Event, Execution, ExecutionStep, Flow, FlowVersion, OutboxMessage, Tenant
from tests.running import running as run_worker
from worker import build_worker

HISTORIES = Path(__file__).parents[1] / "histories"


@dataclass
class Runner:
    """Starts executions of flow documents on one worker and reads back what they stored."""

    client: Client
    engine: Engine
    task_queue: str
    tenant_id: str

    def create_flow(
        self, definition: dict[str, Any], *, name: str = "flow", version: int = 1
    ) -> str:
        with session_scope(self.engine) as session:
            flow = Flow(tenant_id=self.tenant_id, name=name, published_version=version)
            session.add(flow)
            session.flush()
            session.add(
                FlowVersion(
                    flow_id=flow.id,
                    tenant_id=self.tenant_id,
                    number=version,
                    status="published",
                    definition=definition,
                )
            )
            return flow.id

    async def start(
        self,
        definition: dict[str, Any],
        *,
        contact: dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        trigger: dict[str, Any] | None = None,
        business_hours: BusinessHours | None = None,
        respect_business_hours: bool = False,
        history_limit: int = 8000,
        flow_id: str | None = None,
        short_local_steps: list[str] | None = None,
        local_max_s: float = 0.0,
    ) -> WorkflowHandle[Any, Any]:
        flow_id = flow_id or self.create_flow(definition)
        execution_id = uuid.uuid4().hex
        with session_scope(self.engine) as session:
            session.add(
                Execution(
                    id=execution_id,
                    tenant_id=self.tenant_id,
                    flow_id=flow_id,
                    version=1,
                    workflow_id=workflow_id_for(execution_id),
                    contact=contact or {},
                    variables=variables or {},
                )
            )
        data = ExecutionInput(
            execution_id=execution_id,
            tenant_id=self.tenant_id,
            flow_id=flow_id,
            flow_name="flow",
            version=1,
            definition=FlowDocument.model_validate(definition),
            contact=contact or {},
            variables=variables or {},
            trigger=trigger or {"type": "manual"},
            business_hours=business_hours,
            respect_business_hours=respect_business_hours,
            history_limit=history_limit,
            short_local_steps=short_local_steps or [],
            local_max_s=local_max_s,
        )
        return await self.client.start_workflow(
            WORKFLOW_NAME,
            data,
            id=workflow_id_for(execution_id),
            task_queue=self.task_queue,
            result_type=ExecutionResult,
        )

    def execution(self, handle: WorkflowHandle[Any, Any]) -> Execution:
        with Session(self.engine) as session:
            row = session.exec(select(Execution).where(Execution.workflow_id == handle.id)).one()
            session.expunge(row)
            return row

    def steps(self, handle: WorkflowHandle[Any, Any]) -> list[ExecutionStep]:
        execution_id = self.execution(handle).id
        with Session(self.engine) as session:
            rows = session.exec(
                select(ExecutionStep)
                .where(ExecutionStep.execution_id == execution_id)
                .order_by(ExecutionStep.seq)  # type: ignore[arg-type]
            ).all()
            for row in rows:
                session.expunge(row)
            return list(rows)

    def path(self, handle: WorkflowHandle[Any, Any]) -> list[tuple[str, str, str | None]]:
        """(node, status, port) of each step, in order."""
        return [(s.node_id, s.status, s.port) for s in self.steps(handle)]

    def events(self, handle: WorkflowHandle[Any, Any]) -> list[str]:
        execution_id = self.execution(handle).id
        with Session(self.engine) as session:
            rows = session.exec(
                select(Event).where(Event.execution_id == execution_id).order_by(Event.id)  # type: ignore[arg-type]
            ).all()
            return [e.type for e in rows]

    def outbox(self, handle: WorkflowHandle[Any, Any]) -> list[OutboxMessage]:
        execution_id = self.execution(handle).id
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxMessage).where(OutboxMessage.execution_id == execution_id)
            ).all()
            for row in rows:
                session.expunge(row)
            return list(rows)

    async def save_history(self, handle: WorkflowHandle[Any, Any], name: str) -> None:
        """With FLOWDECK_RECORD_HISTORIES=1, keep this run's history for the replay tests."""
        if os.environ.get("FLOWDECK_RECORD_HISTORIES") != "1":
            return
        history = await handle.fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


def flaky_sink(failures: int = 0) -> Any:
    """A sink's handler: answers 503 to its first `failures` requests, then 200; `.seen` is
    the `Idempotency-Key` of every request, in order."""
    seen: list[str] = []

    def answer(request: Request) -> Response:
        seen.append(request.headers.get("Idempotency-Key", ""))
        if len(seen) <= failures:
            return Response("busy", status=503)
        return Response('{"ok": true}', status=200, content_type="application/json")

    answer.seen = seen  # type: ignore[attr-defined]
    return answer


def _settings() -> Settings:
    return Settings.model_validate(
        {"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost", "FLOWDECK_ENV": "test"}
    )


@pytest.fixture
def tenant_id(engine: Engine) -> str:
    with session_scope(engine) as session:
        tenant = Tenant(name=f"t-{uuid.uuid4().hex[:6]}")
        session.add(tenant)
        session.flush()
        return tenant.id


async def _runner(
    env: WorkflowEnvironment, engine: Engine, task_queue: str, tenant_id: str
) -> AsyncIterator[Runner]:
    worker = build_worker(env.client, engine=engine, settings=_settings(), task_queue=task_queue)
    async with run_worker(worker):
        yield Runner(client=env.client, engine=engine, task_queue=task_queue, tenant_id=tenant_id)


@pytest.fixture
async def runner(
    temporal_env: WorkflowEnvironment, engine: Engine, task_queue: str, tenant_id: str
) -> AsyncIterator[Runner]:
    """A worker on the real dev server: real timers, signals and Updates."""
    async for r in _runner(temporal_env, engine, task_queue, tenant_id):
        yield r


@pytest.fixture
async def skipping_runner(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str, tenant_id: str
) -> AsyncIterator[Runner]:
    """A worker on the time-skipping server: waits of hours pass at once."""
    async for r in _runner(time_skipping_env, engine, task_queue, tenant_id):
        yield r
