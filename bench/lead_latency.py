"""Lead latency: `POST /api/contacts` → the matched flow's first action starts.

The app runs in this process (over ASGI, no sockets) with the Flowdeck worker on the same
Temporal client, as `flowdeck api` runs with its embedded worker, so the start is eager.
Leads are posted at a steady rate; a lead's latency is its first step's `started_at` (in
`execution_step`) minus the moment its request was sent. The floors, measured in the same
run on the same server: a bare workflow whose first step is an activity (plain start), and
one whose first step is a local activity (eager start). Targets (SPEC §7): p50 ≤ 30 ms,
p99 ≤ 100 ms.

    python -m bench.lead_latency --leads 200 --rate 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session, col, func, select
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.main import create_app
from bench.common import Database, database, temporal_server
from cli import configure_logging
from schemas.settings import Settings
from store.db import session_scope
from store.keys import issue_key
from store.models import ExecutionStep
from worker import build_worker

FIRST_IS_SMS = {
    "start": "text",
    "nodes": [
        {
            "id": "text",
            "type": "sms",
            "config": {"body": "Thanks for your enquiry, {{ contact.name }}"},
            "transitions": {"sent": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}
_started: dict[str, float] = {}
"""Workflow id → wall-clock time its first activity started (the bare floor)."""


@activity.defn(name="bench_first")
async def first_step(workflow_id: str) -> None:
    _started[workflow_id] = time.time()


@workflow.defn(name="BenchFirstActivity")
class FirstActivity:
    @workflow.run
    async def run(self, local: bool) -> None:
        workflow_id = workflow.info().workflow_id
        timeout = timedelta(seconds=10)
        if local:
            await workflow.execute_local_activity(
                "bench_first", workflow_id, start_to_close_timeout=timeout
            )
        else:
            await workflow.execute_activity(
                "bench_first", workflow_id, start_to_close_timeout=timeout
            )


def _percentiles(name: str, latencies_s: list[float]) -> str:
    ordered = sorted(latencies_s)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:<44} {len(ordered):>5}  p50 {statistics.median(ordered) * 1000:7.1f} ms  "
        f"p99 {p99 * 1000:7.1f} ms\n"
    )


async def _steady(count: int, rate: float, one: Any) -> None:
    """Call `one(i)` `count` times, `rate` per second, without waiting for the answers."""
    tasks = []
    began = time.perf_counter()
    for i in range(count):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)


async def _bare(client: Client, queue: str, count: int, rate: float, *, local: bool) -> list[float]:
    sent: dict[str, float] = {}

    async def one(i: int) -> None:
        workflow_id = f"bare-{uuid.uuid4().hex}"
        sent[workflow_id] = time.time()
        await client.start_workflow(
            "BenchFirstActivity", local, id=workflow_id, task_queue=queue, request_eager_start=local
        )

    await _steady(count, rate, one)
    await _settle(lambda: all(w in _started for w in sent))
    return [_started[w] - t for w, t in sent.items()]


async def _settle(done: Any, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the runs did not reach their first step in time")
        await asyncio.sleep(0.2)


def _first_steps(db: Database, execution_ids: list[str]) -> dict[str, datetime]:
    with Session(db.engine) as session:
        rows = session.exec(
            select(ExecutionStep.execution_id, func.min(ExecutionStep.started_at))
            .where(col(ExecutionStep.execution_id).in_(execution_ids))
            .group_by(col(ExecutionStep.execution_id))
        ).all()
    return {execution_id: started for execution_id, started in rows if started is not None}


async def _leads(
    api: httpx.AsyncClient,
    db: Database,
    headers: dict[str, str],
    count: int,
    rate: float,
    answers: list[float] | None = None,
) -> list[float]:
    """Post `count` leads; their latencies to the first action (and, in `answers`, to the
    response)."""
    sent: dict[str, float] = {}
    failures: list[str] = []

    async def one(i: int) -> None:
        lead = {
            "name": f"Lead {i}",
            "phone": f"+9198{uuid.uuid4().int % 10**8:08d}",
            "lead_source": "IndiaMART",
        }
        at = time.time()
        response = await api.post("/api/contacts", json=lead, headers=headers)
        if answers is not None:
            answers.append(time.time() - at)
        engagement = response.json().get("engagement", {})
        if engagement.get("status") != "started":
            failures.append(response.text)
            return
        sent[engagement["execution_id"]] = at

    await _steady(count, rate, one)
    if failures:
        raise RuntimeError(f"{len(failures)} leads did not start: {failures[0]}")
    firsts: dict[str, datetime] = {}

    def all_started() -> bool:
        firsts.update(_first_steps(db, [e for e in sent if e not in firsts]))
        return len(firsts) == len(sent)

    await _settle(all_started)
    return [firsts[e].astimezone(UTC).timestamp() - t for e, t in sent.items()]


async def _flow(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await api.post(
        "/api/flows",
        json={
            "name": "IndiaMART leads",
            "priority": 1,
            "cooldown_minutes": 0,
            "trigger": {
                "type": "lead_created",
                "conditions": [{"field": "lead_source", "op": "eq", "value": "IndiaMART"}],
            },
            "definition": FIRST_IS_SMS,
        },
        headers=headers,
    )
    created.raise_for_status()
    published = await api.post(
        f"/api/flows/{created.json()['id']}/versions/1/publish", headers=headers
    )
    published.raise_for_status()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="leads per second")
    args = parser.parse_args()

    db = database()
    with session_scope(db.engine) as session:
        _, secret = issue_key(session, tenant_id=db.tenant_id, name="bench", role="manager")
    headers = {"Authorization": f"Bearer {secret}"}
    async with temporal_server() as env:
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        settings = Settings.model_validate(
            {
                "FLOWDECK_ENV": "test",
                "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                "FLOWDECK_TASK_QUEUE": queue,
                "FLOWDECK_LOG_LEVEL": "WARNING",
            }
        )
        configure_logging(settings)
        flowdeck = build_worker(env.client, engine=db.engine, settings=settings, task_queue=queue)
        bare = Worker(
            env.client,
            task_queue=queue + "-bare",
            workflows=[FirstActivity],
            activities=[first_step],
            # This module imports the app, which the sandbox would refuse; the floor's
            # workflow is trivially deterministic.
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        app = create_app(settings=settings, engine=db.engine, temporal_client=env.client)
        transport = httpx.ASGITransport(app=app)
        async with (
            flowdeck,
            bare,
            httpx.AsyncClient(transport=transport, base_url="http://bench") as api,
        ):
            await _flow(api, headers)
            warm = max(10, args.leads // 10)
            await _leads(api, db, headers, warm, args.rate)
            await _bare(env.client, queue + "-bare", warm, args.rate, local=False)
            answers: list[float] = []
            rows = [
                (
                    "bare: start → first activity",
                    await _bare(env.client, queue + "-bare", args.leads, args.rate, local=False),
                ),
                (
                    "bare: eager start → first local activity",
                    await _bare(env.client, queue + "-bare", args.leads, args.rate, local=True),
                ),
                (
                    "flowdeck: POST /api/contacts → first action",
                    await _leads(api, db, headers, args.leads, args.rate, answers),
                ),
                ("flowdeck: POST /api/contacts → its response", answers),
            ]
    sys.stdout.write(f"{args.leads} leads at {args.rate:g}/s (target p50 ≤ 30 ms, p99 ≤ 100 ms)\n")
    for name, latencies in rows:
        sys.stdout.write(_percentiles(name, latencies))


if __name__ == "__main__":
    asyncio.run(main())
