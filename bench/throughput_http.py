"""Throughput on the `./run` configuration: a flow of 3 `http` POSTs to a local sink, started
through the API, against bare Temporal workflows on the same server (issue 15).

`python -m bench.throughput --scenario http` runs, in a scratch directory:

- `flowdeck dev` as `./run` starts it (`cli.main(["dev", ...])` in a process of its own, with
  `.data/` in that directory): its Temporal dev server child on `.data/temporal.db` with
  exactly the flags `cli.DevTemporal` passes, Flowdeck on SQLite, the API and its embedded
  worker in each of its serving processes (FLOWDECK_DEV_PROCESSES: two on a 2-core box), the
  product's default logging (INFO, uvicorn's access lines);
- a worker process for the bare workflows (`bench.bare`: 3 no-op activities, 3 no-op local
  activities) on the same Temporal server;
- in this process: the sink (aiohttp on loopback; the product is given
  FLOWDECK_HTTP_ALLOWLIST=127.0.0.1, as the tests allow loopback) and the load: runs posted
  with aiohttp to `POST /api/flows/{id}/executions` (admin key), `--concurrency` in flight;
  a run's latency is from its POST being sent to the sink having all 3 of its POSTs. Bare
  runs are started with a Temporal client from here; theirs is start → result.

The phases alternate in rounds (`--rounds`): this shared 2-core machine's speed drifts
minute to minute, and a slow spell weighs on each phase alike. After each Flowdeck phase
every run's row must be `completed` with its 3 `http` steps recorded in the timeline
(`execution_step`); any run short of that is listed. Levers, for comparisons only:
`--dev-pragmas none` starts the dev server without `cli.DEV_SQLITE_PRAGMAS` (the `./run` of
before issue 15), `--worker-option NAME=VALUE` (repeatable) overrides a `temporalio.worker.Worker`
argument of the product's worker (`worker.build_worker`) in the first serving process (the
others start afresh), e.g. `max_concurrent_activities=20`;
`--product-env NAME=VALUE` (repeatable) gives `flowdeck dev` a setting (the bench's own
FLOWDECK_* variables are not passed on); `--step-timeout-s` sets each step's `timeout_s`.
`--extra-workers N` starts N `flowdeck worker` processes beside `flowdeck dev`.

    python -m bench.throughput --scenario http --runs 500 --concurrency 100 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare import BareLocalWorkflow, BareWorkflow, noop
from bench.chaos import (
    Child,
    child_environment,
    publish_flow,
    until_serving,
)
from bench.common import combine, figures, free_port, show
from store.db import create_db_engine
from store.keys import new_secret

STEPS = 3
SINK_PATH = "/sink"
RUN_TIMEOUT_S = 300.0


def http_flow(sink_url: str, timeout_s: float | None = None) -> dict[str, Any]:
    """`STEPS` HTTP POSTs to the sink, one after the other, then the end; each attempt's
    timeout the product's default unless `timeout_s`."""
    nodes: list[dict[str, Any]] = []
    timeout = {} if timeout_s is None else {"timeout_s": timeout_s}
    for step in range(1, STEPS + 1):
        nodes.append(
            {
                "id": f"post{step}",
                "type": "http",
                "config": {
                    "method": "POST",
                    "url": sink_url,
                    "body": {"execution": "{{ execution.id }}", "step": step},
                    **timeout,
                },
                "transitions": {"success": f"post{step + 1}" if step < STEPS else "done"},
            }
        )
    nodes.append({"id": "done", "type": "end"})
    return {"start": "post1", "nodes": nodes}


# --- the sink ----------------------------------------------------------------------------------


class Sink:
    """Records each execution's POSTs by step; a run is done once every step has posted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{SINK_PATH}"
        self.steps: dict[str, set[int]] = defaultdict(set)
        self.calls = 0
        self.repeats = 0
        self._done: dict[str, asyncio.Future[float]] = {}

    def done(self, execution_id: str) -> asyncio.Future[float]:
        """Resolved with the moment (perf_counter) the execution's last step posted."""
        if execution_id not in self._done:
            self._done[execution_id] = asyncio.get_running_loop().create_future()
        return self._done[execution_id]

    async def _post(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        body = await request.json()
        execution_id, step = str(body["execution"]), int(body["step"])
        self.calls += 1
        seen = self.steps[execution_id]
        if step in seen:
            self.repeats += 1
        seen.add(step)
        if len(seen) == STEPS and not self.done(execution_id).done():
            self.done(execution_id).set_result(at)
        return web.json_response({"ok": True})

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[Sink]:
        app = web.Application()
        app.router.add_post(SINK_PATH, self._post)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port, backlog=1024).start()
        try:
            yield self
        finally:
            await runner.cleanup()


