"""The tenant's own settings: every key reads them, its admins change them."""

from __future__ import annotations

from fastapi import APIRouter

from api.bodies.tenant import TenantSettingsOut, TenantSettingsUpdate
from api.deps import AdminKey, SessionDep, ViewerKey
from api.errors import KEYED
from store import tenants

router = APIRouter(prefix="/tenant", tags=["tenant"], responses=KEYED)


@router.get("")
def read_tenant(session: SessionDep, key: ViewerKey) -> TenantSettingsOut:
    """This key's tenant and its defaults: business hours, time zone, cooldown."""
    tenant = tenants.get_tenant(session, tenant_id=key.tenant_id)
    settings = tenants.tenant_settings(session, tenant_id=key.tenant_id)
    return TenantSettingsOut.of(tenant, settings)


@router.patch("")
def update_tenant(
    body: TenantSettingsUpdate, session: SessionDep, key: AdminKey
) -> TenantSettingsOut:
    """Change the tenant's defaults (admin keys). Flows that have their own hours or
    cooldown keep them; hours without their own apply to runs from now on."""
    current = tenants.tenant_settings(session, tenant_id=key.tenant_id)
    settings = tenants.update_tenant_settings(
        session,
        tenant_id=key.tenant_id,
        changes=body.changes(current_timezone=current.timezone),
    )
    return TenantSettingsOut.of(tenants.get_tenant(session, tenant_id=key.tenant_id), settings)
