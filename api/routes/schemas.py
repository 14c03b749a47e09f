"""The flow document's JSON Schema, for editors and clients."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ViewerKey
from schemas.validation import flow_json_schema

router = APIRouter(prefix="/schemas", tags=["schemas"])


@router.get("/flow")
def flow_schema(key: ViewerKey) -> dict[str, Any]:
    return flow_json_schema()
