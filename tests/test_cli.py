"""The `flowdeck` command as a user runs it: a real process, its own Temporal dev server, Ctrl-C.

The run command's installation step (`./run` creating .venv) is not exercised here; everything
after it is: migrations, the admin key, the Temporal dev server, the API and the worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from schemas.settings import DEV_PROCESSES_AUTO_MAX, Settings
from tests.processes import environment, flowdeck_command, free_port, processes_in

KEY_LINE = re.compile(r"Admin API key\s+(\S+)")


@dataclass
class Ports:
    api: int = field(default_factory=free_port)
    temporal: int = field(default_factory=free_port)
    ui: int = field(default_factory=free_port)


def _log(directory: Path) -> str:
    """What `flowdeck dev` logged (its stderr)."""
    return (directory / "flowdeck.log").read_text()


@dataclass
class DevRun:
    """`flowdeck dev` running in `directory`, its stdout collected as it comes."""

    process: subprocess.Popen[str]
    ports: Ports
    directory: Path
    output: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, directory: Path, ports: Ports, **env: str) -> DevRun:
        command = [
            *flowdeck_command(),
            "dev",
            "--port",
            str(ports.api),
            "--temporal-port",
            str(ports.temporal),
            "--ui-port",
            str(ports.ui),
        ]
        with (directory / "flowdeck.log").open("a") as log:
            process = subprocess.Popen(
                command,
                cwd=directory,
                env=environment(**env),
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        run = cls(process=process, ports=ports, directory=directory)
        threading.Thread(target=run._read, daemon=True).start()
        return run

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    def wait_for_admin_key(self, timeout: float = 60) -> str:
        """The key from the banner, which is printed once the API answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = KEY_LINE.search("".join(self.output))
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        log = _log(self.directory)
        pytest.fail(f"no admin key printed (exit code {self.process.poll()}):\n{log}")

    def interrupt(self, sig: signal.Signals = signal.SIGINT, timeout: float = 20) -> int:
        """Ctrl-C, as in a terminal (or SIGTERM, as Kubernetes does); the exit code."""
        self.process.send_signal(sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in processes_in(self.directory):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for pid in processes_in(tmp_path):
        os.kill(pid, signal.SIGKILL)


WAITING_FLOW = {
    "start": "pause",
    "nodes": [
        {"id": "pause", "type": "wait", "config": {"seconds": 8}, "transitions": {"next": "after"}},
        {"id": "after", "type": "set", "config": {"assign": {"resumed": True}}},
    ],
}


async def _status(
    http: httpx.AsyncClient,
    auth: dict[str, str],
    execution_id: str,
    status: str,
    within_s: float = 20,
) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        response = await http.get(f"/api/executions/{execution_id}", headers=auth)
        assert response.status_code == 200, response.text
        execution: dict[str, Any] = response.json()
        if execution["status"] == status:
            return execution
        assert time.monotonic() < deadline, f"still {execution['status']}: {execution}"
        await asyncio.sleep(0.2)


async def test_dev_run_serves_everything_keeps_its_data_and_stops_on_ctrl_c(
    workdir: Path,
) -> None:
    ports = Ports()
    first = DevRun.start(workdir, ports)
    try:
        key = first.wait_for_admin_key()
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=first.base_url, timeout=10) as http:
            health = await http.get("/api/health")
            assert health.status_code == 200, health.text
            assert (await http.get("/api/flows")).status_code == 401
            assert (await http.get("/api/flows", headers=auth)).status_code == 200
            created = await http.post(
                "/api/flows",
                json={"name": "Kept across runs", "definition": WAITING_FLOW},
                headers=auth,
            )
            assert created.status_code == 201, created.text
            flow_id = created.json()["id"]
            published = await http.post(f"/api/flows/{flow_id}/versions/1/publish", headers=auth)
            assert published.status_code == 200, published.text
            ui = await http.get(f"http://127.0.0.1:{ports.ui}/")
            assert ui.status_code == 200
            # An execution parked on a timer when the product stops must finish after it restarts.
            started = await http.post(
                f"/api/flows/{flow_id}/executions", json={"contact": {}}, headers=auth
            )
            assert started.status_code == 201, started.text
            execution_id = started.json()["id"]
            await _status(http, auth, execution_id, "waiting")
        # The dev server's SQLite file is in WAL mode (cli.DEV_SQLITE_PRAGMAS): its -wal file
        # exists while the server has it open.
        assert (workdir / ".data" / "temporal.db-wal").exists()

        assert first.interrupt() == 0
        assert processes_in(workdir) == [], "a process (the Temporal dev server?) was left"
        # Once serving, start-up's objects are out of the garbage collector's full scans.
        frozen = re.search(r'startup heap frozen.*?"?objects"?[=:]\s*(\d+)', _log(workdir))
        assert frozen is not None and int(frozen.group(1)) > 10_000, _log(workdir)
        assert re.search(r"event loop.*uvloop", _log(workdir)), _log(workdir)
    finally:
        first.kill()
    assert (workdir / ".data" / "admin_key").stat().st_mode & 0o777 == 0o600

    # asyncio's own loop serves the same (FLOWDECK_EVENT_LOOP, for where uvloop misbehaves).
    second = DevRun.start(workdir, ports, FLOWDECK_EVENT_LOOP="asyncio")
    try:
        assert second.wait_for_admin_key() == key
        async with httpx.AsyncClient(base_url=second.base_url, timeout=10) as http:
            listed = await http.get("/api/flows", headers=auth)
            assert listed.status_code == 200
            assert flow_id in [flow["id"] for flow in listed.json()]
            finished = await _status(http, auth, execution_id, "completed", within_s=60)
        assert [s["node_id"] for s in finished["steps"]] == ["pause", "after"]

        assert second.interrupt() == 0
        assert processes_in(workdir) == []
        assert re.search(r"event loop.*asyncio", _log(workdir)), _log(workdir)
    finally:
        second.kill()


