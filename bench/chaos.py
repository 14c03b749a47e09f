"""Chaos: Flowdeck's processes killed (SIGKILL), Temporal killed and restarted, PostgreSQL
stopped for 30 s, 10,000 executions parked on timers: what was accepted, what ended, what was
done twice, counted (issue 11 item 9; SPEC §7).

Every scenario runs real processes in a scratch directory, as a user would: `flowdeck dev`
(API, worker and its own Temporal dev server in one process), or the two-process layout
(`flowdeck api` with FLOWDECK_EMBEDDED_WORKER=false and `flowdeck worker`) over a Temporal
dev server this bench starts with a persistent `--db-filename`. Runs are posted through the
API (`POST /api/flows/{id}/executions`, ~20 in flight) of a flow that calls a local HTTP sink
(this process), sends an SMS (sandbox: a row in `outbox_message`), waits a few seconds and
ends. Something is broken while the runs are posted or while they run, restarted, and the
bench waits (bounded) for every execution row to end, then counts:

- accepted (2xx answers), no answer (the process died under the request), rows written;
- completed, failed (with reasons), stranded (not terminal at the end: must be 0);
- duplicate steps (one node recorded twice in one execution; the flow visits each once: 0);
- duplicate outbox sends (two outbox rows for one step of one execution: 0);
- HTTP calls the sink received, their distinct `Idempotency-Key`s, and the duplicate calls
  a receiver would act on twice without honouring the key (calls beyond one per execution)
  and while honouring it (a sink answering a repeated key from its cache: distinct keys
  beyond one per execution);
- on Temporal's side: workflow ids run more than once, workflows still running.

Scenarios (each a flag; `--all` runs them one after the other):

  --dev-posting       `flowdeck dev` SIGKILLed with its Temporal child (a power cut: the whole
                      tree stopped, then killed) once half the runs are accepted; restarted on
                      the same directory while the rest are posted.
  --dev-running       the same, all runs posted first, killed while they run.
  --api-posting       two-process layout: the API process alone SIGKILLed while posting.
  --api-running       the same, all runs posted first, killed while they run.
  --worker-running    two-process layout: the worker process alone SIGKILLed while runs run
                      (SPEC §7 names the worker too).
  --temporal-restart  two-process layout: the Temporal server SIGKILLed mid-run, restarted on
                      the same port and file after `--temporal-down-s`.
  --postgres-outage   two-process layout on PostgreSQL (pgserver): PostgreSQL stopped for
                      `--pg-down-s` mid-run while a few API routes are polled (SPEC: 503 in the
                      JSON error shape), then started again.
  --parked            10,000 executions (`--parked-runs`) posted through the API, each waiting
                      until one common moment, then setting a variable and ending; the worker
                      in its own process, its RSS sampled (SPEC: ≤ 1 GiB); all must complete.
  --control           the dev-running setup with nothing broken: checks the bench itself.

    .venv/bin/python -m bench.chaos --all
    .venv/bin/python -m bench.chaos --dev-posting --runs 200 --concurrency 20
    .venv/bin/python -m bench.chaos --parked --parked-runs 10000 --postgres

Scratch directories (logs of every process, databases) are kept under `--workdir` and named
in the output; `--clean` deletes those of scenarios that passed. The exit code is 1 when a
scenario found a defect.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import psutil  # type: ignore[import-untyped]
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from bench.common import free_port, temporal_binary
from cli import DEV_SQLITE_PRAGMAS
from schemas.execution import TERMINAL_STATUSES, WORKFLOW_NAME, workflow_id_for
from store.db import create_db_engine
from store.keys import new_secret

REPO = Path(__file__).resolve().parents[1]
TERMINAL = frozenset(s.value for s in TERMINAL_STATUSES)
SINK_PATH = "/hook"
TEMPORAL_FLAGS = [
    # As `flowdeck dev` passes them (cli.DevTemporal).
    "--dynamic-config-value",
    "frontend.enableUpdateWorkflowExecution=true",
    "--dynamic-config-value",
    "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2",
    *(flag for pragma in DEV_SQLITE_PRAGMAS for flag in ("--sqlite-pragma", pragma)),
]
STOP_TIMEOUT_S = 30.0
HANG_S = 10.0
"""A probe of the API during an outage that takes longer than this has hung."""
GIB = 1024**3


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def now() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


# --- flows -------------------------------------------------------------------------------------


def chaos_flow(sink_url: str, wait_s: float, http_timeout_s: float | None) -> dict[str, Any]:
    """An HTTP POST to the sink, an SMS to the contact, a short wait, the end. The HTTP
    step's attempt timeout is the product's default (30 s) unless `http_timeout_s`."""
    timeout = {} if http_timeout_s is None else {"timeout_s": http_timeout_s}
    return {
        "start": "notify",
        "nodes": [
            {
                "id": "notify",
                "type": "http",
                "config": {
                    "method": "POST",
                    "url": sink_url,
                    "body": {"execution": "{{ execution.id }}", "lead": "{{ contact.name }}"},
                },
                **timeout,
                "transitions": {"success": "text"},
            },
            {
                "id": "text",
                "type": "sms",
                "config": {"body": "Hello {{ contact.name }}"},
                "transitions": {"sent": "pause"},
            },
            {
                "id": "pause",
                "type": "wait",
                "config": {"seconds": wait_s},
                "transitions": {"next": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


PARKED_FLOW: dict[str, Any] = {
    "start": "park",
    "nodes": [
        {
            "id": "park",
            "type": "wait",
            "config": {"until": "{{ vars.resume_at }}"},
            "transitions": {"next": "mark"},
        },
        {
            "id": "mark",
            "type": "set",
            "config": {"assign": {"resumed": True}},
            "transitions": {"next": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}


# --- processes ---------------------------------------------------------------------------------


def child_environment(**extra: str) -> dict[str, str]:
    """Ours without any Flowdeck or Temporal setting, this checkout's code first, plus `extra`."""
    dropped = ("FLOWDECK_", "TEMPORAL_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(dropped) and k not in {"DATABASE_URL", "PUBLIC_BASE_URL"}
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def flowdeck_command() -> list[str]:
    script = Path(sys.executable).parent / "flowdeck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def power_cut(pids: list[int]) -> list[int]:
    """Stop every process at once (SIGSTOP), then kill them all (SIGKILL): none of them sees
    another die first. The pids that were alive."""
    alive = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
            alive.append(pid)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return alive


@dataclass
class Child:
    """A process of ours in its own process group, its output appended to `log`. It gets
    SIGKILL if this bench dies (setpriv --pdeathsig), so nothing outlives a crashed run."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    lives: int = 0

    def start(self) -> None:
        # Started from the main thread only: the parent-death signal follows the thread.
        wrapped = ["setpriv", "--pdeathsig", "KILL", *self.command]
        with self.log.open("ab") as out:
            out.write(f"\n=== {now()} bench: start #{self.lives + 1}: {self.command}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                wrapped,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        self.lives += 1

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tree(self) -> list[int]:
        """Its pid and its descendants' (a `flowdeck dev`'s Temporal server among them)."""
        if not self.alive():
            return []
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [self.pid, *(c.pid for c in children)]

    def kill_tree(self) -> list[int]:
        """SIGKILL, as a power cut: the process and its descendants, none warned."""
        pids = self.tree()
        killed = power_cut(pids)
        if self.process is not None:
            self.process.wait()
        for pid in killed:  # children are not ours to reap: wait until they are gone
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).wait(10)
        return killed

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Stopped as an operator would (SIGTERM, or SIGINT for `flowdeck dev`); killed if it
        does not stop in time. Its exit code."""
        if not self.alive():
            return self.process.returncode if self.process else None
        assert self.process is not None
        descendants = self.tree()
        self.process.send_signal(sig)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            power_cut(descendants)
            return self.process.wait()

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def until_serving(base_url: str, owner: Child, within_s: float = 90.0) -> float:
    """Wait until `/api/health` says the database and Temporal both answer; seconds waited."""
    began = time.monotonic()
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while True:
            if not owner.alive():
                raise RuntimeError(f"{owner.name} exited:\n{owner.tail()}")
            try:
                if (await http.get("/api/health")).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            if time.monotonic() - began > within_s:
                raise RuntimeError(f"{owner.name} not serving after {within_s} s:\n{owner.tail()}")
            await asyncio.sleep(0.2)