# --- the processes -----------------------------------------------------------------------------


def _serve(argv: list[str]) -> int:
    """In the product's process: `flowdeck dev` as `./run` runs it, with the levers asked for."""
    import faulthandler

    import cli
    import worker as worker_module

    # `kill -USR1 <pid>` writes every thread's stack to the log (dev.log): where a stall waits.
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    parser = argparse.ArgumentParser()
    parser.add_argument("--dev-pragmas", choices=("default", "none"), default="default")
    parser.add_argument("--worker-option", action="append", default=[])
    args, dev_args = parser.parse_known_args(argv)
    if args.dev_pragmas == "none":
        cli.DEV_SQLITE_PRAGMAS = ()
    options = worker_options(args.worker_option)
    if options:

        def tuned(*positional: Any, **named: Any) -> Worker:
            return Worker(*positional, **{**named, **options})

        worker_module.Worker = tuned  # type: ignore[misc,assignment]
    return cli.main(["dev", *dev_args])


def worker_options(pairs: list[str]) -> dict[str, Any]:
    """`NAME=VALUE` as the Worker's argument; `workflow_threads=N` gives its workflow tasks a
    pool of N threads (`workflow_task_executor`; by default one per workflow-task slot)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name == "workflow_threads":
            options["workflow_task_executor"] = ThreadPoolExecutor(
                int(value), thread_name_prefix="workflow_task"
            )
            continue
        options[name] = float(value) if "." in value else int(value)
    return options


def _bare_worker(address: str, queue: str) -> None:
    """In the bare workers' process: the bare workflows' worker until SIGTERM."""

    async def run() -> None:
        client = await Client.connect(address)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        worker = Worker(
            client,
            task_queue=queue,
            workflows=[BareWorkflow, BareLocalWorkflow],
            activities=[noop],
            max_concurrent_activities=200,  # as worker.build_worker sets Flowdeck's
            max_concurrent_workflow_tasks=200,
        )
        async with worker:
            await stop.wait()

    asyncio.run(run())


# --- the load ----------------------------------------------------------------------------------


async def _measure(
    name: str, runs: int, concurrency: int, one: Callable[[], Awaitable[float | None]]
) -> tuple[dict[str, Any], int]:
    """`runs` calls of `one` (its latency in s, or None when it failed), `concurrency` at a
    time: the phase's figures over the runs that finished, and how many did not."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failed = 0

    async def timed() -> None:
        nonlocal failed
        async with gate:
            latency = await one()
            if latency is None:
                failed += 1
            else:
                latencies.append(latency)

    began = time.perf_counter()
    await asyncio.gather(*(timed() for _ in range(runs)))
    return figures(name, latencies or [0.0], time.perf_counter() - began), failed


class Flowdeck:
    """Runs of the HTTP flow posted through the API; their ids, per phase."""

    def __init__(self, api: aiohttp.ClientSession, sink: Sink, flow_id: str) -> None:
        self.api = api
        self.sink = sink
        self.flow_id = flow_id
        self.posted = 0
        self.errors: Counter[str] = Counter()
        self.ids: list[str] = []

    async def one(self) -> float | None:
        self.posted += 1
        body = {"contact": {"name": "Asha", "phone": f"+1555{self.posted:07d}"}}
        began = time.perf_counter()
        try:
            async with self.api.post(f"/api/flows/{self.flow_id}/executions", json=body) as answer:
                if answer.status != 201:
                    self.errors[f"{answer.status} {(await answer.text())[:120]}"] += 1
                    return None
                execution_id = str((await answer.json())["id"])
        except aiohttp.ClientError as error:
            self.errors[f"{type(error).__name__}: {error}"] += 1
            return None
        self.ids.append(execution_id)
        try:
            done = await asyncio.wait_for(
                asyncio.shield(self.sink.done(execution_id)), RUN_TIMEOUT_S
            )
        except TimeoutError:
            self.errors["no third POST within the timeout"] += 1
            return None
        return done - began


def all_rows(database_url: str, flow_id: str) -> str:
    """Every execution row of the flow by status (warm-up and failed posts included)."""
    engine = create_db_engine(database_url)
    query = sa.text("SELECT status, COUNT(*) FROM execution WHERE flow_id = :f GROUP BY status")
    try:
        with engine.connect() as db:
            counts = {status: n for status, n in db.execute(query, {"f": flow_id})}
    finally:
        engine.dispose()
    return ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))


