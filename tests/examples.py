"""The example flows of shared/examples (beside this checkout), for the tests that run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"


def load_example(name: str) -> dict[str, Any]:
    """The example's file (`flow` settings and `definition`); skips when it is not there."""
    path = EXAMPLES / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def relocate(definition: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The example with its public URLs pointed at our loopback servers."""
    relocated: dict[str, Any] = json.loads(json.dumps(definition).replace(old, new))
    return relocated
