"""Call turns: Twilio's webhook → the TwiML answer, for many concurrent calls.

The API is served by uvicorn on loopback in this process, with the Flowdeck worker on the
same Temporal client, as `flowdeck api` runs with its embedded worker (and the bare worker
beside it). The callers (Twilio's part, and the bare Update's client) run in a second
process, as Twilio is not inside Flowdeck; they post over HTTP, so work done after a
response is sent stays off the measured path. They post with aiohttp: httpx's client spends
about 2.5 ms of its own per request here (4.1 ms against 1.6 ms p50 for a trivial endpoint),
which is Twilio's side of the wire, not Flowdeck's.
Each simulated call (`callsim.SimulatedCall`: signed form posts, TwiML parsed and
followed) rings a deployed menu flow, then presses a key `--turns` times (each press: the
`<Gather>` action → the `call_turn` Update → a `condition` → the next `<Gather>`), then
presses 9 and is hung up on. The floor, measured in the same run on the same server: a
bare workflow answering an Update at once, driven with the same concurrency. Targets (SPEC
§7): a gather turn p50 ≤ 25 ms, p99 ≤ 80 ms, ≤ 1.5 x a bare Update; the first TwiML of a
call p99 ≤ 200 ms.

    python -m bench.call_turns --calls 100 --turns 5 --concurrency 20 --think-ms 500
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
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import uvicorn
from sqlalchemy.engine import Engine
from temporalio import workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.main import create_app
from bench.common import Database, database, free_port, postgres, temporal_server
from callsim import SimulatedCall
from cli import configure_logging, freeze_startup_heap
from schemas.settings import Settings
from store.db import create_db_engine, session_scope
from store.keys import issue_key
from worker import build_worker

AUTH_TOKEN = "bench-twilio-token"
PUBLIC_URL = "https://flowdeck.bench"
NUMBER = "+15550009000"
MENU = {
    "start": "menu",
    "nodes": [
        {
            "id": "menu",
            "type": "gather",
            "config": {"prompt": "Press 1 to go on, 9 to stop.", "num_digits": 1},
            "transitions": {"input": "again", "timeout": "bye"},
        },
        {
            "id": "again",
            "type": "condition",
            "config": {"when": {"var": "call.digits", "op": "eq", "value": "9"}},
            "transitions": {"true": "bye", "false": "menu"},
        },
        {"id": "bye", "type": "hangup"},
    ],
}


@workflow.defn(name="BenchBareCall")
class BareCall:
    """The floor: an Update answered at once by a workflow that only waits for the next."""

    def __init__(self) -> None:
        self._over = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._over)

    @workflow.update
    async def turn(self, number: int) -> str:
        if number < 0:
            self._over = True
        return f"<Response><Gather>{number}</Gather></Response>"


@dataclass(frozen=True)
class _Answered:
    status_code: int
    text: str


class _Aiohttp:
    """`callsim.Poster` on an aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def post(self, url: str, *, data: dict[str, str], headers: dict[str, str]) -> _Answered:
        async with self._session.post(url, data=data, headers=headers) as response:
            return _Answered(response.status, await response.text())


def _percentiles(name: str, latencies_s: list[float]) -> tuple[str, float, float]:
    ordered = sorted(latencies_s)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    sys.stdout.write(f"{name:<44} {len(ordered):>5}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms\n")
    return name, p50, p99


async def _think(seconds: float) -> None:
    """A caller listens to the prompt and presses a key: jittered, so calls do not align."""
    if seconds > 0:
        await asyncio.sleep(seconds * random.uniform(0.5, 1.5))


async def _calls(
    api: _Aiohttp, count: int, turns: int, concurrency: int, think_s: float
) -> tuple[list[float], list[float]]:
    """(first TwiML latencies, gather-turn latencies) of `count` calls."""
    gate = asyncio.Semaphore(concurrency)
    first: list[float] = []
    each: list[float] = []

    async def one() -> None:
        async with gate:
            call = SimulatedCall(
                client=api,
                auth_token=AUTH_TOKEN,
                public_url=PUBLIC_URL,
                to=NUMBER,
                from_="+1555" + str(uuid.uuid4().int)[:7],
                follow_redirects=False,
            )
            # Calls arrive at random moments, not in a burst at the start of the round.
            await asyncio.sleep(random.uniform(0, 2 * think_s))
            began = time.perf_counter()
            answer = await call.start()
            first.append(time.perf_counter() - began)
            if answer.first("Gather") is None:
                raise RuntimeError(f"the call was not answered with a menu:\n{answer.text}")
            for _ in range(turns):
                await _think(think_s)
                began = time.perf_counter()
                answer = await call.press("1")
                each.append(time.perf_counter() - began)
                if answer.first("Gather") is None:
                    raise RuntimeError(f"a turn answered without a menu:\n{answer.text}")
            answer = await call.press("9")
            if not answer.hangs_up:
                raise RuntimeError(f"the last turn did not hang up:\n{answer.text}")

    await asyncio.gather(*(one() for _ in range(count)))
    return first, each