def check_timeline(database_url: str, execution_ids: list[str], within_s: float = 60.0) -> str:
    """Every run `completed` with its `STEPS` http steps in `execution_step` (waits for the
    rows to settle): a line saying so, or what is short."""
    engine = create_db_engine(database_url)
    query = sa.text(
        "SELECT e.id, e.status, COUNT(s.id) FROM execution e LEFT JOIN execution_step s "
        "ON s.execution_id = e.id AND s.node_type = 'http' AND s.status = 'success' "
        "WHERE e.flow_id = (SELECT flow_id FROM execution WHERE id = :first) "
        "GROUP BY e.id, e.status"
    )
    wanted = set(execution_ids)
    deadline = time.monotonic() + within_s
    try:
        while True:
            with engine.connect() as db:
                rows = {
                    r[0]: (r[1], r[2])
                    for r in db.execute(query, {"first": execution_ids[0]})
                    if r[0] in wanted
                }
            short = {
                e: rows.get(e, ("no row", 0))
                for e in wanted
                if rows.get(e, ("no row", 0)) != ("completed", STEPS)
            }
            if not short or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    steps = sum(n for _, n in rows.values())
    line = (
        f"{len(wanted)} runs: {len(wanted) - len(short)} completed with {STEPS} http steps "
        f"recorded ({steps} step rows)"
    )
    if short:
        kinds = Counter(f"{status}, {n} steps" for status, n in short.values())
        line += "; NOT: " + ", ".join(f"{n} x {k}" for k, n in kinds.items())
        line += " (e.g. " + ", ".join(sorted(short)[:3]) + ")"
    return line


