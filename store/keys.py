"""Tenants and API keys. Secrets are shown once and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from store.models import ApiKey, Tenant, utcnow

ROLES = ("admin", "manager", "viewer", "agent")
KEY_PREFIX = "fd_"
DEFAULT_TENANT_NAME = "Default"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_tenant(session: Session, *, name: str) -> Tenant:
    tenant = Tenant(name=name)
    session.add(tenant)
    session.flush()
    return tenant


def issue_key(
    session: Session,
    *,
    tenant_id: str,
    name: str,
    role: str,
    operator: bool = False,
    secret: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    secret = secret or new_secret()
    key = ApiKey(
        tenant_id=tenant_id,
        name=name,
        role=role,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
        operator=operator,
    )
    session.add(key)
    session.flush()
    return key, secret


def find_key(session: Session, secret: str) -> ApiKey | None:
    """The live key with this secret, compared in constant time."""
    digest = hash_secret(secret)
    candidates = session.exec(
        select(ApiKey).where(ApiKey.prefix == secret[:12], ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).all()
    for key in candidates:
        if hmac.compare_digest(key.secret_hash, digest):
            return key
    return None


def ensure_operator_key(session: Session, secret: str) -> ApiKey:
    """The operator key: admin of the default tenant, created on first use (idempotent)."""
    existing = find_key(session, secret)
    if existing is not None:
        return existing
    tenant = session.exec(select(Tenant).where(Tenant.name == DEFAULT_TENANT_NAME)).first()
    if tenant is None:
        tenant = create_tenant(session, name=DEFAULT_TENANT_NAME)
    key, _ = issue_key(
        session, tenant_id=tenant.id, name="operator", role="admin", operator=True, secret=secret
    )
    key.last_used_at = utcnow()
    return key
