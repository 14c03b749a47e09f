"""The step catalogue: every declared step type, and every table derived from it.

Each step type is declared once, in `schemas.flow`: its config model, and its node model
under `@step(...)` (`schemas.step`). The interpreter, validation, the dry run, the worker's
local activities, the cost estimate and `GET /api/steps` read the tables here, so a new step
type is one declaration there plus, for an action, one activity module; a table that forgot
it is a failing test, not a `KeyError` at run time.
"""

from __future__ import annotations

from collections.abc import Mapping

import schemas.flow  # noqa: F401  (its `@step` declarations fill `DECLARED`)
from schemas.flow import Node
from schemas.step import CATEGORIES, DECLARED, Category, Cost, Provider, Step

__all__ = ["STEP", "STEPS", "Category", "Cost", "Provider", "Step"]

STEPS: tuple[Step, ...] = tuple(sorted(DECLARED, key=lambda step: CATEGORIES.index(step.category)))
"""Every step type, in the palette's order: by category, then as `schemas.flow` declares them."""

STEP: Mapping[str, Step] = {step.type: step for step in STEPS}
"""Each step type's declaration, by type."""


def step_of(node: Node) -> Step:
    return STEP[node.type]


def ports_of(node: Node) -> tuple[str, ...]:
    """The outcome ports a node may have transitions for."""
    return STEP[node.type].all_ports(node)


def _types(**wanted: bool) -> frozenset[str]:
    return frozenset(
        step.type
        for step in STEPS
        if all(getattr(step, name) == value for name, value in wanted.items())
    )


VOICE_TYPES = _types(voice=True)
"""Steps that need a live call."""
ACTION_TYPES = _types(action=True)
"""Steps with a side effect: they accept `error`, `retry`, `timeout_s`, `continue_on_error`."""
ACTIVITY_TYPES = _types(activity=True)
"""Steps the worker's `perform_action` activity does."""
CONTACT_STEPS = _types(reaches_contact=True)
"""Steps that reach a person, and so must respect a Do-Not-Call tag."""
PAUSING_TYPES = _types(pauses=True)
"""Steps that wait for time or for someone: a cycle through one is not a busy loop."""
TAKES_TIME = _types(takes_time=True)
"""Steps that are not done at once: what a live call heard before them goes out first."""
NEVER_AWAIT = _types(awaits=False)
"""Steps decided in the workflow at once (a `wait` awaits only while its time is ahead)."""
SUCCESS_PORT: Mapping[str, str] = {s.type: s.success_port for s in STEPS if s.success_port}
FAILURE_PORT: Mapping[str, str] = {s.type: s.failure_port for s in STEPS if s.failure_port}
NATIVE_FIELDS: Mapping[str, frozenset[str]] = {
    s.type: s.native_fields for s in STEPS if s.native_fields
}


def short_local_types(providers: Mapping[Provider, str]) -> list[str]:
    """The action steps that run as local activities when one attempt's timeout is short
    (`FLOWDECK_LOCAL_ACTIVITY_MAX_S`): HTTP and CRM calls, and sends on a real provider."""
    return [
        step.type
        for step in STEPS
        if step.local == "short"
        or (step.local == "sandbox" and step.provider and providers[step.provider] != "sandbox")
    ]


def local_types(providers: Mapping[Provider, str]) -> list[str]:
    """The action steps to run as local activities, given each channel's provider: those
    that always may, and sandbox sends (no round trip through the Temporal server; real
    providers and HTTP keep regular activities, whose timeouts the server enforces)."""
    return [
        step.type
        for step in STEPS
        if step.local == "always"
        or (step.local == "sandbox" and step.provider and providers[step.provider] == "sandbox")
    ]
