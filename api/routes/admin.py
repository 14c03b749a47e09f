"""Tenants (the operator's) and API keys (each tenant's admin's)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.bodies.admin import KeyCreate, KeyCreated, KeyOut, TenantCreate, TenantCreated, TenantOut
from api.deps import AdminKey, OperatorKey, SessionDep
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import admin

router = APIRouter(tags=["administration"], responses=KEYED)


@router.post("/tenants", status_code=201, responses=CONFLICT)
def create_tenant(body: TenantCreate, session: SessionDep, key: OperatorKey) -> TenantCreated:
    """A tenant and its first admin key, shown only in this answer."""
    tenant, secret = admin.create_tenant_with_admin(
        session, name=body.name, settings=body.settings()
    )
    return TenantCreated(**TenantOut.of(tenant).model_dump(), admin_key=secret)


@router.get("/tenants")
def list_tenants(session: SessionDep, key: OperatorKey) -> list[TenantOut]:
    return [TenantOut.of(t) for t in admin.list_tenants(session)]


@router.post("/keys", status_code=201, responses=CONFLICT)
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


@router.delete("/keys/{key_id}", status_code=204, responses=NOT_FOUND)
def revoke_key(key_id: str, request: Request, session: SessionDep, key: AdminKey) -> Response:
    admin.revoke_key(session, tenant_id=key.tenant_id, key_id=key_id)
    request.app.state.key_cache.forget(key_id)  # refused from the next request on
    return Response(status_code=204)