async def test_dev_run_uses_the_admin_key_from_theenvironment(workdir: Path) -> None:
    chosen = "fd_" + uuid.uuid4().hex
    run = DevRun.start(workdir, Ports(), FLOWDECK_ADMIN_KEY=chosen)
    try:
        assert run.wait_for_admin_key() == chosen
        async with httpx.AsyncClient(base_url=run.base_url, timeout=10) as http:
            flows = await http.get("/api/flows", headers={"Authorization": f"Bearer {chosen}"})
        assert flows.status_code == 200

        assert run.interrupt(signal.SIGTERM) == 0
        assert processes_in(workdir) == []
    finally:
        run.kill()
    assert not (workdir / ".data" / "admin_key").exists()


QUICK_FLOW = {
    "start": "mark",
    "nodes": [{"id": "mark", "type": "set", "config": {"assign": {"served": True}}}],
}


def _command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


async def test_dev_run_with_two_processes_serves_and_runs_flows_from_either_and_stops_with_them(
    workdir: Path,
) -> None:
    ports = Ports()
    run = DevRun.start(workdir, ports, FLOWDECK_DEV_PROCESSES="2")
    try:
        key = run.wait_for_admin_key()
        auth = {"Authorization": f"Bearer {key}"}
        assert "Flowdeck is running (2 processes)" in "".join(run.output)
        # the first process's children: the Temporal dev server and the second process
        others = [pid for pid in processes_in(workdir) if pid != run.process.pid]
        second = [pid for pid in others if "--replica" in _command_line(pid)]
        assert len(second) == 1, [_command_line(pid) for pid in others]
        async with httpx.AsyncClient(base_url=run.base_url, timeout=10) as http:
            created = await http.post(
                "/api/flows", json={"name": "Either", "definition": QUICK_FLOW}, headers=auth
            )
            assert created.status_code == 201, created.text
            flow_id = created.json()["id"]
            published = await http.post(f"/api/flows/{flow_id}/versions/1/publish", headers=auth)
            assert published.status_code == 200, published.text

        # With the first process frozen, a connection the kernel gives it waits; one given to
        # the second is answered, and a run started on it runs on the second's own worker.
        os.kill(run.process.pid, signal.SIGSTOP)
        try:
            for _ in range(30):
                http = httpx.AsyncClient(base_url=run.base_url, timeout=2)
                try:
                    await http.get("/api/health")
                    break
                except httpx.TimeoutException:
                    await http.aclose()  # the frozen first process got this connection
            else:
                pytest.fail("no connection answered while the first process was frozen")
            try:  # the same keep-alive connection: the second process
                started = await http.post(
                    f"/api/flows/{flow_id}/executions", json={"contact": {}}, headers=auth
                )
                assert started.status_code == 201, started.text
                done = await _status(http, auth, started.json()["id"], "completed")
            finally:
                await http.aclose()
            assert [step["node_id"] for step in done["steps"]] == ["mark"], done
        finally:
            os.kill(run.process.pid, signal.SIGCONT)

        # One process lost stops the whole run, loudly, and leaves nothing behind.
        os.kill(second[0], signal.SIGKILL)
        assert run.process.wait(30) == 1
        assert processes_in(workdir) == []
        assert re.search(r"stopped unexpectedly.*process 2", _log(workdir)), _log(workdir)
    finally:
        run.kill()


