"""Departments: where calls are transferred (their agents, else their queue)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.bodies.departments import (
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    QueuedCallOut,
    RouteCallBody,
    RoutedCallOut,
)
from api.deps import EngineDep, ManagerKey, SessionDep, SettingsDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND, UNAVAILABLE
from api.services import routing
from api.services.routing import TwilioHttpDep
from store import telephony

router = APIRouter(prefix="/departments", tags=["departments"], responses=KEYED)


@router.get("")
def list_departments(session: SessionDep, key: ViewerKey) -> list[DepartmentOut]:
    rows = telephony.list_departments(session, tenant_id=key.tenant_id)
    return [DepartmentOut.model_validate(d) for d in rows]


@router.post("", status_code=201, responses=CONFLICT)
def create_department(
    body: DepartmentCreate, session: SessionDep, key: ManagerKey
) -> DepartmentOut:
    department = telephony.create_department(session, tenant_id=key.tenant_id, fields=body.given())
    return DepartmentOut.model_validate(department)


@router.get("/{department_id}", responses=NOT_FOUND)
def read_department(department_id: str, session: SessionDep, key: ViewerKey) -> DepartmentOut:
    department = telephony.get_department(
        session, tenant_id=key.tenant_id, department_id=department_id
    )
    return DepartmentOut.model_validate(department)


@router.patch("/{department_id}", responses=NOT_FOUND | CONFLICT)
def update_department(
    department_id: str, body: DepartmentUpdate, session: SessionDep, key: ManagerKey
) -> DepartmentOut:
    department = telephony.update_department(
        session, tenant_id=key.tenant_id, department_id=department_id, changes=body.given()
    )
    return DepartmentOut.model_validate(department)


@router.delete("/{department_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_department(department_id: str, session: SessionDep, key: ManagerKey) -> Response:
    """Remove it: departments overflowing to it stop overflowing, its agents leave it."""
    telephony.delete_department(session, tenant_id=key.tenant_id, department_id=department_id)
    return Response(status_code=204)


@router.post("/route", responses=NOT_FOUND | CONFLICT | UNAVAILABLE)
async def route_call(
    body: RouteCallBody,
    engine: EngineDep,
    settings: SettingsDep,
    http: TwilioHttpDep,
    key: ManagerKey,
) -> RoutedCallOut:
    """Straight to a free agent of the department (`dialing`), else into its queue
    (`queued`, with the position); the live call is redirected accordingly."""
    routed = await routing.route_call(
        engine=engine,
        settings=settings,
        http=http,
        tenant_id=key.tenant_id,
        call_sid=body.call_sid,
        department=body.department,
        priority=body.priority,
        skills=body.skills,
        context=body.context,
    )
    return RoutedCallOut.model_validate(routed)


@router.get("/{department_id}/queue", responses=NOT_FOUND)
def read_queue(department_id: str, engine: EngineDep, key: ViewerKey) -> list[QueuedCallOut]:
    """The callers waiting in the department, in the order they will be served."""
    entries = routing.queue_of(engine, tenant_id=key.tenant_id, department_id=department_id)
    return [QueuedCallOut.model_validate(e) for e in entries]
