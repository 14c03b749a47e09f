"""Flow throughput: N executions of a 3-step flow against a bare workflow of 3 activities.

`--scenario steps` (the default): an SMS, a WhatsApp and an email step (sandbox providers),
started with a Temporal client in this process; both run on the same Temporal dev server
(in memory) and in the same worker process, one after the other. Prints runs per second,
median and p99 latency for each, and the ratio (target ≥ 0.8).

`--scenario http`: issue 15's scenario on the `./run` configuration (`bench.throughput_http`):
3 `http` POSTs to a local sink, started through the API of a `flowdeck dev` process, against
bare workflows on its Temporal dev server (its SQLite file); 500 runs a phase by default.

    python -m bench.throughput --runs 300 --concurrency 100 --rounds 3
    python -m bench.throughput --scenario http --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench import throughput_http
from bench.bare import BareLocalWorkflow, BareWorkflow, noop
from bench.common import Database, combine, database, figures, show, temporal_server
from cli import configure_logging
from schemas import search_attributes
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
    data = ExecutionInput(
        execution_id=execution_id,
        tenant_id=db.tenant_id,
        flow_id=flow_id,
        flow_name="bench",
        version=1,
        definition=FlowDocument.model_validate(THREE_STEPS),
        contact=contact,
        local_steps=local_steps,
    )
    # Started as the API starts a run: with Flowdeck's search attributes and memo.
    await client.execute_workflow(
        WORKFLOW_NAME,
        data,
        id=workflow_id_for(execution_id),
        task_queue=queue,
        request_eager_start=True,
        search_attributes=search_attributes.indexed(data),
        memo=search_attributes.memo(data),
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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=("steps", "http"), default="steps")
    parser.add_argument("--runs", type=int, default=None, help="per phase: 300 (steps), 500 (http)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sandbox", action="store_true", help="run the interpreter in Temporal's sandbox"
    )
    throughput_http.add_arguments(parser)
    args = parser.parse_args()
    if args.scenario == "http":
        args.runs = args.runs or 500
        await throughput_http.run(args)
        return
    args.runs = args.runs or 300

    settings = Settings.model_validate(
        {"FLOWDECK_ENV": "test", "FLOWDECK_WORKFLOW_SANDBOX": args.sandbox}
    )
    configure_logging(settings)  # the product's own logging, as `flowdeck dev` sets it up
    db = database()
    flow_id = _flow(db)
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
            phases: dict[str, Callable[[], Awaitable[Any]]] = {
                "bare: 3 activities": lambda: client.execute_workflow(
                    "BenchBare", 3, id=uuid.uuid4().hex, task_queue=queue + "-bare"
                ),
                "bare: 3 local activities": lambda: client.execute_workflow(
                    "BenchBareLocal", 3, id=uuid.uuid4().hex, task_queue=queue + "-bare"
                ),
                "flowdeck: sms, whatsapp, email": lambda: _run_flow(
                    client, db, flow_id, queue, local
                ),
                "flowdeck, no local activities": lambda: _run_flow(client, db, flow_id, queue, []),
            }
            # Rounds alternate the phases, so a slow spell of this shared machine weighs on
            # all of them alike; the ratio is the median of the rounds' ratios.
            rounds: list[dict[str, dict[str, Any]]] = []
            for _ in range(args.rounds):
                rounds.append(
                    {
                        name: await _measure(name, args.runs, args.concurrency, one)
                        for name, one in phases.items()
                    }
                )
    sys.stdout.write(f"interpreter sandboxed: {settings.workflow_sandbox}\n")
    for name in phases:
        show(combine(name, [r[name] for r in rounds]))
    for name, label in (
        ("flowdeck: sms, whatsapp, email", "flowdeck / bare 3 activities (target >= 0.80)"),
        ("flowdeck, no local activities", "flowdeck without local activities / bare"),
    ):
        ratios = [r[name]["per_s"] / r["bare: 3 activities"]["per_s"] for r in rounds]
        each = ", ".join(f"{x:.2f}" for x in ratios)
        sys.stdout.write(f"ratio {label}: {statistics.median(ratios):.2f} (rounds: {each})\n")


if __name__ == "__main__":
    asyncio.run(main())
