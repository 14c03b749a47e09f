"""Bodies of the dashboard's session."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.bodies.common import RequestBody, ResponseBody


class SessionCreate(RequestBody):
    key: str = Field(min_length=1, max_length=200)
    """An API key, as `Authorization: Bearer` takes it; kept in the session cookie."""


class SessionOut(ResponseBody):
    """Who is signed in: the key, its role (what the dashboard lets it do) and its tenant."""

    key_id: str
    key_name: str
    role: Literal["admin", "manager", "viewer", "agent"]
    operator: bool
    tenant_id: str
    tenant_name: str
