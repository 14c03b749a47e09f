"""The flow document's JSON Schema, for editors and clients."""

from __future__ import annotations

import functools
import json

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import ViewerKey
from api.errors import KEYED
from schemas.validation import flow_json_schema

router = APIRouter(prefix="/schemas", tags=["schemas"], responses=KEYED)


@functools.cache
def _flow_schema_json() -> bytes:
    """Built once per process: the schema cannot change while it runs, and building and
    serializing it took about 100 ms a request."""
    return json.dumps(flow_json_schema()).encode()


@router.get(
    "/flow",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "a JSON Schema"}},
)
def flow_schema(key: ViewerKey) -> Response:
    return Response(_flow_schema_json(), media_type="application/json")
