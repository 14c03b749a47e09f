"""A flow's versions: drafts, publishing, rollback and diffs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from api.bodies.common import INT32_MAX
from api.bodies.flows import VersionSummary
from api.bodies.versions import RollbackBody, VersionCreate, VersionDiff, VersionOut
from api.deps import ManagerKey, SessionDep, SettingsDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import publishing, schedules
from api.services.diff import diff_definitions
from store import flows

router = APIRouter(prefix="/flows/{flow_id}", tags=["versions"], responses=KEYED | NOT_FOUND)
Number = Annotated[int, Path(ge=1, le=INT32_MAX)]


@router.get("/versions")
def list_versions(flow_id: str, session: SessionDep, key: ViewerKey) -> list[VersionSummary]:
    versions = flows.list_versions(session, tenant_id=key.tenant_id, flow_id=flow_id)
    return [VersionSummary.model_validate(v) for v in versions]


@router.post("/versions", status_code=201, responses=CONFLICT)
def create_version(
    flow_id: str, body: VersionCreate, session: SessionDep, key: ManagerKey, settings: SettingsDep
) -> VersionOut:
    """A new draft; it is validated in full and refused with every problem's path, unless it is
    `partial` (saved unfinished, its problems listed beside it)."""
    version = flows.create_version(
        session,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        definition=body.definition,
        change_notes=body.change_notes,
        created_by=key.name,
        limits=settings.flow_limits(),
        partial=body.partial,
    )
    return VersionOut.of(version)


@router.get("/versions/{number}")
def read_version(flow_id: str, number: Number, session: SessionDep, key: ViewerKey) -> VersionOut:
    version = flows.get_version(session, tenant_id=key.tenant_id, flow_id=flow_id, number=number)
    return VersionOut.of(version)


@router.put("/versions/{number}", responses=CONFLICT)
def update_draft(
    flow_id: str,
    number: Number,
    body: VersionCreate,
    session: SessionDep,
    key: ManagerKey,
    settings: SettingsDep,
) -> VersionOut:
    """Replace a draft's definition; published and archived versions are immutable (409)."""
    version = flows.update_draft(
        session,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        number=number,
        definition=body.definition,
        change_notes=body.change_notes,
        limits=settings.flow_limits(),
        partial=body.partial,
    )
    return VersionOut.of(version)


@router.post("/versions/{number}/publish", responses=CONFLICT)
async def publish_version(
    flow_id: str,
    number: Number,
    request: Request,
    session: SessionDep,
    key: ManagerKey,
    settings: SettingsDep,
) -> VersionOut:
    """Publish a draft: new executions pin it; the previously published one is archived.
    A flow naming what the tenant does not have (a department, an agent, a subflow, an email
    template, a WhatsApp template without a Content SID) is 422 at each node's path. A flow
    with a `schedule` trigger gets its Temporal Schedule with its first published version."""
    version = await run_in_threadpool(
        publishing.publish_version,
        session,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        number=number,
        settings=settings,
    )
    await schedules.after_publish(
        session=session,
        state=request.app.state,
        settings=settings,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
    )
    return VersionOut.of(version)


@router.post("/rollback", status_code=201, responses=CONFLICT)
async def rollback(
    flow_id: str,
    body: RollbackBody,
    request: Request,
    session: SessionDep,
    key: ManagerKey,
    settings: SettingsDep,
) -> VersionOut:
    """Publish a copy of an earlier version as a new version number; checked as publishing
    is (what it names must still exist)."""
    version = await run_in_threadpool(
        publishing.rollback_to,
        session,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        number=body.version,
        created_by=key.name,
        settings=settings,
    )
    await schedules.after_publish(
        session=session,
        state=request.app.state,
        settings=settings,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
    )
    return VersionOut.of(version)


@router.get("/versions/{a}/diff/{b}", response_model_exclude_unset=True)
def diff_versions(
    flow_id: str, a: Number, b: Number, session: SessionDep, key: ViewerKey
) -> VersionDiff:
    """What changed from version `a` to version `b`."""
    before = flows.get_version(session, tenant_id=key.tenant_id, flow_id=flow_id, number=a)
    after = flows.get_version(session, tenant_id=key.tenant_id, flow_id=flow_id, number=b)
    return VersionDiff.model_validate(
        {"from": a, "to": b, **diff_definitions(before.definition, after.definition)}
    )