async def run(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="flowdeck-throughput-", dir=args.workdir))
    admin_key = new_secret()
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    base_url = f"http://127.0.0.1:{api_port}"
    temporal_address = f"127.0.0.1:{temporal_port}"
    database_url = f"sqlite:///{directory / '.data' / 'flowdeck.db'}"
    settings = dict(pair.partition("=")[::2] for pair in args.product_env)
    env = child_environment(
        FLOWDECK_ADMIN_KEY=admin_key, FLOWDECK_HTTP_ALLOWLIST="127.0.0.1", **settings
    )
    levers = [f"--dev-pragmas={args.dev_pragmas}"]
    levers += [f"--worker-option={o}" for o in args.worker_option]
    dev_args = [
        "--host",
        "127.0.0.1",
        "--port",
        str(api_port),
        "--temporal-port",
        str(temporal_port),
        "--ui-port",
        str(ui_port),
    ]
    command = [sys.executable, "-m", "bench.throughput_http", "serve"]
    product = Child(
        "flowdeck dev", [*command, *levers, *dev_args], directory, env, directory / "dev.log"
    )
    queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    bare_command = [sys.executable, "-m", "bench.throughput_http", "bare-worker"]
    bare_worker = Child(
        "bare worker",
        [*bare_command, temporal_address, queue],
        directory,
        env,
        directory / "bare.log",
    )
    # `flowdeck worker` processes beside `flowdeck dev` (whose API keeps its embedded worker)
    workers = [
        Child(
            f"flowdeck worker {n}",
            [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(['worker']))"],
            directory,
            {**env, "TEMPORAL_ADDRESS": temporal_address, "DATABASE_URL": database_url},
            directory / f"worker-{n}.log",
        )
        for n in range(1, args.extra_workers + 1)
    ]
    sink = Sink()
    product.start()
    try:
        await until_serving(base_url, product)
        bare_worker.start()
        for extra in workers:
            extra.start()
        flow = http_flow(sink.url, args.step_timeout_s)
        flow_id = await publish_flow(base_url, admin_key, "throughput", flow)
        client = await Client.connect(temporal_address)
        # Idle connections are let go before uvicorn's keep-alive (5 s) closes them: a POST
        # sent on one the server is closing at that moment would be reset.
        connector = aiohttp.TCPConnector(limit=args.concurrency, keepalive_timeout=2.0)
        headers = {"Authorization": f"Bearer {admin_key}"}
        async with (
            sink.serving(),
            aiohttp.ClientSession(base_url, connector=connector, headers=headers) as api,
        ):
            flowdeck = Flowdeck(api, sink, flow_id)

            def bare(workflow: str) -> Callable[[], Awaitable[float | None]]:
                async def one() -> float | None:
                    began = time.perf_counter()
                    await client.execute_workflow(
                        workflow, STEPS, id=uuid.uuid4().hex, task_queue=queue
                    )
                    return time.perf_counter() - began

                return one

            phases: dict[str, Callable[[], Awaitable[float | None]]] = {
                "bare: 3 activities": bare("BenchBare"),
                "bare: 3 local activities": bare("BenchBareLocal"),
                "flowdeck: 3 http steps, via API": flowdeck.one,
            }
            for one in phases.values():  # first-use costs out of the figures
                await _measure("warm-up", 20, 10, one)
            flowdeck.ids.clear()
            rounds: list[dict[str, dict[str, Any]]] = []
            checks: list[str] = []
            failures: Counter[str] = Counter()
            for number in range(1, args.rounds + 1):
                row: dict[str, dict[str, Any]] = {}
                for name, one in phases.items():
                    row[name], failed = await _measure(name, args.runs, args.concurrency, one)
                    if failed:
                        failures[name] += failed
                    tail = f" ({failed} failed)" if failed else ""
                    say(f"round {number}: {line(row[name])}{tail}")
                ids, flowdeck.ids = flowdeck.ids, []
                checks.append(await asyncio.to_thread(check_timeline, database_url, ids))
                say(f"round {number}: timeline: {checks[-1]}")
                rounds.append(row)
        rows = await asyncio.to_thread(all_rows, database_url, flow_id)
    finally:
        for extra in workers:
            extra.stop()
        bare_worker.stop()
        product.stop(signal.SIGINT)
    say()
    say(
        f"./run configuration: flowdeck dev (Temporal dev server on its SQLite file, "
        f"{'no pragmas' if args.dev_pragmas == 'none' else 'cli.DEV_SQLITE_PRAGMAS'}), "
        f"Flowdeck on SQLite; worker options: {', '.join(args.worker_option) or 'build_worker'}"
    )
    if settings:
        say(f"product settings: {', '.join(args.product_env)}")
    if workers:
        say(f"beside it: {len(workers)} `flowdeck worker` process(es) on its task queue")
    say(
        f"{args.rounds} rounds of {args.runs} runs each, {args.concurrency} in flight; "
        f"logs in {directory}"
    )
    for name in phases:
        show(combine(name, [r[name] for r in rounds]))
    flow = "flowdeck: 3 http steps, via API"
    for bare_name, label in (
        ("bare: 3 activities", "flowdeck / bare 3 activities (target >= 1.25)"),
        ("bare: 3 local activities", "flowdeck / bare 3 local activities"),
    ):
        ratios = [r[flow]["per_s"] / r[bare_name]["per_s"] for r in rounds]
        each = ", ".join(f"{x:.2f}" for x in ratios)
        say(f"ratio {label}: {statistics.median(ratios):.2f} (rounds: {each})")
    per_s = ", ".join(f"{r[flow]['per_s']:.1f}" for r in rounds)
    say(f"flowdeck runs/s by round (target >= 50): {per_s}")
    for number, check in enumerate(checks, start=1):
        say(f"timeline, round {number}: {check}")
    say(f"every execution row of the flow (warm-up included): {rows}")
    say(f"sink: {sink.calls} POSTs, {sink.repeats} repeated (a step posted twice)")
    if failures or flowdeck.errors:
        say(f"failed runs: {dict(failures)}; Flowdeck errors: {dict(flowdeck.errors)}")


def line(row: dict[str, Any]) -> str:
    return (
        f"{row['name']:<34} {row['count']:>5} runs  {row['per_s']:7.1f}/s  "
        f"median {row['median_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms"
    )


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dev-pragmas",
        choices=("default", "none"),
        default="default",
        help="http: the dev server's SQLite pragmas (none: as before issue 15)",
    )
    parser.add_argument(
        "--worker-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="http: a temporalio Worker argument for the product's worker (repeatable)",
    )
    parser.add_argument(
        "--product-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="http: a setting for `flowdeck dev` (repeatable; the bench's own environment's "
        "FLOWDECK_* are not passed on), e.g. FLOWDECK_LOCAL_ACTIVITY_MAX_S=5",
    )
    parser.add_argument(
        "--step-timeout-s",
        type=float,
        default=None,
        help="http: each step's attempt timeout (config.timeout_s; default: the product's)",
    )
    parser.add_argument(
        "--extra-workers",
        type=int,
        default=0,
        help="http: `flowdeck worker` processes to start beside `flowdeck dev`",
    )
    parser.add_argument("--workdir", default=None, help="http: where the scratch folder goes")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(_serve(sys.argv[2:]))
    if sys.argv[1:2] == ["bare-worker"]:
        _bare_worker(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit("run it as: python -m bench.throughput --scenario http")
