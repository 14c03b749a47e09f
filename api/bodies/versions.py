"""Bodies of a flow's versions: drafts, publishing, rollback."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.bodies.common import RequestBody, VersionNumber
from api.bodies.flows import VersionSummary
from store.flows import draft_problems
from store.models import FlowVersion


class VersionCreate(RequestBody):
    definition: Any
    change_notes: str | None = Field(default=None, max_length=10_000)
    partial: bool = Field(
        default=False,
        description="save a draft that does not validate yet (as the builder saves as you go): "
        "only its size is enforced, its problems are listed in `problems`, and publishing or "
        "running it is refused until they are fixed",
    )


class DraftProblem(BaseModel):
    path: str = Field(description="where, inside this body (`$.definition.nodes[2].config.to`)")
    code: str
    message: str
    severity: str = Field(description="`error` (stops publishing) or `warning`")


class RollbackBody(RequestBody):
    version: VersionNumber


class VersionOut(VersionSummary):
    flow_id: str
    definition: dict[str, Any]
    problems: list[DraftProblem] = Field(
        default=[], description="a draft's errors then warnings; empty once published"
    )

    @classmethod
    def of(cls, version: FlowVersion) -> VersionOut:
        out = cls.model_validate(version)
        out.problems = [DraftProblem.model_validate(p) for p in draft_problems(version)]
        return out


class FieldChange(BaseModel):
    """One changed leaf (`config.params.1`); `from` is absent when it was added, `to` when
    it was removed."""

    model_config = ConfigDict(populate_by_name=True)

    field: str
    from_: Any = Field(default=None, alias="from")
    to: Any = None


class StartChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from")
    to: str | None


class NodeRef(BaseModel):
    id: str
    type: str | None


class NodeChanged(NodeRef):
    changes: list[FieldChange]


class NodeChanges(BaseModel):
    added: list[NodeRef]
    removed: list[NodeRef]
    changed: list[NodeChanged]


class VersionDiff(BaseModel):
    """What changed from version `from` to version `to`, in the newer one's node order."""

    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from")
    to: int
    start: StartChange | None = Field(description="the start node, when it changed")
    variables: list[FieldChange]
    nodes: NodeChanges