async def _bare(
    client: Client, queue: str, count: int, turns: int, concurrency: int, think_s: float
) -> list[float]:
    gate = asyncio.Semaphore(concurrency)
    each: list[float] = []

    async def one() -> None:
        async with gate:
            handle = await client.start_workflow(
                BareCall.run, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
            )
            for number in range(turns):
                await _think(think_s)
                began = time.perf_counter()
                await handle.execute_update(BareCall.turn, number)
                each.append(time.perf_counter() - began)
            await handle.execute_update(BareCall.turn, -1)
            await handle.result()

    await asyncio.gather(*(one() for _ in range(count)))
    return each


@dataclass(frozen=True)
class Plan:
    url: str
    temporal: str
    bare_queue: str
    calls: int
    turns: int
    concurrency: int
    think_s: float
    rounds: int
    beside: float


async def _static(api: _Aiohttp, count: int, concurrency: int, think_s: float) -> list[float]:
    """The HTTP floor: a signed webhook answered with fixed TwiML (the queue's hold music)."""
    gate = asyncio.Semaphore(concurrency)
    each: list[float] = []
    caller = SimulatedCall(
        client=api, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to=NUMBER, from_="+15550000001"
    )

    async def one() -> None:
        async with gate:
            await _think(think_s)
            began = time.perf_counter()
            response = await caller.post(PUBLIC_URL + "/webhooks/twilio/voice/wait")
            each.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise RuntimeError(f"the hold music answered {response.status_code}")

    await asyncio.gather(*(one() for _ in range(count)))
    return each


def _rounds(total: int, rounds: int) -> list[int]:
    """`total` calls split into `rounds` rounds as even as can be."""
    rounds = max(1, min(rounds, total))
    return [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]


Measured = tuple[list[float], list[float], list[float], list[float], list[float]]


def _callers(plan: Plan) -> Measured:
    """In the callers' process: (bare turns, static webhooks, first TwiMLs, call turns, bare
    turns during the calls' rounds)."""

    async def run() -> Measured:
        client = await Client.connect(plan.temporal)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(plan.url, timeout=timeout) as session:
            api = _Aiohttp(session)
            warm = max(5, plan.calls // 10)
            await _calls(api, warm, plan.turns, plan.concurrency, 0)
            await _bare(client, plan.bare_queue, warm, plan.turns, plan.concurrency, 0)
            bare: list[float] = []
            static: list[float] = []
            first: list[float] = []
            turns: list[float] = []
            beside: list[float] = []
            # Short rounds of each kind, taken in turn: this box's speed drifts over minutes,
            # and the drift must weigh on the floor and on Flowdeck alike.
            for calls in _rounds(plan.calls, plan.rounds):
                bare += await _bare(
                    client, plan.bare_queue, calls, plan.turns, plan.concurrency, plan.think_s
                )
                static += await _static(api, calls * plan.turns, plan.concurrency, plan.think_s)
                # A few bare workflows answer Updates at the same pace while the calls run:
                # the floor under the calls' own load (the API process serving webhooks, the
                # worker beside it walking flows), not only in a round of its own.
                probes = round(calls * plan.beside)
                beside_conc = max(1, round(plan.concurrency * plan.beside))
                (firsts, each), probed = await asyncio.gather(
                    _calls(api, calls, plan.turns, plan.concurrency, plan.think_s),
                    _bare(client, plan.bare_queue, probes, plan.turns, beside_conc, plan.think_s),
                )
                first += firsts
                turns += each
                beside += probed
        return bare, static, first, turns, beside

    return asyncio.run(run())


async def _deploy(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await api.post(
        "/api/flows", json={"name": "Bench menu", "definition": MENU}, headers=headers
    )
    created.raise_for_status()
    flow_id = created.json()["id"]
    published = await api.post(f"/api/flows/{flow_id}/versions/1/publish", headers=headers)
    published.raise_for_status()
    number = await api.post("/api/phone-numbers", json={"number": NUMBER}, headers=headers)
    number.raise_for_status()
    deployed = await api.post(
        f"/api/flows/{flow_id}/deploy", json={"phone_numbers": [NUMBER]}, headers=headers
    )
    deployed.raise_for_status()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--turns", type=int, default=5, help="gather turns per call")
    parser.add_argument("--concurrency", type=int, default=10, help="calls at once")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=500,
        help="mean time a caller takes to press a key (0: back to back, a stress test)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="the floor and Flowdeck are measured in this many alternating rounds",
    )
    parser.add_argument(
        "--beside",
        type=float,
        default=0.2,
        help="bare workflows driven during the calls' rounds, as a share of the calls (0: none)",
    )
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="the workers in a process of their own, as `flowdeck api` + `flowdeck worker`",
    )
    parser.add_argument(
        "--postgres", action="store_true", help="a real PostgreSQL (pgserver) instead of SQLite"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres()) if args.postgres else None
        await _run(args, database(url))