async def until_logged(owner: Child, text: str, offset: int, within_s: float = 90.0) -> None:
    deadline = time.monotonic() + within_s
    while text not in owner.log_since(offset):
        if not owner.alive():
            raise RuntimeError(f"{owner.name} exited:\n{owner.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{owner.name} did not log {text!r}:\n{owner.tail()}")
        await asyncio.sleep(0.2)


async def until_temporal(address: str, owner: Child, within_s: float = 60.0) -> float:
    began = time.monotonic()
    while True:
        if not owner.alive():
            raise RuntimeError(f"{owner.name} exited:\n{owner.tail()}")
        try:
            client = await Client.connect(address)
            if await client.service_client.check_health():
                return time.monotonic() - began
        except (RuntimeError, RPCError):
            pass
        if time.monotonic() - began > within_s:
            raise RuntimeError(f"Temporal at {address} not up after {within_s} s")
        await asyncio.sleep(0.2)


# --- PostgreSQL --------------------------------------------------------------------------------


class Postgres:
    """A pgserver PostgreSQL 16 that can be stopped and started again on the same data and
    socket (its `pg_ctl`, run as the user pgserver runs it as)."""

    def __init__(self, directory: Path) -> None:
        import pgserver

        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.server: Any = pgserver.get_server(directory, cleanup_mode="stop")  # type: ignore[attr-defined]
        self.server.psql("CREATE DATABASE chaos;")
        self.url = self._url()

    def _url(self) -> str:
        uri: str = self.server.get_uri("chaos")
        return uri.replace("postgresql://", "postgresql+psycopg://", 1)

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.directory), *args]
        subprocess.run(
            command,
            check=True,
            user=self.server.system_user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def stop(self) -> None:
        """A clean, fast shutdown: connections are cut, nothing is lost."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self.server.ensure_postgres_running()
        if self._url() != self.url:
            raise RuntimeError(f"PostgreSQL came back elsewhere: {self._url()} != {self.url}")

    def close(self) -> None:
        self.server.cleanup()


# --- the layouts -------------------------------------------------------------------------------


class Cluster:
    """Flowdeck running somewhere: where its API answers, its database, its Temporal."""

    admin_key: str
    base_url: str
    database_url: str
    temporal_address: str
    children: list[Child]

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def flowdeck_settings(admin_key: str, log_level: str, **extra: str) -> dict[str, str]:
    """`log_level` is FLOWDECK_LOG_LEVEL, with `+json` for JSON lines (FLOWDECK_LOG_JSON)."""
    level, _, json_lines = log_level.partition("+")
    return {
        "FLOWDECK_ADMIN_KEY": admin_key,
        "FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1",
        # The recovery sweep, soon: a start lost to the crash is made again within seconds.
        "FLOWDECK_START_SWEEP_S": "1",
        "FLOWDECK_START_GRACE_S": "5",
        "FLOWDECK_LOG_LEVEL": level,
        "FLOWDECK_LOG_JSON": "true" if json_lines else "false",
        **extra,
    }


class DevCluster(Cluster):
    """`flowdeck dev` in `directory`: API, worker and a Temporal dev server child."""

    def __init__(self, directory: Path, admin_key: str, log_level: str) -> None:
        self.directory = directory
        self.admin_key = admin_key
        self.api_port, self.temporal_port, self.ui_port = free_port(), free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.database_url = f"sqlite:///{directory / '.data' / 'flowdeck.db'}"
        self.temporal_address = f"127.0.0.1:{self.temporal_port}"
        command = [
            *flowdeck_command(),
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.api_port),
            "--temporal-port",
            str(self.temporal_port),
            "--ui-port",
            str(self.ui_port),
        ]
        env = child_environment(**flowdeck_settings(admin_key, log_level))
        self.dev = Child("flowdeck dev", command, directory, env, directory / "flowdeck-dev.log")
        self.children = [self.dev]

    def describe(self) -> str:
        return "`flowdeck dev` (API, worker and Temporal dev server child), SQLite"

    async def start(self) -> None:
        self.dev.start()
        await until_serving(self.base_url, self.dev)

    async def stop(self) -> None:
        self.dev.stop(signal.SIGINT)


class SplitCluster(Cluster):
    """A Temporal dev server on a file, `flowdeck api` (no embedded worker), `flowdeck worker`."""

    def __init__(
        self, directory: Path, admin_key: str, log_level: str, *, database_url: str | None
    ) -> None:
        self.directory = directory
        self.admin_key = admin_key
        self.api_port, self.temporal_port, self.http_port = free_port(), free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.database_url = database_url or f"sqlite:///{directory / 'flowdeck.db'}"
        self.temporal_address = f"127.0.0.1:{self.temporal_port}"
        temporal_command = [
            temporal_binary(),
            "server",
            "start-dev",
            "--db-filename",
            str(directory / "temporal.db"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.temporal_port),
            "--http-port",
            str(self.http_port),
            "--headless",
            "--log-level",
            "warn",
            *TEMPORAL_FLAGS,
        ]
        self.temporal = Child(
            "temporal", temporal_command, directory, child_environment(), directory / "temporal.log"
        )
        settings = flowdeck_settings(
            admin_key,
            log_level,
            DATABASE_URL=self.database_url,
            TEMPORAL_ADDRESS=self.temporal_address,
            FLOWDECK_EMBEDDED_WORKER="false",
        )
        env = child_environment(**settings)
        api_command = [
            *flowdeck_command(),
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.api_port),
        ]
        self.api = Child("flowdeck api", api_command, directory, env, directory / "api.log")
        worker_command = [*flowdeck_command(), "worker"]
        self.worker = Child(
            "flowdeck worker", worker_command, directory, env, directory / "worker.log"
        )
        self.children = [self.temporal, self.api, self.worker]

    def describe(self) -> str:
        backend = "PostgreSQL" if self.database_url.startswith("postgresql") else "SQLite"
        return (
            "`flowdeck api` (embedded worker off) + `flowdeck worker`, "
            f"Temporal on a file, {backend}"
        )

    async def start_temporal(self) -> float:
        self.temporal.start()
        return await until_temporal(self.temporal_address, self.temporal)

    async def start_api(self) -> float:
        self.api.start()
        return await until_serving(self.base_url, self.api)

    async def start_worker(self) -> None:
        offset = self.worker.log_size()
        self.worker.start()
        await until_logged(self.worker, "worker polling", offset)

    async def start(self) -> None:
        await self.start_temporal()
        await self.start_api()  # migrates first; the worker then finds the schema ready
        await self.start_worker()

    async def stop(self) -> None:
        self.api.stop()
        self.worker.stop()
        self.temporal.stop()


# --- the HTTP sink -----------------------------------------------------------------------------


@dataclass
class SinkCall:
    key: str | None
    execution: str | None
    at: float


class Sink:
    """The flow's HTTP endpoint: records every call; a repeated Idempotency-Key is answered
    from its cache (one effect), as a receiver honouring the key would."""

    def __init__(self) -> None:
        self.calls: list[SinkCall] = []
        self.effects: dict[str, dict[str, Any]] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{SINK_PATH}"
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        try:
            body = await request.json()
            execution = body.get("execution") if isinstance(body, dict) else None
        except ValueError:
            execution = None
        self.calls.append(SinkCall(key=key, execution=execution, at=time.time()))
        if key is not None and key in self.effects:
            return web.json_response(self.effects[key])
        answer = {"ok": True, "effect": len(self.effects) + 1}
        if key is not None:
            self.effects[key] = answer
        return web.json_response(answer)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[Sink]:
        app = web.Application()
        app.router.add_post(SINK_PATH, self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        try:
            yield self
        finally:
            await self._runner.cleanup()


# --- the API client ----------------------------------------------------------------------------


def auth(admin_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_key}"}


async def publish_flow(base_url: str, admin_key: str, name: str, definition: dict[str, Any]) -> str:
    async with httpx.AsyncClient(base_url=base_url, headers=auth(admin_key), timeout=30) as http:
        created = await http.post("/api/flows", json={"name": name, "definition": definition})
        if created.status_code != 201:
            raise RuntimeError(f"creating the flow: {created.status_code} {created.text}")
        flow_id: str = created.json()["id"]
        published = await http.post(f"/api/flows/{flow_id}/versions/1/publish")
        if published.status_code != 200:
            raise RuntimeError(f"publishing the flow: {published.status_code} {published.text}")
    return flow_id


@dataclass
class Poster:
    """Posts `runs` manual runs, `concurrency` in flight. While paused (the API is down), no
    new request is sent; a request that could not connect is sent again (it never arrived);
    one that was sent and got no answer is counted, never repeated (its row may exist)."""

    base_url: str
    admin_key: str
    flow_id: str
    runs: int
    concurrency: int
    variables: Callable[[int], dict[str, Any]] = lambda _i: {}
    timeout_s: float = 30.0
    accepted: list[str] = field(default_factory=list)
    extra_accepted: list[str] = field(default_factory=list)
    """Runs accepted outside the posting (a probe's POST during an outage)."""
    no_answer: list[str] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    connect_retries: int = 0
    sent: int = 0
    began: float = 0.0
    ended: float = 0.0

    def __post_init__(self) -> None:
        self._up = asyncio.Event()
        self._up.set()
        self._clients: list[httpx.AsyncClient] = []
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=auth(self.admin_key),
            timeout=self.timeout_s,
            limits=httpx.Limits(max_connections=self.concurrency),
        )
        self._clients.append(client)
        return client

    def pause(self) -> None:
        self._up.clear()

    def resume(self) -> None:
        self._client = self._new_client()  # the old pool's connections died with the server
        self._up.set()

    async def _one(self, i: int) -> None:
        body = {
            "contact": {"name": f"Lead {i}", "phone": f"+1555{i:07d}"},
            "variables": self.variables(i),
        }
        while True:
            await self._up.wait()
            try:
                self.sent += 1
                answer = await self._client.post(f"/api/flows/{self.flow_id}/executions", json=body)
            except httpx.ConnectError:
                self.connect_retries += 1  # never reached a server: send it again
                await asyncio.sleep(0.2)
                continue
            except httpx.TransportError as exc:
                self.no_answer.append(f"{type(exc).__name__}: {exc}")
                return
            if 200 <= answer.status_code < 300:
                self.accepted.append(answer.json()["id"])
            else:
                self.answers[describe_answer(answer)] += 1
            return

    async def run(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def limited(i: int) -> None:
            async with gate:
                await self._one(i)

        self.began = time.monotonic()
        try:
            await asyncio.gather(*(limited(i) for i in range(self.runs)))
        finally:
            self.ended = time.monotonic()
            for client in self._clients:
                await client.aclose()

    async def until_accepted(self, count: int) -> None:
        while len(self.accepted) < count:  # noqa: ASYNC110 (a counter, not an event)
            await asyncio.sleep(0.02)


def describe_answer(answer: httpx.Response) -> str:
    """`503 unavailable` for an answer in the error shape, `500 (not the error shape)` else."""
    try:
        body = answer.json()
    except ValueError:
        return f"{answer.status_code} (not JSON)"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and {"code", "message"} <= error.keys():
        return f"{answer.status_code} {error['code']}"
    return f"{answer.status_code} (not the error shape: {json.dumps(body)[:80]})"


# --- counting ----------------------------------------------------------------------------------


def statuses(engine: Engine, flow_id: str) -> Counter[str]:
    query = sa.text("SELECT status, COUNT(*) FROM execution WHERE flow_id = :f GROUP BY status")
    with engine.connect() as db:
        return Counter({status: count for status, count in db.execute(query, {"f": flow_id})})


def show_statuses(counts: Counter[str]) -> str:
    return ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "no rows"


async def until_all_ended(engine: Engine, flow_id: str, within_s: float) -> float | None:
    """Seconds until no row of the flow is left unended; None if some still are after
    `within_s`. Progress every 15 s."""
    began = time.monotonic()
    shown = began
    while True:
        counts = await asyncio.to_thread(statuses, engine, flow_id)
        open_rows = sum(n for s, n in counts.items() if s not in TERMINAL)
        if open_rows == 0:
            return time.monotonic() - began
        if time.monotonic() - began > within_s:
            say(f"  {now()} still open after {within_s:.0f} s: {show_statuses(counts)}")
            return None
        if time.monotonic() - shown > 15:
            say(f"  {now()} {show_statuses(counts)}")
            shown = time.monotonic()
        await asyncio.sleep(1.0)


@dataclass
class Rows:
    ids: set[str]
    status: dict[str, str]
    reasons: Counter[str]
    extra_steps: int
    extra_steps_by_node: Counter[str]
    missing_steps: Counter[str]
    outbox: int
    extra_sends: int
    without_sms: int


def read_rows(engine: Engine, flow_id: str, expected_nodes: tuple[str, ...]) -> Rows:
    by_flow = {"f": flow_id}
    with engine.connect() as db:
        rows = db.execute(
            sa.text("SELECT id, status, reason FROM execution WHERE flow_id = :f"), by_flow
        ).all()
        steps = db.execute(
            sa.text(
                "SELECT s.execution_id, s.node_id, COUNT(*) FROM execution_step s "
                "JOIN execution e ON e.id = s.execution_id WHERE e.flow_id = :f "
                "GROUP BY s.execution_id, s.node_id"
            ),
            by_flow,
        ).all()
        sends = db.execute(
            sa.text(
                "SELECT o.execution_id, o.node_id, COUNT(*) FROM outbox_message o "
                "JOIN execution e ON e.id = o.execution_id WHERE e.flow_id = :f "
                "GROUP BY o.execution_id, o.node_id"
            ),
            by_flow,
        ).all()
    status = {r[0]: r[1] for r in rows}
    reasons = Counter(f"{r[1]}: {r[2] or '(no reason)'}" for r in rows if r[1] != "completed")
    extra_by_node: Counter[str] = Counter()
    recorded: dict[str, set[str]] = {}
    for execution_id, node_id, count in steps:
        recorded.setdefault(execution_id, set()).add(node_id)
        if count > 1:
            extra_by_node[node_id] += count - 1
    missing: Counter[str] = Counter()
    for execution_id, state in status.items():
        if state == "completed":
            for node in expected_nodes:
                if node not in recorded.get(execution_id, set()):
                    missing[node] += 1
    sent_to = {execution_id for execution_id, _node, _count in sends}
    return Rows(
        ids=set(status),
        status=status,
        reasons=reasons,
        extra_steps=sum(extra_by_node.values()),
        extra_steps_by_node=extra_by_node,
        missing_steps=missing,
        outbox=sum(count for _e, _n, count in sends),
        extra_sends=sum(count - 1 for _e, _n, count in sends if count > 1),
        without_sms=sum(1 for e, s in status.items() if s == "completed" and e not in sent_to),
    )


@dataclass
class TemporalSide:
    runs_per_id: Counter[str]
    running: int
    listed: bool
    error: str = ""


async def temporal_side(
    address: str, workflow_ids: set[str], settle_s: float = 30.0
) -> TemporalSide:
    """Runs per workflow id among ours, and how many are still running, from visibility.

    A row ends with the workflow's last activity, a moment before the workflow itself
    completes and visibility shows it: running ones are listed again for up to `settle_s`."""
    deadline = time.monotonic() + settle_s
    while True:
        runs: Counter[str] = Counter()
        running = 0
        try:
            client = await Client.connect(address)
            async for listed in client.list_workflows(f"WorkflowType = '{WORKFLOW_NAME}'"):
                if listed.id not in workflow_ids:
                    continue
                runs[listed.id] += 1
                if listed.status == WorkflowExecutionStatus.RUNNING:
                    running += 1
        except (RuntimeError, RPCError) as exc:
            return TemporalSide(runs, running, listed=False, error=str(exc))
        if running == 0 or time.monotonic() > deadline:
            return TemporalSide(runs, running, listed=True)
        await asyncio.sleep(1.0)


async def running_in_temporal(address: str) -> int | None:
    """How many executions' workflows Temporal counts as running (visibility)."""
    try:
        client = await Client.connect(address)
        query = f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running'"
        return (await client.count_workflows(query)).count
    except (RuntimeError, RPCError):
        return None


async def diagnose(
    engine: Engine, address: str, execution_ids: list[str], limit: int = 5
) -> list[str]:
    """What the database and Temporal say of a few executions that did not end well."""
    lines: list[str] = []
    try:
        client: Client | None = await Client.connect(address)
    except RuntimeError as exc:
        client = None
        lines.append(f"    (Temporal unreachable: {exc})")
    for execution_id in execution_ids[:limit]:
        with engine.connect() as db:
            row = db.execute(
                sa.text(
                    "SELECT status, reason, current_node, launch IS NOT NULL, created_at, "
                    "updated_at FROM execution WHERE id = :i"
                ),
                {"i": execution_id},
            ).one()
            steps = db.execute(
                sa.text(
                    "SELECT seq, node_id, status, attempt, error FROM execution_step "
                    "WHERE execution_id = :i ORDER BY seq"
                ),
                {"i": execution_id},
            ).all()
        lines.append(
            f"    {execution_id}: row {row[0]} (reason {row[1]!r}, at {row[2]}, start "
            f"{'unconfirmed' if row[3] else 'confirmed'}, created {row[4]}, updated {row[5]})"
        )
        lines.append(
            "      steps: "
            + (", ".join(f"{s[0]}:{s[1]}={s[2]}(attempt {s[3]})" for s in steps) or "none")
        )
        if client is None:
            continue
        try:
            described = await client.get_workflow_handle(workflow_id_for(execution_id)).describe()
            raw = described.raw_description
            pending = [
                f"{a.activity_type.name} attempt {a.attempt}: {a.last_failure.message[:120]}"
                for a in raw.pending_activities
            ]
            task = raw.pending_workflow_task
            lines.append(
                f"      temporal: {described.status.name if described.status else '?'}, "
                f"history {described.history_length} events, workflow task attempt "
                f"{task.attempt if task.attempt else '-'}, pending activities {pending or '-'}"
            )
        except RPCError as exc:
            lines.append(f"      temporal: {exc.status.name if exc.status else ''} {exc.message}")
    return lines


# --- the report --------------------------------------------------------------------------------


@dataclass
class Report:
    name: str
    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    directory: Path | None = None

    def add(self, label: str, value: object, must: int | None = None) -> None:
        """A figure; with `must`, a defect unless it equals that."""
        text = str(value)
        if must is not None:
            text += f"   (must be {must})"
            if value != must:
                self.defects.append(f"{label}: {value}, must be {must}")
        self.lines.append((label, text))

    def show(self) -> None:
        say()
        say(f"== {self.name}: {self.title}")
        width = max(len(label) for label, _ in self.lines) if self.lines else 10
        for label, value in self.lines:
            say(f"  {label:<{width}}  {value}")
        for note in self.notes:
            say(f"  {note}")
        if self.directory is not None:
            say(f"  scratch: {self.directory}")
        say(f"  verdict: {'PASS' if not self.defects else 'DEFECT: ' + '; '.join(self.defects)}")


def count_into(
    report: Report,
    *,
    poster: Poster,
    rows: Rows,
    sink: Sink | None,
    temporal: TemporalSide,
) -> list[str]:
    """The common figures; the ids of rows that did not end (stranded)."""
    accepted = set(poster.accepted) | set(poster.extra_accepted)
    report.add("runs posted", poster.runs)
    report.add("accepted (2xx)", len(accepted))
    report.add("no answer (the process died under them)", len(poster.no_answer))
    report.add(
        "other answers",
        ", ".join(f"{k} x{n}" for k, n in poster.answers.most_common()) or "none",
    )
    report.add("requests sent again (never connected)", poster.connect_retries)
    report.add("rows written", len(rows.ids))
    report.add("accepted without a row", len(accepted - rows.ids), must=0)
    by_status = Counter(rows.status.values())
    report.add("completed", by_status["completed"])
    failed = sum(n for s, n in by_status.items() if s in TERMINAL and s != "completed")
    report.add("failed / cancelled / skipped", failed)
    for reason, n in rows.reasons.most_common(6):
        if reason.split(":", 1)[0] in TERMINAL:
            report.add("  reason", f"x{n} {reason[:150]}")
    stranded = sorted(e for e, s in rows.status.items() if s not in TERMINAL)
    report.add("stranded (not ended)", len(stranded), must=0)
    report.add("duplicate steps", rows.extra_steps, must=0)
    if rows.extra_steps_by_node:
        report.add("  by node", dict(rows.extra_steps_by_node))
    if rows.missing_steps:
        report.add("completed with a step missing", dict(rows.missing_steps))
    report.add("duplicate outbox sends", rows.extra_sends, must=0)
    if sink is not None:
        report.add("sms in the outbox", rows.outbox)
        report.add("completed without their sms", rows.without_sms, must=0)
        calls = sink.calls
        keys = {c.key for c in calls if c.key is not None}
        called = {c.execution for c in calls if c.execution}
        keyless = sum(1 for c in calls if c.key is None)
        completed = {e for e, s in rows.status.items() if s == "completed"}
        report.add("HTTP calls received by the sink", len(calls))
        report.add("distinct idempotency keys", len(keys))
        report.add("calls without a key", keyless, must=0)
        report.add("duplicate calls, key not honoured", len(calls) - len(called))
        report.add("duplicate calls, key honoured", len(keys) + keyless - len(called), must=0)
        report.add("completed without an HTTP call", len(completed - called), must=0)
        foreign = {c.execution for c in calls if c.execution and c.execution not in rows.ids}
        report.add("calls from executions without a row", len(foreign), must=0)
    if temporal.listed:
        twice = sum(1 for n in temporal.runs_per_id.values() if n > 1)
        report.add("Temporal: workflow ids run more than once", twice, must=0)
        report.add("Temporal: workflows still running", temporal.running, must=0)
    else:
        report.add("Temporal", f"could not list workflows: {temporal.error}")
    return stranded


LOG_MARKS = {
    "starts made again by the sweep": "outcome=started",
    "rows ended by the sweep": "start_sweep.finished",
    "starts deferred by the sweep": "start_sweep.deferred",
    "workflow starts refused": "workflow start failed",
    "wedged executions failed": "execution.wedged",
    "recorder: database unreachable": "recorder.database_unreachable",
    "unhandled errors (500)": "unhandled error",
    "tracebacks": "Traceback",
}


def add_log_counts(report: Report, children: list[Child]) -> None:
    """What the Flowdeck processes' logs say happened (lines with these marks)."""
    counts: Counter[str] = Counter()
    for child in children:
        if child.name == "temporal" or not child.log.exists():
            continue
        for line in child.log.read_text(errors="replace").splitlines():
            for label, mark in LOG_MARKS.items():
                if mark in line and not (
                    label == "rows ended by the sweep" and "outcome=started" in line
                ):
                    counts[label] += 1
    shown = ", ".join(f"{label} {counts[label]}" for label in LOG_MARKS if counts[label])
    report.add("in the logs", shown or "nothing of note")


# --- scenarios ---------------------------------------------------------------------------------


@dataclass
class Options:
    runs: int
    concurrency: int
    wait_s: float
    http_timeout_s: float | None
    kill_after_s: float
    down_s: float
    temporal_down_s: float
    pg_down_s: float
    end_within_s: float
    parked_runs: int
    parked_concurrency: int
    parked_hold_s: float | None
    parked_end_within_s: float
    postgres: bool
    log_level: str
    """FLOWDECK_LOG_LEVEL, with `+json` for FLOWDECK_LOG_JSON=true."""
    workdir: Path
    clean: bool


def scratch(options: Options, name: str) -> Path:
    options.workdir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=options.workdir))


