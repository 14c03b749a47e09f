"""Flow throughput: N executions of a 3-step flow against a bare workflow of 3 activities.

Both run on the same Temporal dev server and in the same worker process, one after the other.
Prints runs per second, median and p99 latency for each, and the ratio (target ≥ 0.8).

    python -m bench.throughput --runs 500 --concurrency 100
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare import BareLocalWorkflow, BareWorkflow, noop
from bench.common import Database, database, figures, show, temporal_server
from schemas.execution import WORKFLOW_NAME, ExecutionInput, workflow_id_for
from schemas.flow import FlowDocument
from schemas.settings import Settings
from store.db import session_scope
from store.models import Execution, Flow, FlowVersion
from worker import build_worker

THREE_STEPS = {
    "start": "sms",
    "nodes": [
        {
            "id": "sms",
            "type": "sms",
            "config": {"body": "Hello {{ contact.name }}"},
            "transitions": {"sent": "wa"},
        },
        {
            "id": "wa",
            "type": "whatsapp",
            "config": {"template": "lead_followup", "params": {"1": "{{ contact.name }}"}},
            "transitions": {"sent": "mail"},
        },
        {
            "id": "mail",
            "type": "email",
            "config": {"to": "{{ contact.email }}", "subject": "Hi", "body": "Thanks"},
            "transitions": {"sent": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}


def _flow(db: Database) -> str:
    with session_scope(db.engine) as session:
        flow = Flow(tenant_id=db.tenant_id, name="bench", published_version=1)
        session.add(flow)
        session.flush()
        session.add(
            FlowVersion(
                flow_id=flow.id,
                tenant_id=db.tenant_id,
                number=1,
                status="published",
                definition=THREE_STEPS,
            )
        )
        return flow.id


async def _run_flow(
    client: Client, db: Database, flow_id: str, queue: str, local_steps: list[str]
) -> None:
    execution_id = uuid.uuid4().hex
    contact = {"name": "Asha", "phone": "+15550002222", "email": "asha@example.com"}

    def insert() -> None:
        with session_scope(db.engine) as session:
            session.add(
                Execution(
                    id=execution_id,
                    tenant_id=db.tenant_id,
                    flow_id=flow_id,
                    version=1,
                    workflow_id=workflow_id_for(execution_id),
                    contact=contact,
                )
            )

    await asyncio.to_thread(insert)
    await client.execute_workflow(
        WORKFLOW_NAME,
        ExecutionInput(
            execution_id=execution_id,
            tenant_id=db.tenant_id,
            flow_id=flow_id,
            version=1,
            definition=FlowDocument.model_validate(THREE_STEPS),
            contact=contact,
            local_steps=local_steps,
        ),
        id=workflow_id_for(execution_id),
        task_queue=queue,
        request_eager_start=True,
    )


async def _measure(name: str, runs: int, concurrency: int, one: Any) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def timed() -> None:
        async with gate:
            started = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(timed() for _ in range(runs)))
    return figures(name, latencies, time.perf_counter() - began)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()

    db = database()
    flow_id = _flow(db)
    settings = Settings.model_validate({"FLOWDECK_ENV": "test"})
    local = settings.local_action_types()
    async with temporal_server() as env:
        client = env.client
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        flowdeck = build_worker(client, engine=db.engine, settings=settings, task_queue=queue)
        bare = Worker(
            client,
            task_queue=queue + "-bare",
            workflows=[BareWorkflow, BareLocalWorkflow],
            activities=[noop],
            max_concurrent_activities=200,
            max_concurrent_workflow_tasks=200,
        )
        async with flowdeck, bare:
            # warm both paths up so neither pays for first-use costs in the figures
            await _measure("warm-up", 20, 10, lambda: _run_flow(client, db, flow_id, queue, local))
            await _measure(
                "warm-up",
                20,
                10,
                lambda: client.execute_workflow(
                    "BenchBare", 3, id=uuid.uuid4().hex, task_queue=queue + "-bare"
                ),
            )
            rows = [
                await _measure(
                    "bare: 3 activities",
                    args.runs,
                    args.concurrency,
                    lambda: client.execute_workflow(
                        "BenchBare", 3, id=uuid.uuid4().hex, task_queue=queue + "-bare"
                    ),
                ),
                await _measure(
                    "bare: 3 local activities",
                    args.runs,
                    args.concurrency,
                    lambda: client.execute_workflow(
                        "BenchBareLocal", 3, id=uuid.uuid4().hex, task_queue=queue + "-bare"
                    ),
                ),
                await _measure(
                    "flowdeck: sms, whatsapp, email",
                    args.runs,
                    args.concurrency,
                    lambda: _run_flow(client, db, flow_id, queue, local),
                ),
                await _measure(
                    "flowdeck, no local activities",
                    args.runs,
                    args.concurrency,
                    lambda: _run_flow(client, db, flow_id, queue, []),
                ),
            ]
    for row in rows:
        show(row)
    ratio = rows[2]["per_s"] / rows[0]["per_s"]
    sys.stdout.write(f"ratio flowdeck / bare 3 activities: {ratio:.2f} (target >= 0.80)\n")
    ratio = rows[3]["per_s"] / rows[0]["per_s"]
    sys.stdout.write(f"ratio flowdeck without local activities / bare: {ratio:.2f}\n")


if __name__ == "__main__":
    asyncio.run(main())
