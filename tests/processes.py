"""Flowdeck as real processes, for the tests that start, kill and restart them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FLOWDECK_ADMIN_KEY", "TEMPORAL_ADDRESS", "DATABASE_URL", "FLOWDECK_ENV"}
    }
    # This checkout's code, whatever the state of the editable install.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))
    env.update(extra)
    return env


def flowdeck_command() -> list[str]:
    script = Path(sys.executable).parent / "flowdeck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def processes_in(directory: Path) -> list[int]:
    """Live processes whose working directory is `directory`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == directory:
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


@dataclass
class ApiProcess:
    """`flowdeck api` (with its embedded worker) in `directory`, logging to `api.log`."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @classmethod
    def start(cls, directory: Path, *, port: int, **env: str) -> ApiProcess:
        command = [*flowdeck_command(), "api", "--host", "127.0.0.1", "--port", str(port)]
        with (directory / "api.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=directory, env=environment(**env), stdout=log, stderr=log
            )
        return cls(process=process, port=port, directory=directory)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return (self.directory / "api.log").read_text(errors="replace")

    def wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"flowdeck api exited {self.process.returncode}:\n{self.log()}"
                )
            try:
                if httpx.get(f"{self.base_url}/api/health", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"flowdeck api did not answer within {timeout} s:\n{self.log()}")

    def wait_for_exit(self, timeout: float = 20) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def serving_api(directory: Path, *, temporal_target: str, admin_key: str) -> Iterator[ApiProcess]:
    """`flowdeck api` on a SQLite file in `directory`, the tests' Temporal server and a task
    queue of its own, with `admin_key` as its operator key; killed on the way out."""
    api = ApiProcess.start(
        directory,
        port=free_port(),
        DATABASE_URL=f"sqlite:///{directory / 'flowdeck.db'}",
        TEMPORAL_ADDRESS=temporal_target,
        FLOWDECK_TASK_QUEUE=f"api-{uuid.uuid4().hex[:10]}",
        FLOWDECK_ADMIN_KEY=admin_key,
        FLOWDECK_ENV="test",
        FLOWDECK_LOG_LEVEL="WARNING",
    )
    try:
        api.wait_until_serving()
        yield api
    finally:
        api.kill()
