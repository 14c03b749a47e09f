"""API load: list and detail requests from many concurrent clients.

The API is served by uvicorn on loopback in this process (as `flowdeck api`, its worker left
out: list and detail requests never reach Temporal). The clients run in a second process,
each a loop of GET requests with its own key's bearer token, picked at random among: the
flows list, one flow's detail, the newest page of executions, and one execution's detail
with its step timeline. Seeded first: `--flows` flows and `--executions` executions of
them, each with a five-step timeline. Target (SPEC §7): p99 ≤ 50 ms with 50 concurrent
clients, no errors. `--think-ms 0` (the default) sends each client's next request as soon
as the last is answered, the harshest reading of "50 concurrent clients"; with `--think-ms M`
each client pauses about M ms between requests and starts at a random moment in the first M.

    python -m bench.api_load --clients 50 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import random
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import httpx
import uvicorn

from api.main import create_app
from bench.common import Database, database, free_port, postgres
from cli import configure_logging, freeze_startup_heap
from schemas.execution import ExecutionStatus, RecordInput, StepRecord, StepStatus
from schemas.settings import Settings
from store.db import session_scope
from store.executions import create_execution
from store.keys import issue_key
from store.models import utcnow
from store.timeline import apply_records

FLOW = {
    "start": "call",
    "nodes": [
        {
            "id": "call",
            "type": "ai_call",
            "config": {"agent_id": "sales-bot"},
            "transitions": {"answered": "done", "missed": "wa"},
        },
        {
            "id": "wa",
            "type": "whatsapp",
            "config": {"template": "lead_followup"},
            "transitions": {"sent": "wait"},
        },
        {"id": "wait", "type": "wait", "config": {"minutes": 10}, "transitions": {"next": "done"}},
        {"id": "done", "type": "end"},
    ],
}
STEPS = [("call", "ai_call", "missed"), ("wa", "whatsapp", "sent"), ("wait", "wait", "next")]


@dataclass(frozen=True)
class Plan:
    url: str
    token: str
    flow_ids: list[str]
    execution_ids: list[str]
    clients: int
    seconds: float
    think_s: float


Measured = dict[str, list[float]]


def _seed_executions(db: Database, flow_ids: list[str], count: int) -> list[str]:
    """`count` executions spread over the flows, each with a timeline and an end."""
    ids: list[str] = []
    start = utcnow() - timedelta(hours=1)
    for n in range(count):
        flow_id = flow_ids[n % len(flow_ids)]
        with session_scope(db.engine) as session:
            execution = create_execution(
                session,
                tenant_id=db.tenant_id,
                flow_id=flow_id,
                version=1,
                contact={"phone": f"+1555{n:07d}", "name": f"Lead {n}"},
                variables={},
                trigger={"type": "api"},
            )
        at = start + timedelta(seconds=n)
        records = [
            StepRecord(
                seq=seq,
                node_id=node,
                node_type=kind,
                status=StepStatus.success,
                started_at=at + timedelta(seconds=seq),
                ended_at=at + timedelta(seconds=seq, milliseconds=200),
                port=port,
                result={"note": f"step {seq} of execution {n}"},
            )
            for seq, (node, kind, port) in enumerate(STEPS, start=1)
        ]
        apply_records(
            db.engine,
            RecordInput(
                execution_id=execution.id,
                tenant_id=db.tenant_id,
                flow_id=flow_id,
                records=records,
                status=ExecutionStatus.completed if n % 3 else ExecutionStatus.waiting,
                at=at + timedelta(seconds=5),
            ),
        )
        ids.append(execution.id)
    return ids


def _clients(plan: Plan) -> tuple[Measured, int, float]:
    """In the clients' process: latencies per request kind, errors, seconds measured."""

    async def run() -> tuple[Measured, int, float]:
        latencies: Measured = defaultdict(list)
        errors = 0
        headers = {"Authorization": f"Bearer {plan.token}"}
        kinds = {
            "flows list": lambda: "/api/flows",
            "flow detail": lambda: f"/api/flows/{random.choice(plan.flow_ids)}",
            "executions list (50)": lambda: "/api/executions?limit=50",
            "execution detail": lambda: f"/api/executions/{random.choice(plan.execution_ids)}",
        }
        connector = aiohttp.TCPConnector(limit=plan.clients)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(
            plan.url, connector=connector, timeout=timeout, headers=headers
        ) as session:

            async def get(kind: str) -> float:
                nonlocal errors
                began = time.perf_counter()
                try:
                    async with session.get(kinds[kind]()) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                return time.perf_counter() - began

            for kind in kinds:  # warm every route and connection once
                await asyncio.gather(*(get(kind) for _ in range(plan.clients)))
            began = time.perf_counter()
            until = began + plan.seconds

            async def client() -> None:
                # Clients that pause arrive at random moments, not as one burst at the start.
                await asyncio.sleep(random.uniform(0, plan.think_s))
                while time.perf_counter() < until:
                    kind = random.choice(list(kinds))
                    latencies[kind].append(await get(kind))
                    if plan.think_s:
                        await asyncio.sleep(plan.think_s * random.uniform(0.5, 1.5))

            await asyncio.gather(*(client() for _ in range(plan.clients)))
            return dict(latencies), errors, time.perf_counter() - began

    return asyncio.run(run())


