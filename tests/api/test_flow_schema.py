"""`GET /api/schemas/flow`: the flow document's JSON Schema, built once, served as JSON."""

from __future__ import annotations

import httpx

from schemas.flow import FlowDocument
from schemas.validation import flow_json_schema
from tests.api.helpers import TenantKeys


async def test_the_published_schema_is_the_flow_documents(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = await api.get("/api/schemas/flow", headers=tenant.auth("viewer"))
    again = await api.get("/api/schemas/flow", headers=tenant.auth("viewer"))

    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == again.json() == flow_json_schema()
    assert first.json() == FlowDocument.model_json_schema(by_alias=True)
