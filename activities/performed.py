"""What this worker's local activities performed, so a replayed workflow task does not perform
a step's side effect twice.

A local activity's result reaches Temporal inside its workflow task's completion. If that
task fails or times out after the activity ran (on a starved box: the SDK's 2 s deadlock
check, or the task's 10 s timeout), Temporal schedules the task again, the workflow replays,
and the local activity runs again: a regular activity's result is stored by the server the
moment it completes, so it would not. An `http` POST was repeated this way 2,179 times in
5,239 under heavy load (bench/README, issue 15). The ledger keeps each local step's outcome
by workflow run and step number (both the same on a replay), and the replay gets it back.

It lives in the worker's memory: a task retried on another worker process, or after this
one restarted, performs the step again, as a regular activity's would after a crash (the
`Idempotency-Key` it sends is the same). Outcomes are kept `ttl_s` (longer than a task
timeout and its retry) and at most `max_bytes` of results, oldest out first.

Each is kept as its JSON text, one string the garbage collector never scans, and parsed
again only on the rare replay: kept as models, five minutes of steps at 50 runs a second
were over 100,000 live objects, and every collection of the older generations walked them
all (the serving process's collections grew round after round of bench.throughput).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from schemas.execution import ActionOutput

TTL_S = 300.0
MAX_BYTES = 64 * 1024 * 1024


class _Entry(NamedTuple):
    until: float
    output: str
    """The ActionOutput as JSON."""


class Performed:
    def __init__(
        self,
        *,
        ttl_s: float = TTL_S,
        max_bytes: int = MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[tuple[str, int], _Entry] = OrderedDict()
        self._bytes = 0

    def get(self, run_id: str, seq: int) -> ActionOutput | None:
        self._expire()
        entry = self._entries.get((run_id, seq))
        return ActionOutput.model_validate_json(entry.output) if entry is not None else None

    def put(self, run_id: str, seq: int, output: ActionOutput) -> None:
        kept = output.model_dump_json()
        if len(kept) > self._max_bytes:
            return
        old = self._entries.pop((run_id, seq), None)
        if old is not None:
            self._bytes -= len(old.output)
        self._entries[(run_id, seq)] = _Entry(self._clock() + self._ttl_s, kept)
        self._bytes += len(kept)
        while self._bytes > self._max_bytes:
            self._drop_oldest()
        self._expire()

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self) -> None:
        now = self._clock()
        while self._entries and next(iter(self._entries.values())).until <= now:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        _, entry = self._entries.popitem(last=False)
        self._bytes -= len(entry.output)
