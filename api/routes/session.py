"""The dashboard's session: an API key pasted once becomes an HttpOnly cookie."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.bodies.session import SessionCreate, SessionOut
from api.deps import SESSION_COOKIE, CurrentKey, SessionDep, key_for
from api.errors import KEYED
from store.models import ApiKey, Tenant

router = APIRouter(prefix="/session", tags=["session"], responses=KEYED)
SESSION_MAX_AGE_S = 12 * 3600
"""A signed-in dashboard stays signed in for a working day."""


def _out(key: ApiKey, tenant: Tenant | None) -> SessionOut:
    # A stored role is one of the four (`api.deps.ROLE_GRANTS`); the column is a string.
    return SessionOut(
        key_id=key.id,
        key_name=key.name,
        role=key.role,
        operator=key.operator,
        tenant_id=key.tenant_id,
        tenant_name=tenant.name if tenant else "",
    )


@router.post("")
async def sign_in(
    body: SessionCreate, request: Request, response: Response, session: SessionDep
) -> SessionOut:
    """Check the key and keep it in the session cookie (HttpOnly, SameSite=Strict)."""
    key = await key_for(request, session, body.key)
    response.set_cookie(
        SESSION_COOKIE,
        body.key,
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    tenant = await run_in_threadpool(session.get, Tenant, key.tenant_id)
    return _out(key, tenant)


@router.get("")
async def who_am_i(key: CurrentKey, session: SessionDep) -> SessionOut:
    """The signed-in key (or the bearer key), its role and its tenant."""
    tenant = await run_in_threadpool(session.get, Tenant, key.tenant_id)
    return _out(key, tenant)


@router.delete("", status_code=204)
def sign_out() -> Response:
    """Forget the session cookie."""
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