def _row(name: str, latencies_s: list[float]) -> str:
    ordered = sorted(latencies_s)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"{name:<24} {len(ordered):>6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms\n"


async def _run(args: argparse.Namespace, db: Database) -> None:
    with session_scope(db.engine) as session:
        _, token = issue_key(session, tenant_id=db.tenant_id, name="bench", role="manager")
    settings = Settings.model_validate(
        {"FLOWDECK_ENV": "test", "FLOWDECK_LOG_LEVEL": "WARNING", "TEMPORAL_ADDRESS": ""}
    )
    configure_logging(settings)
    app = create_app(settings=settings, engine=db.engine, temporal_client=None)
    headers = {"Authorization": f"Bearer {token}"}
    flow_ids: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as api:
        for n in range(args.flows):
            body = {"name": f"Lead follow-up {n}", "definition": FLOW}
            created = (await api.post("/api/flows", json=body, headers=headers)).json()
            publish = f"/api/flows/{created['id']}/versions/1/publish"
            (await api.post(publish, headers=headers)).raise_for_status()
            flow_ids.append(created["id"])
    execution_ids = await asyncio.to_thread(_seed_executions, db, flow_ids, args.executions)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.05)
    freeze_startup_heap()  # as `flowdeck api` does once serving
    plan = Plan(
        url=f"http://127.0.0.1:{port}",
        token=token,
        flow_ids=flow_ids,
        execution_ids=execution_ids,
        clients=args.clients,
        seconds=args.seconds,
        think_s=args.think_ms / 1000,
    )
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        latencies, errors, wall = await asyncio.get_running_loop().run_in_executor(
            pool, _clients, plan
        )
    server.should_exit = True
    await serving
    total = [x for values in latencies.values() for x in values]
    sys.stdout.write(
        f"{args.clients} clients, ~{args.think_ms:g} ms between a client's requests, "
        f"{args.flows} flows, {args.executions} executions, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'} (target: p99 ≤ 50 ms, no errors)\n"
    )
    for kind, values in sorted(latencies.items()):
        sys.stdout.write(_row(kind, values))
    sys.stdout.write(_row("all", total))
    sys.stdout.write(f"{len(total) / wall:.0f} requests/s, {errors} errors\n")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--think-ms", type=float, default=0, help="mean pause between a client's requests"
    )
    parser.add_argument("--flows", type=int, default=20)
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument(
        "--postgres", action="store_true", help="a real PostgreSQL (pgserver) instead of SQLite"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres()) if args.postgres else None
        await _run(args, database(url))


if __name__ == "__main__":
    asyncio.run(main())
