"""A Temporal worker run for the length of a test, with a bound on its shutdown.

Once in CI (temporalio 1.35, stop 19) a worker's shutdown never returned after a call test
had passed every assertion: the event loop was idle, every thread was idle, and the worker
was waiting on its Rust core. The test then failed on pytest's 120 s timeout with no clue
where. Past the bound this prints the stack of every asyncio task, so the next time says
where it waits, warns (the warning is in the session's summary), and leaves that worker
behind: its task queue is the test's own, so no later test polls it.
"""

from __future__ import annotations

import asyncio
import sys
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.worker import Worker

SHUTDOWN_WITHIN_S = 30.0


class WorkerLeftRunning(UserWarning):
    """A worker whose shutdown passed its bound: shown, not raised (pyproject filters it by
    its message, since the filters are read before `tests` can be imported)."""


@asynccontextmanager
async def running(worker: Worker, *, within_s: float = SHUTDOWN_WITHIN_S) -> AsyncIterator[Worker]:
    """`async with worker`, whose exit gives up after `within_s` seconds."""
    await worker.__aenter__()
    failure: BaseException | None = None
    try:
        yield worker
    except BaseException as error:
        failure = error
        raise
    finally:
        await _exit_within(worker, failure, within_s)


async def _exit_within(worker: Worker, failure: BaseException | None, within_s: float) -> None:
    trace = failure.__traceback__ if failure is not None else None
    exiting = asyncio.ensure_future(
        worker.__aexit__(type(failure) if failure else None, failure, trace)
    )
    done, _ = await asyncio.wait([exiting], timeout=within_s)
    if done:
        exiting.result()
        return
    print(f"\nworker {worker.task_queue} did not shut down in {within_s:.0f} s:", file=sys.stderr)
    for task in asyncio.all_tasks():
        print(f"--- {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    exiting.cancel()
    warnings.warn(
        f"the worker on {worker.task_queue} did not shut down in {within_s:.0f} s; "
        "its task stacks are in the test's captured stderr",
        WorkerLeftRunning,
        stacklevel=1,
    )
