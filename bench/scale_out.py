"""Scale-out on PostgreSQL: `flowdeck api` (embedded worker off) and two `flowdeck worker`
processes on one task queue against one Temporal server (issue 15, item 4).

The topology is `bench.chaos`'s two-process layout with more workers: a Temporal dev server
on its SQLite file with `cli.DevTemporal`'s flags and pragmas, PostgreSQL 16 (pgserver),
`flowdeck api` with FLOWDECK_EMBEDDED_WORKER=false, and `--workers` (2) `flowdeck worker`
processes with the same settings, so the same task queue. The load is
`bench.throughput_http`'s: a flow of 3 `http` POSTs to a loopback sink, runs posted through
the API.

`--throughput` alternates, in `--rounds`, a phase with every worker running and a phase
with one (the others stopped with SIGTERM between phases, started again after): runs/s, p50
and p99 of each (a run: its POST sent → the sink has its 3rd POST), every run checked
`completed` with its 3 steps in the timeline.

`--kill`: the same topology, `--runs` posted `--concurrency` at a time; once
`--kill-at` of them are accepted, one worker is SIGKILLed and not restarted: the others must
finish everything. Counted as `bench.chaos` counts (accepted, completed, stranded, duplicate
steps, workflows run twice or still running) plus the sink's calls: repeated (execution,
step) pairs without and with the Idempotency-Key honoured, and when the repeats came after
the kill (Temporal retries an activity lost with its worker once its start-to-close timeout
passes: the step's timeout, 30 s by default; `--step-timeout-s` sets the `http` config's
timeout_s, the attempt's being 5 s more). `--sigterm` stops the worker as an operator would
instead (SIGTERM: `worker.shutdown()`). Exit 1 on a defect.

    .venv/bin/python -m bench.scale_out --throughput --runs 500 --concurrency 100 --rounds 2
    .venv/bin/python -m bench.scale_out --kill --runs 500 --concurrency 100

`--sqlite` runs the same topology on one SQLite file instead (for contrast: not a layout
to deploy). Process logs stay in the scratch directory named in the output.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil  # type: ignore[import-untyped]
from aiohttp import web

from bench.chaos import (
    Child,
    Poster,
    Report,
    SplitCluster,
    add_log_counts,
    count_into,
    maybe_postgres,
    now,
    publish_flow,
    read_rows,
    say,
    show_statuses,
    statuses,
    temporal_side,
    until_all_ended,
    until_logged,
)
from bench.common import combine, show
from bench.throughput_http import (
    Flowdeck,
    Sink,
    _measure,
    check_timeline,
    http_flow,
    line,
)
from schemas.execution import workflow_id_for
from store.db import create_db_engine
from store.keys import new_secret

PRODUCT_DEFAULTS = {
    # bench.chaos sweeps every second for its crash scenarios; throughput runs as shipped.
    "FLOWDECK_START_SWEEP_S": "15",
    "FLOWDECK_START_GRACE_S": "60",
}


class ScaleOutCluster(SplitCluster):
    """`SplitCluster` with `workers` `flowdeck worker` processes on the same task queue."""

    def __init__(
        self,
        directory: Path,
        admin_key: str,
        log_level: str,
        *,
        database_url: str | None,
        workers: int,
        settings: dict[str, str],
    ) -> None:
        super().__init__(directory, admin_key, log_level, database_url=database_url)
        self.api.env.update(settings)  # one dict: the API's and the workers' environment
        self.worker.name = "flowdeck worker 1"
        self.workers = [self.worker]
        for number in range(2, workers + 1):
            self.workers.append(
                Child(
                    f"flowdeck worker {number}",
                    self.worker.command,
                    directory,
                    self.api.env,
                    directory / f"worker-{number}.log",
                )
            )
        self.children = [self.temporal, self.api, *self.workers]

    def describe(self) -> str:
        backend = "PostgreSQL" if self.database_url.startswith("postgresql") else "SQLite"
        return (
            f"`flowdeck api` (embedded worker off) + {len(self.workers)} `flowdeck worker`, "
            f"Temporal dev server on its file (cli.DEV_SQLITE_PRAGMAS), {backend}"
        )

    async def start_one(self, child: Child) -> None:
        offset = child.log_size()
        child.start()
        await until_logged(child, "worker polling", offset)

    async def start(self) -> None:
        await self.start_temporal()
        await self.start_api()
        for child in self.workers:
            await self.start_one(child)

    async def stop(self) -> None:
        self.api.stop()
        for child in self.workers:
            child.stop()
        self.temporal.stop()


class KeyedSink(Sink):
    """`throughput_http.Sink`, also keeping each call's Idempotency-Key and moment."""

    def __init__(self) -> None:
        super().__init__()
        self.keyed: list[tuple[str, int, str | None, float]] = []
        """(execution, step, Idempotency-Key, time.monotonic()) of every call."""

    async def _post(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        body = await request.json()  # aiohttp keeps the body: the parent reads it again
        key = request.headers.get("Idempotency-Key")
        self.keyed.append((str(body["execution"]), int(body["step"]), key, at))
        return await super()._post(request)


def cpu_seconds(children: list[Child]) -> dict[str, float]:
    """CPU time (user + system) each live child has used so far, by name."""
    used: dict[str, float] = {}
    for child in children:
        if not child.alive():
            continue
        try:
            times = psutil.Process(child.pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        used[child.name] = times.user + times.system
    return used


def cpu_share(before: dict[str, float], after: dict[str, float], wall_s: float) -> str:
    """Each process's share of one core over a phase (100%: a whole core)."""
    shares = [
        f"{name.removeprefix('flowdeck ')} {(after[name] - before.get(name, 0.0)) / wall_s:.0%}"
        for name in after
    ]
    return ", ".join(shares)


def scratch(workdir: Path, name: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))


# --- throughput ----------------------------------------------------------------------------------


async def throughput(args: argparse.Namespace) -> int:
    directory = scratch(args.workdir, "scale-out-throughput")
    admin_key = new_secret()
    with maybe_postgres(directory, not args.sqlite) as pg:
        cluster = ScaleOutCluster(
            directory,
            admin_key,
            args.log_level,
            database_url=pg.url if pg else None,
            workers=args.workers,
            settings=PRODUCT_DEFAULTS,
        )
        say(f"{now()} {cluster.describe()}; scratch {directory}")
        sink = Sink()
        everyone = f"{args.workers} workers"
        alone = "1 worker"
        rounds: list[dict[str, dict[str, Any]]] = []
        checks: list[str] = []
        failures: Counter[str] = Counter()
        await cluster.start()
        try:
            flow_id = await publish_flow(
                cluster.base_url, admin_key, "scale-out", http_flow(sink.url, args.step_timeout_s)
            )
            connector = aiohttp.TCPConnector(limit=args.concurrency, keepalive_timeout=2.0)
            headers = {"Authorization": f"Bearer {admin_key}"}
            async with (
                sink.serving(),
                aiohttp.ClientSession(
                    cluster.base_url, connector=connector, headers=headers
                ) as api,
            ):
                flowdeck = Flowdeck(api, sink, flow_id)
                await _measure("warm-up", 20, 10, flowdeck.one)
                flowdeck.ids.clear()
                for number in range(1, args.rounds + 1):
                    row: dict[str, dict[str, Any]] = {}
                    # Alternate which comes first: the box's speed drifts within a round too.
                    order = [everyone, alone] if number % 2 else [alone, everyone]
                    for phase in order:
                        extra = cluster.workers[1:]
                        if phase == alone:
                            for child in extra:
                                child.stop()
                        else:
                            for child in extra:
                                if not child.alive():
                                    await cluster.start_one(child)
                        name = f"{phase}, 3 http via API"
                        before, began = cpu_seconds(cluster.children), time.monotonic()
                        psutil.cpu_percent()
                        row[phase], failed = await _measure(
                            name, args.runs, args.concurrency, flowdeck.one
                        )
                        box = psutil.cpu_percent()
                        wall = time.monotonic() - began
                        shares = cpu_share(before, cpu_seconds(cluster.children), wall)
                        say(f"round {number}: CPU of a core: {shares}; box {box:.0f}% busy")
                        failures[phase] += failed
                        tail = f" ({failed} failed)" if failed else ""
                        say(f"round {number}: {line(row[phase])}{tail}")
                        ids, flowdeck.ids = flowdeck.ids, []
                        checks.append(
                            await asyncio.to_thread(check_timeline, cluster.database_url, ids)
                        )
                        say(f"round {number}: timeline: {checks[-1]}")
                    rounds.append(row)
            engine = create_db_engine(cluster.database_url)
            try:
                rows = show_statuses(statuses(engine, flow_id))
            finally:
                engine.dispose()
        finally:
            await cluster.stop()
    say()
    say(f"{cluster.describe()}; task queue `flowdeck`; logs in {directory}")
    say(f"{args.rounds} rounds of {args.runs} runs per phase, {args.concurrency} in flight")
    for phase in (alone, everyone):
        show(combine(f"{phase}, 3 http via API", [r[phase] for r in rounds]))
    ratios = [r[everyone]["per_s"] / r[alone]["per_s"] for r in rounds]
    one = ", ".join(f"{r[alone]['per_s']:.1f}" for r in rounds)
    all_ = ", ".join(f"{r[everyone]['per_s']:.1f}" for r in rounds)
    each = ", ".join(f"{x:.2f}" for x in ratios)
    say(f"runs/s by round: 1 worker {one}; {everyone} {all_}; ratio {each}")
    for check in checks:
        say(f"timeline: {check}")
    say(f"every execution row of the flow (warm-up included): {rows}")
    say(f"sink: {sink.calls} POSTs, {sink.repeats} repeated (a step posted twice)")
    defects = sum(failures.values()) + sum(1 for c in checks if "NOT:" in c)
    if defects or flowdeck.errors:
        say(f"failed runs: {dict(failures)}; errors: {dict(flowdeck.errors)}")
    return 1 if defects else 0


# --- the kill check ------------------------------------------------------------------------------


def add_calls(report: Report, sink: KeyedSink, completed: set[str], killed_at: float) -> None:
    """The sink's calls: one per (execution, step) unless a step was sent again."""
    per_step: dict[tuple[str, int], list[tuple[str | None, float]]] = {}
    for execution, step, key, at in sink.keyed:
        per_step.setdefault((execution, step), []).append((key, at))
    calls = len(sink.keyed)
    keys = {key for _e, _s, key, _at in sink.keyed if key is not None}
    keyless = sum(1 for _e, _s, key, _at in sink.keyed if key is None)
    report.add("HTTP calls received by the sink", calls)
    report.add("distinct (execution, step) called", len(per_step))
    report.add("distinct idempotency keys", len(keys))
    report.add("calls without a key", keyless, must=0)
    report.add("duplicate calls, key not honoured", calls - len(per_step))
    report.add("duplicate calls, key honoured", len(keys) + keyless - len(per_step), must=0)
    short = sum(1 for e in completed for s in (1, 2, 3) if (e, s) not in per_step)
    report.add("steps of completed runs the sink never got", short, must=0)
    repeats = sorted(at - killed_at for calls_of in per_step.values() for _k, at in calls_of[1:])
    if repeats:
        report.add(
            "repeats arrived after the kill",
            f"{repeats[0]:.1f} to {repeats[-1]:.1f} s (Temporal retrying the lost attempts)",
        )
    report.add(
        "sink calls in 5 s windows from the kill",
        windows([at - killed_at for _e, _s, _k, at in sink.keyed], 0.0, 60.0, 5.0),
    )
    done: dict[str, float] = {}
    for (execution, _step), calls_of in per_step.items():
        done[execution] = max(done.get(execution, 0.0), min(at for _k, at in calls_of))
    finished = [at - killed_at for e, at in done.items() if e in completed]
    report.add(
        "runs done (3rd POST) in 5 s windows from the kill",
        windows(finished, 0.0, 60.0, 5.0),
    )
    report.add("last run done", f"{max(finished, default=0.0):.1f} s after the kill")


def windows(offsets: list[float], start: float, end: float, width: float) -> str:
    """How many of `offsets` fall in each `width`-second window from `start` to `end`."""
    counts = Counter(int((o - start) // width) for o in offsets if start <= o < end)
    return " ".join(str(counts[i]) for i in range(int((end - start) // width)))


async def kill(args: argparse.Namespace) -> Report:
    how = "stopped with SIGTERM" if args.sigterm else "SIGKILLed"
    report = Report(
        "worker-kill",
        f"{args.workers} workers on one task queue; one {how} once {args.kill_at} of "
        f"{args.runs} runs are accepted, not restarted",
    )
    directory = report.directory = scratch(args.workdir, "scale-out-kill")
    admin_key = new_secret()
    with maybe_postgres(directory, not args.sqlite) as pg:
        cluster = ScaleOutCluster(
            directory,
            admin_key,
            args.log_level,
            database_url=pg.url if pg else None,
            workers=args.workers,
            settings=PRODUCT_DEFAULTS,
        )
        report.add("layout", cluster.describe())
        sink = KeyedSink()
        async with sink.serving():
            await cluster.start()
            engine = create_db_engine(cluster.database_url)
            try:
                flow_id = await publish_flow(
                    cluster.base_url,
                    admin_key,
                    "scale-out kill",
                    http_flow(sink.url, args.step_timeout_s),
                )
                poster = Poster(
                    cluster.base_url, admin_key, flow_id, args.runs, args.concurrency, timeout_s=60
                )
                say(f"  {now()} posting {args.runs} runs, {args.concurrency} in flight")
                posting = asyncio.create_task(poster.run())
                await poster.until_accepted(args.kill_at)
                at_kill = statuses(engine, flow_id)
                victim = cluster.workers[-1]
                killed_at = time.monotonic()
                if args.sigterm:  # as an operator or Kubernetes stops it: it may finish
                    pids = [victim.pid]
                    stopping = asyncio.create_task(asyncio.to_thread(victim.stop))
                else:
                    pids = victim.kill_tree()
                calls_before = len(sink.keyed)
                say(f"  {now()} {how} {victim.name} {pids}; {show_statuses(at_kill)}")
                report.add("at the kill", show_statuses(at_kill))
                report.add("sink calls before the kill", calls_before)
                await posting
                report.add("posting took", f"{poster.ended - poster.began:.1f} s")
                if args.sigterm:
                    code = await stopping
                    exited = f"{time.monotonic() - killed_at:.1f} s after SIGTERM, code {code}"
                    report.add(f"{victim.name} exited", exited)
                ended = await until_all_ended(engine, flow_id, args.end_within_s)
                report.add(
                    "all ended",
                    f"{time.monotonic() - killed_at:.1f} s after the kill"
                    if ended is not None
                    else f"NOT within {args.end_within_s:.0f} s",
                )
                rows = read_rows(engine, flow_id, ("post1", "post2", "post3"))
                temporal = await temporal_side(
                    cluster.temporal_address, {workflow_id_for(e) for e in rows.ids}
                )
                count_into(report, poster=poster, rows=rows, sink=None, temporal=temporal)
                for reason, n in Counter(poster.no_answer).most_common(3):
                    report.add("  no answer", f"x{n} {reason[:150]}")
                completed = {e for e, s in rows.status.items() if s == "completed"}
                add_calls(report, sink, completed, killed_at)
                survivors = [c for c in cluster.workers if c is not victim]
                report.add(
                    "surviving workers alive at the end",
                    sum(1 for c in survivors if c.alive()),
                    must=len(survivors),
                )
                add_log_counts(report, cluster.children)
            finally:
                engine.dispose()
                await cluster.stop()
    return report


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--throughput", action="store_true", help="all workers vs one")
    parser.add_argument("--kill", action="store_true", help="SIGKILL a worker mid-run")
    parser.add_argument(
        "--sigterm", action="store_true", help="--kill: stop the worker with SIGTERM instead"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100, help="runs in flight")
    parser.add_argument("--rounds", type=int, default=2, help="--throughput: rounds")
    parser.add_argument(
        "--kill-at", type=int, default=None, help="--kill: accepted runs before it (runs/2)"
    )
    parser.add_argument("--end-within-s", type=float, default=300.0)
    parser.add_argument(
        "--step-timeout-s",
        type=float,
        default=None,
        help="each http step's config.timeout_s (its attempt: 5 s more; default 30 s)",
    )
    parser.add_argument("--sqlite", action="store_true", help="one SQLite file, not PostgreSQL")
    parser.add_argument("--log-level", default="INFO", help="FLOWDECK_LOG_LEVEL")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "flowdeck-scale-out"
    )
    args = parser.parse_args()
    if args.workers < 2:
        parser.error("--workers: at least 2")
    if args.kill_at is None:
        args.kill_at = args.runs // 2
    chosen: list[tuple[str, Callable[[], Awaitable[int]]]] = []
    if args.throughput:
        chosen.append(("throughput", lambda: throughput(args)))
    if args.kill:

        async def killing() -> int:
            report = await kill(args)
            report.show()
            return 1 if report.defects else 0

        chosen.append(("kill", killing))
    if not chosen:
        parser.error("name --throughput and/or --kill")
    code = 0
    for name, scenario in chosen:
        say(f"\n{now()} {name}")
        code |= await scenario()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