def _workers(
    temporal: str, database_url: str, environ: dict[str, str], ready: Any, stop: Any
) -> None:
    """In the worker process (`--worker-process`): the Flowdeck and bare workers until `stop`."""

    async def run() -> None:
        settings = Settings.model_validate(environ)
        configure_logging(settings)
        client = await Client.connect(temporal, data_converter=pydantic_data_converter)
        async with _running_workers(client, create_db_engine(database_url), settings):
            freeze_startup_heap()  # as `flowdeck worker` does once running
            ready.set()
            await asyncio.to_thread(stop.wait)

    asyncio.run(run())


@contextlib.asynccontextmanager
async def _running_workers(
    client: Client, engine: Engine, settings: Settings
) -> AsyncIterator[None]:
    """The Flowdeck worker and the floor's bare worker, on the same client."""
    bare = Worker(
        client,
        task_queue=settings.task_queue + "-bare",
        workflows=[BareCall],
        # This module imports the app, which the sandbox would refuse; the floor's
        # workflow is trivially deterministic.
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with build_worker(client, engine=engine, settings=settings), bare:
        yield


@contextlib.asynccontextmanager
async def _workers_beside(
    args: argparse.Namespace,
    client: Client,
    db: Database,
    settings: Settings,
    environ: dict[str, str],
) -> AsyncIterator[None]:
    """The workers: in this process beside the API (`flowdeck api` with its embedded worker),
    or in a process of their own (`flowdeck api` + `flowdeck worker`), configured by `environ`."""
    if not args.worker_process:
        async with _running_workers(client, db.engine, settings):
            yield
        return
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Event(), spawn.Event()
    url = db.engine.url.render_as_string(hide_password=False)
    process = spawn.Process(
        target=_workers, args=(settings.temporal_address, url, environ, ready, stop)
    )
    process.start()
    try:
        if not await asyncio.to_thread(ready.wait, 60):
            raise RuntimeError("the worker process did not start")
        yield
    finally:
        stop.set()
        await asyncio.to_thread(process.join, 30)


async def _run(args: argparse.Namespace, db: Database) -> None:
    with session_scope(db.engine) as session:
        _, secret = issue_key(session, tenant_id=db.tenant_id, name="bench", role="manager")
    headers = {"Authorization": f"Bearer {secret}"}
    async with temporal_server() as env:
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        environ = {
            "FLOWDECK_ENV": "test",
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "FLOWDECK_TASK_QUEUE": queue,
            "FLOWDECK_LOG_LEVEL": "WARNING",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_BASE_URL": PUBLIC_URL,
        }
        settings = Settings.model_validate(environ)
        configure_logging(settings)
        app = create_app(settings=settings, engine=db.engine, temporal_client=env.client)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
                timeout_keep_alive=75,
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        async with (
            _workers_beside(args, env.client, db, settings, environ),
            httpx.AsyncClient(base_url=url, timeout=30) as api,
        ):
            await _deploy(api, headers)
            freeze_startup_heap()  # as `flowdeck api` does once serving
            plan = Plan(
                url=url,
                temporal=settings.temporal_address or "",
                bare_queue=queue + "-bare",
                calls=args.calls,
                turns=args.turns,
                concurrency=args.concurrency,
                think_s=args.think_ms / 1000,
                rounds=args.rounds,
                beside=args.beside,
            )
            spawn = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as callers:
                loop = asyncio.get_running_loop()
                measured = await loop.run_in_executor(callers, _callers, plan)
                bare_turns, static, first, turns, beside = measured
        server.should_exit = True
        await serving
    sys.stdout.write(
        f"{args.calls} calls x {args.turns} turns, {args.concurrency} at once, "
        f"~{args.think_ms:g} ms between key presses, {'PostgreSQL' if args.postgres else 'SQLite'} "
        "(targets: turn p50 ≤ 25 ms, p99 ≤ 80 ms, ≤ 1.5 x bare; first TwiML p99 ≤ 200 ms)\n"
    )
    rows: list[Any] = [
        _percentiles("bare: Update round-trip", bare_turns),
        _percentiles("http: signed webhook → fixed TwiML", static),
        _percentiles("flowdeck: gather turn → TwiML", turns),
        _percentiles("flowdeck: incoming call → first TwiML", first),
    ]
    sys.stdout.write(
        f"ratio to bare: p50 {rows[2][1] / rows[0][1]:.2f}x, p99 {rows[2][2] / rows[0][2]:.2f}x\n"
    )
    if beside:
        floor = _percentiles("bare: Update round-trip beside the calls", beside)
        sys.stdout.write(
            f"ratio to bare beside the calls: p50 {rows[2][1] / floor[1]:.2f}x, "
            f"p99 {rows[2][2] / floor[2]:.2f}x\n"
        )


if __name__ == "__main__":
    asyncio.run(main())
