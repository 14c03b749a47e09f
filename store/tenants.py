"""A tenant's own defaults (`schemas.tenant`), read and changed by the tenant itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from schemas.tenant import TenantSettings, read_settings, settings_column
from store.errors import NotFoundError
from store.models import Tenant


def get_tenant(session: Session, *, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFoundError(f"tenant {tenant_id} not found")
    return tenant


def tenant_settings(session: Session, *, tenant_id: str) -> TenantSettings:
    return read_settings(get_tenant(session, tenant_id=tenant_id).business_hours)


def update_tenant_settings(
    session: Session, *, tenant_id: str, changes: Mapping[str, Any]
) -> TenantSettings:
    """Change the settings given (`business_hours: null` removes the hours); the others stay."""
    tenant = get_tenant(session, tenant_id=tenant_id)
    current = read_settings(tenant.business_hours).model_dump(mode="json")
    settings = TenantSettings.model_validate(current | dict(changes))
    tenant.business_hours = settings_column(settings)
    session.add(tenant)
    session.commit()
    return settings


def hours_in(column: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tenant's business hours as a flow's are stored, or None, from the tenant's
    settings column (`Tenant.business_hours`) as stored."""
    hours = read_settings(column).business_hours
    return hours.model_dump(mode="json") if hours is not None else None
