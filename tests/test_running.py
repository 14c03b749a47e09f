"""The test harness's worker bound: a shutdown that never returns is reported, not waited on."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from temporalio.worker import Worker

from tests.running import WorkerLeftRunning, running


class _StuckWorker:
    task_queue = "stuck-queue"

    def __init__(self) -> None:
        self.exited = asyncio.Event()

    async def __aenter__(self) -> _StuckWorker:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.Event().wait()  # as the SDK's did once in CI


class _Worker(_StuckWorker):
    async def __aexit__(self, *exc: Any) -> None:
        self.exited.set()


async def test_a_worker_that_never_shuts_down_is_reported_and_left_behind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.warns(WorkerLeftRunning, match="stuck-queue did not shut down in 0 s"):
        async with running(cast(Worker, _StuckWorker()), within_s=0.2):
            pass
    assert "test_a_worker_that_never_shuts_down" in capsys.readouterr().err  # the task stacks


async def test_a_worker_that_shuts_down_is_waited_for() -> None:
    worker = _Worker()
    async with running(cast(Worker, worker)):
        assert not worker.exited.is_set()
    assert worker.exited.is_set()
