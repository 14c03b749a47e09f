"""The example flows of `examples/` (at the repository's root), for the tests that run them.

Each file is a body of `POST /api/flows`: the flow's settings and its `definition`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
"""Every example, in name order (the suite fails if there are none: see test_flows.py)."""


def load_example(name: str) -> dict[str, Any]:
    """The example's file as it is: a `POST /api/flows` body."""
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return document


def settings_of(example: dict[str, Any]) -> dict[str, Any]:
    """The example's flow settings (name, trigger, priority …): all but its definition."""
    return {k: v for k, v in example.items() if k not in ("definition", "change_notes")}


def relocate(definition: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The example with its public URLs pointed at our loopback servers."""
    relocated: dict[str, Any] = json.loads(json.dumps(definition).replace(old, new))
    return relocated
