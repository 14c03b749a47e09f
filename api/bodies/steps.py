"""The step catalogue as `GET /api/steps` shows it: the dashboard's palette."""

from __future__ import annotations

from typing import Any, Literal

from api.bodies.common import ResponseBody


class StepTypeOut(ResponseBody):
    """One step type (`schemas.steps`): where the palette puts it, what it says, its ports."""

    type: str
    category: Literal["trigger", "logic", "messaging", "voice", "data", "people"]
    label: str
    description: str
    ports: list[str]
    """Its outcome ports (a `split`'s and an `ab_split`'s come from its config)."""
    dynamic_ports: bool
    action: bool
    """It has a side effect: it accepts `error`, `retry`, `timeout_s`, `continue_on_error`."""
    voice: bool
    """It needs a live call."""
    pauses: bool
    """It waits for time or for someone."""
    config_schema: dict[str, Any]
    """The JSON Schema of its `config`."""
