"""The step catalogue, for the dashboard's palette and for clients that build flows."""

from __future__ import annotations

import functools

from fastapi import APIRouter

from api.bodies.steps import StepTypeOut
from api.deps import ViewerKey
from api.errors import KEYED
from schemas.steps import STEPS

router = APIRouter(prefix="/steps", tags=["schemas"], responses=KEYED)


@functools.cache
def _catalogue() -> tuple[StepTypeOut, ...]:
    """Built once per process: the registry cannot change while it runs."""
    return tuple(StepTypeOut.model_validate(step.catalogue_entry()) for step in STEPS)


@router.get("")
def list_steps(key: ViewerKey) -> list[StepTypeOut]:
    """Every step type: its category, label, description, ports and config's JSON Schema."""
    return list(_catalogue())
