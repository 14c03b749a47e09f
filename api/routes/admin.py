"""Health, tenants (the operator's) and API keys (each tenant's admin's)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from api.bodies import KeyCreate, KeyCreated, KeyOut, TenantCreate, TenantCreated, TenantOut
from api.deps import AdminKey, EngineDep, OperatorKey, SessionDep, get_temporal
from api.errors import ServiceUnavailableError
from api.services import admin

router = APIRouter(tags=["administration"])
log = structlog.get_logger(__name__)
HEALTH_TIMEOUT = timedelta(seconds=3)


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("database unreachable", error=str(exc))
        return False
    return True


async def _temporal_ok(request: Request) -> bool:
    try:
        client = await get_temporal(request)
        return await client.service_client.check_health(timeout=HEALTH_TIMEOUT)
    except ServiceUnavailableError:
        return False
    except (RPCError, RuntimeError, TimeoutError) as exc:  # an unreachable server, either way
        log.warning("temporal unhealthy", error=str(exc))
        return False


@router.get("/health", responses={503: {"description": "a dependency is unreachable"}})
async def health(request: Request, engine: EngineDep) -> JSONResponse:
    """No key needed: 200 when the database and Temporal answer, else 503."""
    database = await run_in_threadpool(_database_ok, engine)
    temporal = await _temporal_ok(request)
    body = {"database": "ok" if database else "error", "temporal": "ok" if temporal else "error"}
    return JSONResponse(body, status_code=200 if database and temporal else 503)


@router.post("/tenants", status_code=201)
def create_tenant(body: TenantCreate, session: SessionDep, key: OperatorKey) -> TenantCreated:
    """A tenant and its first admin key, shown only in this answer."""
    hours = body.business_hours.model_dump(mode="json") if body.business_hours else None
    tenant, secret = admin.create_tenant_with_admin(session, name=body.name, business_hours=hours)
    return TenantCreated(**TenantOut.model_validate(tenant).model_dump(), admin_key=secret)


@router.get("/tenants")
def list_tenants(session: SessionDep, key: OperatorKey) -> list[TenantOut]:
    return [TenantOut.model_validate(t) for t in admin.list_tenants(session)]


@router.post("/keys", status_code=201)
def create_key(body: KeyCreate, session: SessionDep, key: AdminKey) -> KeyCreated:
    """A key of this tenant; its `secret` is shown only in this answer."""
    issued, secret = admin.create_key(
        session,
        tenant_id=key.tenant_id,
        name=body.name,
        role=body.role,
        campaign_ids=body.campaigns,
    )
    return KeyCreated(**KeyOut.model_validate(issued).model_dump(), secret=secret)


@router.get("/keys")
def list_keys(session: SessionDep, key: AdminKey) -> list[KeyOut]:
    return [KeyOut.model_validate(k) for k in admin.list_keys(session, tenant_id=key.tenant_id)]


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, request: Request, session: SessionDep, key: AdminKey) -> Response:
    admin.revoke_key(session, tenant_id=key.tenant_id, key_id=key_id)
    request.app.state.key_cache.forget(key_id)  # refused from the next request on
    return Response(status_code=204)