@contextlib.contextmanager
def maybe_postgres(directory: Path, wanted: bool) -> Iterator[Postgres | None]:
    if not wanted:
        yield None
        return
    server = Postgres(directory / "pg")
    try:
        yield server
    finally:
        server.close()


Breaker = Callable[[Report, Poster], Awaitable[float]]
"""Breaks something, brings it back; the moment (monotonic) it was back."""


async def chaos_run(
    options: Options,
    report: Report,
    cluster: Cluster,
    *,
    when: Literal["posting", "running"],
    breaker: Breaker | None,
) -> None:
    """Start the cluster, post the runs, break something at `when`, wait for every row to
    end, count."""
    admin_key = cluster.admin_key
    async with Sink().serving() as sink:
        await cluster.start()
        engine = create_db_engine(cluster.database_url)
        try:
            flow_id = await publish_flow(
                cluster.base_url,
                admin_key,
                f"chaos {report.name}",
                chaos_flow(sink.url, options.wait_s, options.http_timeout_s),
            )
            poster = Poster(cluster.base_url, admin_key, flow_id, options.runs, options.concurrency)
            say(f"  {now()} posting {options.runs} runs, {options.concurrency} in flight")
            posting = asyncio.create_task(poster.run())
            if when == "posting":
                await poster.until_accepted(options.runs // 2)
            else:
                await posting
                await asyncio.sleep(options.kill_after_s)
            report.add("at the break", show_statuses(statuses(engine, flow_id)))
            restarted = time.monotonic()
            if breaker is not None:
                restarted = await breaker(report, poster)
            await posting
            report.add(
                "posting took",
                took(poster.runs, poster.ended - poster.began),
            )
            say(
                f"  {now()} waiting for every execution to end "
                f"(at most {options.end_within_s:.0f} s)"
            )
            ended = await until_all_ended(engine, flow_id, options.end_within_s)
            report.add(
                "all ended",
                f"{time.monotonic() - restarted:.1f} s after the "
                + ("restart" if breaker is not None else "break point")
                if ended is not None
                else f"NOT within {options.end_within_s:.0f} s",
            )
            rows = read_rows(engine, flow_id, ("notify", "text", "pause"))
            workflow_ids = {workflow_id_for(e) for e in rows.ids}
            temporal = await temporal_side(cluster.temporal_address, workflow_ids)
            stranded = count_into(
                report,
                poster=poster,
                rows=rows,
                sink=sink,
                temporal=temporal,
            )
            add_log_counts(report, cluster.children)
            if stranded:
                report.notes.append("stranded executions, as the database and Temporal see them:")
                report.notes.extend(await diagnose(engine, cluster.temporal_address, stranded))
            failed = [e for e, s in rows.status.items() if s in TERMINAL and s != "completed"]
            if failed:
                report.notes.append("failed executions, as the database and Temporal see them:")
                report.notes.extend(await diagnose(engine, cluster.temporal_address, failed, 3))
        finally:
            engine.dispose()
            await cluster.stop()


async def dev_scenario(options: Options, *, when: Literal["posting", "running"]) -> Report:
    name = f"dev-{when}"
    report = Report(
        name,
        f"`flowdeck dev` SIGKILLed with its Temporal child {moment(options, when)}; "
        "restarted on the same directory",
    )
    directory = report.directory = scratch(options, name)
    cluster = DevCluster(directory, new_secret(), options.log_level)

    async def breaker(report: Report, poster: Poster) -> float:
        poster.pause()
        killed_at = time.monotonic()
        pids = cluster.dev.kill_tree()
        report.add("killed", f"{len(pids)} processes (flowdeck dev and its Temporal server)")
        leftover = [p for p in pids if psutil.pid_exists(p)]
        if leftover:
            report.add("processes still alive after the kill", leftover)
        say(f"  {now()} SIGKILL {pids}; restarting in {options.down_s:.0f} s")
        await asyncio.sleep(options.down_s)
        await cluster.start()
        back = time.monotonic()
        report.add("down for", f"{back - killed_at:.1f} s (killed → serving again)")
        poster.resume()
        return back

    await chaos_run(options, report, cluster, when=when, breaker=breaker)
    return report


async def control_scenario(options: Options) -> Report:
    report = Report("control", "`flowdeck dev`, nothing broken: the bench's own baseline")
    directory = report.directory = scratch(options, "control")
    cluster = DevCluster(directory, new_secret(), options.log_level)
    await chaos_run(options, report, cluster, when="running", breaker=None)
    return report


def moment(options: Options, when: Literal["posting", "running"]) -> str:
    if when == "posting":
        return "once half the runs are accepted"
    return f"{options.kill_after_s:.0f} s after the last run was accepted"


async def split_kill_scenario(
    options: Options, *, part: Literal["api", "worker"], when: Literal["posting", "running"]
) -> Report:
    """The two-process layout, one of its Flowdeck processes SIGKILLed and restarted."""
    name = f"{part}-{when}"
    other = "the worker runs on" if part == "api" else "the API serves on"
    report = Report(
        name,
        f"two processes; the {part} process alone SIGKILLed {moment(options, when)}; "
        f"restarted ({other})",
    )
    directory = report.directory = scratch(options, name)
    with maybe_postgres(directory, options.postgres) as pg:
        cluster = SplitCluster(
            directory, new_secret(), options.log_level, database_url=pg.url if pg else None
        )
        report.add("layout", cluster.describe())
        child = cluster.api if part == "api" else cluster.worker

        async def breaker(report: Report, poster: Poster) -> float:
            if part == "api":
                poster.pause()
            killed_at = time.monotonic()
            pids = child.kill_tree()
            say(f"  {now()} SIGKILL {part} {pids}; restarting in {options.down_s:.0f} s")
            await asyncio.sleep(options.down_s)
            if part == "api":
                await cluster.start_api()
            else:
                await cluster.start_worker()
            back = time.monotonic()
            report.add(f"{part} down for", f"{back - killed_at:.1f} s (killed → serving again)")
            if part == "api":
                poster.resume()
            return back

        await chaos_run(options, report, cluster, when=when, breaker=breaker)
    return report


async def probe_routes(
    base_url: str,
    admin_key: str,
    flow_id: str,
    execution_id: str,
    stop: asyncio.Event,
    *,
    post: bool,
) -> tuple[dict[str, Counter[str]], dict[str, float], list[str]]:
    """Each route asked again and again until `stop` (set when the outage ends): what it
    answered (and how often), its slowest answer, and the ids of runs a probing POST got
    accepted. An answer that came after `stop` is marked so."""
    routes: list[tuple[str, str, str]] = [
        ("GET /api/health", "GET", "/api/health"),
        ("GET /api/health/live", "GET", "/api/health/live"),
        ("GET /api/flows", "GET", "/api/flows"),
        ("GET /api/executions?flow_id=…", "GET", f"/api/executions?flow_id={flow_id}&limit=5"),
        ("GET /api/executions/{id}", "GET", f"/api/executions/{execution_id}"),
    ]
    if post:
        routes.append(
            ("POST /api/flows/{id}/executions", "POST", f"/api/flows/{flow_id}/executions")
        )
    seen: dict[str, Counter[str]] = {label: Counter() for label, _, _ in routes}
    slowest: dict[str, float] = dict.fromkeys(seen, 0.0)
    accepted: list[str] = []

    async def one(label: str, method: str, path: str, http: httpx.AsyncClient) -> None:
        body = {"contact": {"name": "Probe", "phone": "+15559990000"}} if method == "POST" else None
        while not stop.is_set():
            began = time.monotonic()
            try:
                answer = await http.request(method, path, json=body)
                if 200 <= answer.status_code < 300:
                    what = f"{answer.status_code}"
                    if method == "POST":
                        accepted.append(answer.json()["id"])
                elif label.startswith("GET /api/health") and answer.status_code == 503:
                    what = f"503 {answer.text[:60]}"
                else:
                    what = describe_answer(answer)
            except httpx.HTTPError as exc:
                what = f"no answer ({type(exc).__name__})"
            if stop.is_set():  # the outage was over before this answer came
                what += " [after the outage]"
            seen[label][what] += 1
            slowest[label] = max(slowest[label], time.monotonic() - began)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async with httpx.AsyncClient(base_url=base_url, headers=auth(admin_key), timeout=60) as http:
        await asyncio.gather(*(one(label, m, p, http) for label, m, p in routes))
    return seen, slowest, accepted


def add_probes(
    report: Report, seen: dict[str, Counter[str]], slowest: dict[str, float], *, strict: bool
) -> None:
    """The probes' answers; with `strict`, anything but a 503 in the error shape during the
    outage is a defect (readiness answers its own body), and so is a request left hanging
    over HANG_S."""
    for label, answers in seen.items():
        shown = ", ".join(f"{k} x{n}" for k, n in answers.most_common())
        report.add(f"  {label}", f"{shown} (slowest {slowest[label]:.1f} s)")
        if not strict:
            continue
        if slowest[label] > HANG_S:
            report.defects.append(f"{label} hung {slowest[label]:.0f} s")
        if label.startswith("GET /api/health"):
            continue
        bad = [
            k for k in answers if not (k.startswith("503 unavailable") or "[after the outage]" in k)
        ]
        if bad:
            report.defects.append(f"{label} answered {', '.join(bad)} (SPEC: 503, error shape)")


async def temporal_scenario(options: Options) -> Report:
    report = Report(
        "temporal-restart",
        f"two processes; the Temporal server SIGKILLed {options.kill_after_s:.0f} s after the "
        "last run was accepted, restarted on the same port and file "
        f"{options.temporal_down_s:.0f} s later",
    )
    directory = report.directory = scratch(options, "temporal-restart")
    with maybe_postgres(directory, options.postgres) as pg:
        cluster = SplitCluster(
            directory, new_secret(), options.log_level, database_url=pg.url if pg else None
        )
        report.add("layout", cluster.describe())

        async def breaker(report: Report, poster: Poster) -> float:
            stop = asyncio.Event()
            probing = asyncio.create_task(
                probe_routes(
                    cluster.base_url,
                    cluster.admin_key,
                    poster.flow_id,
                    poster.accepted[0],
                    stop,
                    post=False,
                )
            )
            killed_at = time.monotonic()
            pids = cluster.temporal.kill_tree()
            say(f"  {now()} SIGKILL temporal {pids}; restarting in {options.temporal_down_s:.0f} s")
            await asyncio.sleep(options.temporal_down_s)
            restart_s = await cluster.start_temporal()
            back = time.monotonic()
            report.add(
                "Temporal down for",
                f"{back - killed_at:.1f} s (its restart took {restart_s:.1f} s)",
            )
            stop.set()
            seen, slowest, _ = await probing
            report.add("while Temporal was down, the API answered", "")
            add_probes(report, seen, slowest, strict=False)
            return back

        await chaos_run(options, report, cluster, when="running", breaker=breaker)
    return report


async def postgres_scenario(options: Options) -> Report:
    report = Report(
        "postgres-outage",
        "two processes on PostgreSQL; PostgreSQL stopped (pg_ctl -m fast) "
        f"{options.kill_after_s:.0f} s after the last run was accepted, "
        f"for {options.pg_down_s:.0f} s",
    )
    directory = report.directory = scratch(options, "postgres-outage")
    with maybe_postgres(directory, True) as pg:
        assert pg is not None
        cluster = SplitCluster(directory, new_secret(), options.log_level, database_url=pg.url)
        report.add("layout", cluster.describe())

        async def breaker(report: Report, poster: Poster) -> float:
            stop = asyncio.Event()
            await asyncio.to_thread(pg.stop)
            stopped_at = time.monotonic()
            say(f"  {now()} PostgreSQL stopped; probing the API for {options.pg_down_s:.0f} s")
            probing = asyncio.create_task(
                probe_routes(
                    cluster.base_url,
                    cluster.admin_key,
                    poster.flow_id,
                    poster.accepted[0],
                    stop,
                    post=True,
                )
            )
            await asyncio.sleep(options.pg_down_s)
            stop.set()
            await asyncio.to_thread(pg.start)
            back = time.monotonic()
            report.add("PostgreSQL down for", f"{back - stopped_at:.1f} s")
            say(f"  {now()} PostgreSQL started again")
            # Probes still waiting on the database answer now; their time says how long.
            seen, slowest, accepted = await probing
            report.add("meanwhile the API answered", "")
            add_probes(report, seen, slowest, strict=True)
            poster.extra_accepted.extend(accepted)
            for child in (cluster.api, cluster.worker):
                if not child.alive():
                    report.defects.append(f"{child.name} exited during the outage")
                    report.notes.append(f"{child.name} log tail:\n{child.tail()}")
            return back

        await chaos_run(options, report, cluster, when="running", breaker=breaker)
    return report


# --- parked ------------------------------------------------------------------------------------


@dataclass
class Memory:
    """RSS samples of one process, by phase."""

    pid: int
    peaks: dict[str, int] = field(default_factory=dict)

    def sample(self, phase: str) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss = psutil.Process(self.pid).memory_info().rss
            self.peaks[phase] = max(self.peaks.get(phase, 0), rss)

    def high_water(self) -> int:
        """VmHWM: the process's peak RSS over its whole life, as the kernel counts it."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0


def took(count: int, seconds: float) -> str:
    return f"{seconds:.1f} s ({count / seconds:.1f}/s)"


def mib(size: int) -> str:
    return f"{size / 1024**2:.0f} MiB"


async def parked_scenario(options: Options) -> Report:
    runs = options.parked_runs
    report = Report(
        "parked",
        f"{runs} executions posted through the API, parked on timers until one common moment, "
        "then each sets a variable and ends; the worker in its own process",
    )
    directory = report.directory = scratch(options, "parked")
    with maybe_postgres(directory, options.postgres) as pg:
        cluster = SplitCluster(
            directory, new_secret(), options.log_level, database_url=pg.url if pg else None
        )
        report.add("layout", cluster.describe())
        await cluster.start()
        admin_key = cluster.admin_key
        engine = create_db_engine(cluster.database_url)
        memories = {
            "worker": Memory(cluster.worker.pid),
            "api": Memory(cluster.api.pid),
            "temporal": Memory(cluster.temporal.pid),
        }
        phase = "idle"
        sampling = True

        async def sample_forever() -> None:
            while sampling:
                for memory in memories.values():
                    memory.sample(phase)
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample_forever())
        parked_peak = 0
        try:
            flow_id = await publish_flow(cluster.base_url, admin_key, "chaos parked", PARKED_FLOW)
            hold_s = options.parked_hold_s or runs / 15 + 60
            resume_at = datetime.now(UTC) + timedelta(seconds=hold_s)
            late = 0

            def variables(_i: int) -> dict[str, Any]:
                nonlocal late
                moment = resume_at
                if datetime.now(UTC) > resume_at - timedelta(seconds=10):
                    late += 1  # posted too close to the moment: parks 10 s of its own
                    moment = datetime.now(UTC) + timedelta(seconds=10)
                return {"resume_at": moment.isoformat()}

            poster = Poster(
                cluster.base_url,
                admin_key,
                flow_id,
                runs,
                options.parked_concurrency,
                variables=variables,
                timeout_s=120,
            )
            say(
                f"  {now()} posting {runs} runs, {options.parked_concurrency} in flight; "
                f"they resume at {resume_at:%H:%M:%S} UTC ({hold_s:.0f} s from now)"
            )
            phase = "posting"
            posting = asyncio.create_task(poster.run())
            while not posting.done():
                await asyncio.sleep(10)
                if not posting.done():
                    say(f"  {now()} {len(poster.accepted)} accepted")
            await posting
            phase = "parked"
            report.add(
                "posting took",
                took(runs, poster.ended - poster.began),
            )
            shown = 0.0
            while datetime.now(UTC) < resume_at:
                counts = await asyncio.to_thread(statuses, engine, flow_id)
                parked_peak = max(parked_peak, counts["waiting"])
                left = (resume_at - datetime.now(UTC)).total_seconds()
                await asyncio.sleep(min(5.0, max(left, 0.1)))
                if time.monotonic() - shown < 30:
                    continue
                shown = time.monotonic()
                say(
                    f"  {now()} {show_statuses(counts)}; worker RSS "
                    + mib(memories["worker"].peaks.get("parked", 0))
                )
            counts = await asyncio.to_thread(statuses, engine, flow_id)
            parked_peak = max(parked_peak, counts["waiting"])
            phase = "resuming"
            resumed = time.monotonic()
            running = await running_in_temporal(cluster.temporal_address)
            say(f"  {now()} the moment: {show_statuses(counts)}; running in Temporal {running}")
            ended = await until_all_ended(engine, flow_id, options.parked_end_within_s)
            resume_s = time.monotonic() - resumed
            phase = "done"
            for memory in memories.values():
                memory.sample(phase)
            rows = read_rows(engine, flow_id, ("park", "mark"))
            temporal = await temporal_side(
                cluster.temporal_address, {workflow_id_for(e) for e in rows.ids}
            )
            report.add("parked at once (peak of `waiting` rows)", parked_peak)
            report.add("running in Temporal at the moment", running)
            report.add("posted too late to park until the moment", late)
            report.add(
                "all ended",
                f"{resume_s:.1f} s after the moment ({runs / resume_s:.1f}/s)"
                if ended is not None
                else f"NOT within {options.parked_end_within_s:.0f} s",
            )
            stranded = count_into(report, poster=poster, rows=rows, sink=None, temporal=temporal)
            worker = memories["worker"]
            report.add("worker RSS: started, idle", mib(worker.peaks.get("idle", 0)))
            report.add("worker RSS: peak while posting", mib(worker.peaks.get("posting", 0)))
            report.add("worker RSS: peak while parked", mib(worker.peaks.get("parked", 0)))
            report.add("worker RSS: peak while resuming", mib(worker.peaks.get("resuming", 0)))
            hwm = worker.high_water()
            report.add("worker VmHWM (whole life)", f"{mib(hwm)}   (SPEC: ≤ 1024 MiB)")
            if hwm > GIB:
                report.defects.append(f"worker peak RSS {mib(hwm)} over 1 GiB")
            add_log_counts(report, cluster.children)
            for other in ("api", "temporal"):
                peak = max(memories[other].peaks.values(), default=0)
                report.add(f"{other} peak RSS (sampled)", mib(peak))
            if stranded:
                report.notes.append("stranded executions, as the database and Temporal see them:")
                report.notes.extend(await diagnose(engine, cluster.temporal_address, stranded))
        finally:
            sampling = False
            await sampler
            engine.dispose()
            await cluster.stop()
    return report


# --- main --------------------------------------------------------------------------------------

SCENARIOS: dict[str, Callable[[Options], Awaitable[Report]]] = {
    "dev-posting": lambda o: dev_scenario(o, when="posting"),
    "dev-running": lambda o: dev_scenario(o, when="running"),
    "api-posting": lambda o: split_kill_scenario(o, part="api", when="posting"),
    "api-running": lambda o: split_kill_scenario(o, part="api", when="running"),
    "worker-running": lambda o: split_kill_scenario(o, part="worker", when="running"),
    "temporal-restart": temporal_scenario,
    "postgres-outage": postgres_scenario,
    "parked": parked_scenario,
}


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name in [*SCENARIOS, "control"]:
        parser.add_argument(f"--{name}", action="store_true", help=f"run the {name} scenario")
    parser.add_argument("--all", action="store_true", help="every scenario but control, in order")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20, help="posts in flight")
    parser.add_argument("--wait-s", type=float, default=5.0, help="the flow's wait step")
    parser.add_argument(
        "--http-timeout-s", type=float, default=None, help="the HTTP step's timeout_s"
    )
    parser.add_argument(
        "--kill-after-s", type=float, default=1.0, help="after the last accepted run (running)"
    )
    parser.add_argument("--down-s", type=float, default=2.0, help="killed → restarted")
    parser.add_argument("--temporal-down-s", type=float, default=5.0)
    parser.add_argument("--pg-down-s", type=float, default=30.0)
    parser.add_argument(
        "--end-within-s", type=float, default=180.0, help="bound on every run ending"
    )
    parser.add_argument("--parked-runs", type=int, default=10_000)
    parser.add_argument("--parked-concurrency", type=int, default=50)
    parser.add_argument(
        "--parked-hold-s",
        type=float,
        default=None,
        help="posting start → the common moment they resume (default runs/15 + 60)",
    )
    parser.add_argument("--parked-end-within-s", type=float, default=1800.0)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="PostgreSQL (pgserver) instead of SQLite for api-posting, temporal-restart, parked",
    )
    parser.add_argument("--log-level", default="INFO", help="FLOWDECK_LOG_LEVEL of the processes")
    parser.add_argument(
        "--log-json", action="store_true", help="FLOWDECK_LOG_JSON=true for the processes"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "flowdeck-chaos"
    )
    parser.add_argument("--clean", action="store_true", help="delete scratch dirs of passes")
    args = parser.parse_args()

    chosen = [n for n in [*SCENARIOS, "control"] if getattr(args, n.replace("-", "_"))]
    if args.all:
        chosen = list(SCENARIOS)
    if not chosen:
        parser.error("name a scenario (or --all)")
    log_level = args.log_level + ("+json" if args.log_json else "")
    options = Options(
        runs=args.runs,
        concurrency=args.concurrency,
        wait_s=args.wait_s,
        http_timeout_s=args.http_timeout_s,
        kill_after_s=args.kill_after_s,
        down_s=args.down_s,
        temporal_down_s=args.temporal_down_s,
        pg_down_s=args.pg_down_s,
        end_within_s=args.end_within_s,
        parked_runs=args.parked_runs,
        parked_concurrency=args.parked_concurrency,
        parked_hold_s=args.parked_hold_s,
        parked_end_within_s=args.parked_end_within_s,
        postgres=args.postgres,
        log_level=log_level,
        workdir=args.workdir,
        clean=args.clean,
    )
    scenarios: dict[str, Callable[[Options], Awaitable[Report]]] = {
        **SCENARIOS,
        "control": control_scenario,
    }
    reports: list[Report] = []
    for name in chosen:
        say(f"\n{now()} {name}")
        began = time.monotonic()
        try:
            report = await scenarios[name](options)
        except Exception as exc:  # a scenario that could not run says why; the next one runs
            report = Report(name, "could not run")
            report.defects.append(f"{type(exc).__name__}: {exc}")
        report.add("scenario took", f"{time.monotonic() - began:.0f} s")
        report.show()
        reports.append(report)
        if options.clean and not report.defects and report.directory is not None:
            shutil.rmtree(report.directory, ignore_errors=True)
    say()
    for report in reports:
        verdict = "PASS" if not report.defects else f"DEFECT ({len(report.defects)})"
        say(f"{report.name:<18} {verdict}")
    return 1 if any(r.defects for r in reports) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
