"""Bodies of a flow's versions: drafts, publishing, rollback."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.bodies.common import RequestBody, VersionNumber
from api.bodies.flows import VersionSummary


class VersionCreate(RequestBody):
    definition: Any
    change_notes: str | None = Field(default=None, max_length=10_000)


class RollbackBody(RequestBody):
    version: VersionNumber


class VersionOut(VersionSummary):
    flow_id: str
    definition: dict[str, Any]
