"""Tenants and API keys, as the operator and the tenants' admins manage them."""

from __future__ import annotations

from sqlmodel import Session, col, select

from schemas.tenant import TenantSettings, settings_column
from store.campaigns import check_campaign_ids
from store.errors import ConflictError, InvalidInputError, NotFoundError
from store.keys import create_tenant, issue_key
from store.models import ApiKey, Tenant, utcnow


def create_tenant_with_admin(
    session: Session, *, name: str, settings: TenantSettings
) -> tuple[Tenant, str]:
    """A tenant with its defaults and its first admin key; returns the key's secret, shown
    only this once."""
    tenant = create_tenant(session, name=name)
    tenant.business_hours = settings_column(settings)
    session.add(tenant)
    _, secret = issue_key(session, tenant_id=tenant.id, name="admin", role="admin")
    session.commit()
    return tenant, secret


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.exec(select(Tenant).order_by(col(Tenant.created_at))).all())


def create_key(
    session: Session,
    *,
    tenant_id: str,
    name: str,
    role: str,
    campaign_ids: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """A key; `campaign_ids` limits the recordings it reads (None: every campaign)."""
    if campaign_ids is not None:
        if role == "admin":
            message = "admin keys read every campaign: give campaigns to other roles only"
            raise InvalidInputError(
                message,
                details=[{"path": "$.campaigns", "code": "not_allowed", "message": message}],
            )
        check_campaign_ids(
            session, tenant_id=tenant_id, campaign_ids=campaign_ids, path="$.campaigns"
        )
    key, secret = issue_key(session, tenant_id=tenant_id, name=name, role=role)
    key.campaign_ids = list(dict.fromkeys(campaign_ids)) if campaign_ids is not None else None
    session.commit()
    return key, secret


def list_keys(session: Session, *, tenant_id: str) -> list[ApiKey]:
    """The tenant's live keys (their secrets are never stored, so never shown)."""
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id, col(ApiKey.revoked_at).is_(None))
    return list(session.exec(query.order_by(col(ApiKey.created_at))).all())


def revoke_key(session: Session, *, tenant_id: str, key_id: str) -> None:
    key = session.get(ApiKey, key_id)
    if key is None or key.tenant_id != tenant_id or key.revoked_at is not None:
        raise NotFoundError(f"key {key_id} not found")
    if key.operator:
        raise ConflictError("the operator key is set by FLOWDECK_ADMIN_KEY and cannot be revoked")
    key.revoked_at = utcnow()
    session.add(key)
    session.commit()
