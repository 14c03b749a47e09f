"""A body that cannot be read at all (not UTF-8, a broken form) is invalid input: 422 at the
body's path, as OpenAPI declares, not an undeclared 400 (schemathesis found it)."""

from __future__ import annotations

import httpx

from tests.api.helpers import TenantKeys


async def test_a_json_body_that_is_not_utf8_is_422_at_the_body(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/api/flows",
        content=b"\xc3\x28\x1e",
        headers={**tenant.auth(), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert [d["path"] for d in error["details"]] == ["$"]