def test_dev_processes_default_to_one_a_core_at_most_two() -> None:
    cores = len(os.sched_getaffinity(0))
    assert Settings.model_validate({}).dev_process_count() == min(cores, DEV_PROCESSES_AUTO_MAX)
    assert Settings.model_validate({"FLOWDECK_DEV_PROCESSES": "3"}).dev_process_count() == 3
    with pytest.raises(ValidationError, match="FLOWDECK_DEV_PROCESSES"):
        Settings.model_validate({"FLOWDECK_DEV_PROCESSES": "0"})


def _flowdeck_command(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*flowdeck_command(), *args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_db_upgrade_creates_the_database_and_its_folder(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "flowdeck.db"

    result = _flowdeck_command("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")

    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(f"sqlite:///{database}")
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"flow", "execution", "alembic_version"} <= tables


def test_worker_refuses_to_start_without_a_temporal_address(tmp_path: Path) -> None:
    result = _flowdeck_command("worker", cwd=tmp_path)

    assert result.returncode == 1
    assert "TEMPORAL_ADDRESS is not set" in result.stderr


async def test_flowdeck_call_plays_twilio_against_the_running_product(workdir: Path) -> None:
    """The issue-4 trial as a new user makes it: `flowdeck dev --port P`, a menu flow
    deployed to a number, `flowdeck call --api http://localhost:P` presses 2 and hangs up;
    the execution is completed with hangup. Only the auth token is configured: both sides
    take the public URL from the port."""
    ports = Ports()
    twilio = {"TWILIO_AUTH_TOKEN": "local-trial"}
    run = DevRun.start(workdir, ports, **twilio)
    try:
        key = {"Authorization": f"Bearer {run.wait_for_admin_key()}"}
        menu = {
            "start": "menu",
            "nodes": [
                {
                    "id": "menu",
                    "type": "gather",
                    "config": {"prompt": "Press 2 for sales.", "num_digits": 1},
                    "transitions": {"input": "thanks"},
                },
                {
                    "id": "thanks",
                    "type": "say",
                    "config": {"text": "You pressed {{ call.digits }}."},
                },
                {
                    "id": "again",
                    "type": "gather",
                    "config": {"prompt": "Press 1 to hear it again."},
                    "transitions": {"input": "thanks"},
                },
            ],
        }
        menu["nodes"][1]["transitions"] = {"next": "again"}
        async with httpx.AsyncClient(base_url=run.base_url, timeout=10) as http:
            flow = (
                await http.post(
                    "/api/flows", json={"name": "Menu", "definition": menu}, headers=key
                )
            ).json()
            await http.post(f"/api/flows/{flow['id']}/versions/1/publish", headers=key)
            await http.post("/api/phone-numbers", json={"number": "+15550123456"}, headers=key)
            deployed = await http.post(
                f"/api/flows/{flow['id']}/deploy",
                json={"phone_numbers": ["+15550123456"]},
                headers=key,
            )
            assert deployed.status_code == 201, deployed.text

            called = await asyncio.to_thread(
                _flowdeck_command,
                "call",
                "+15550123456",
                "--api",
                f"http://localhost:{ports.api}",
                "--step",
                "press:2",
                "--no-input",
                cwd=workdir,
                **twilio,
            )
            assert called.returncode == 0, called.stderr
            assert "flow says: Press 2 for sales." in called.stdout
            assert "flow says: You pressed 2." in called.stdout
            assert "you hung up" in called.stdout

            for _ in range(100):
                listed = await http.get(
                    "/api/executions", params={"flow_id": flow["id"]}, headers=key
                )
                [execution] = listed.json()["items"]
                if execution["status"] == "completed":
                    break
                await asyncio.sleep(0.1)
            assert (execution["status"], execution["reason"]) == ("completed", "hangup")
        assert run.interrupt(signal.SIGINT) == 0
    finally:
        run.kill()
