"""What one execution may carry and do, so that no input can wedge it.

Temporal refuses a payload over 2 MB: an activity input, a workflow result or a
continue-as-new input over it fails its workflow task, which Temporal then retries for ever.
Every execution's data therefore has a budget, checked where it grows, and the step that
would break it fails with a clear error instead. A workflow task that computes for over 2 s
is failed by the deadlock detector (and retried for ever too), so a stretch of steps that
never pauses is bounded as well.
"""

from __future__ import annotations

import json
from typing import Any

PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024
"""Temporal's limit on one payload (its blob size limit)."""
STEP_INPUT_LIMIT_BYTES = PAYLOAD_LIMIT_BYTES - 128 * 1024
"""An activity's input, with room for Temporal's own envelope."""
STATE_LIMIT_BYTES = 1024 * 1024
"""An execution's `vars` and step results together, as JSON. With a definition of at most
512 KiB and a run's input of at most 256 KiB, a continue-as-new input stays under 2 MB."""
RECORD_RESULT_LIMIT_BYTES = 64 * 1024
"""A step's result as the timeline shows it; a larger one is left out of the timeline (the
flow still has it in `steps.<id>`)."""
RUN_INPUT_LIMIT_BYTES = 256 * 1024
"""A run's contact, variables and trigger together, as JSON."""
PURE_STEPS_WITHOUT_PAUSE = 5_000
"""Steps in a row that pause for nothing (`set`, `condition`, `split`, a zero wait, a loop's
bookkeeping...): far more than any flow needs, well under what the deadlock detector's 2 s
allow."""
TEMPLATE_WORK_WITHOUT_PAUSE = 150_000
"""What the templates of such a stretch may do together, in loop iterations and operations
(`schemas.template_budget`; one render may do 35,000): each costs about 4 µs at worst here
(`python -m bench.templates`), so a stretch stays well under 2 s."""


def json_size(value: Any) -> int:
    """The size of `value` as compact UTF-8 JSON (what a payload of it costs, near enough)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.2f} MiB"
    return f"{size / 1024:.0f} KiB"
