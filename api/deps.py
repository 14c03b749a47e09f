"""Request dependencies as named types: settings, database session, Temporal, API key, roles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from temporalio.client import Client

from api.errors import ServiceUnavailableError
from api.temporal import connect_temporal, index_executions_if_possible
from schemas.settings import Settings
from store.keys import find_key, hash_secret
from store.models import ApiKey, utcnow
from store.vault import Vault, VaultNotConfigured

log = structlog.get_logger(__name__)

ROLE_GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"viewer", "agent", "manager", "admin"}),
    "agent": frozenset({"agent", "manager", "admin"}),
    "manager": frozenset({"manager", "admin"}),
    "admin": frozenset({"admin"}),
}
"""Which key roles may do what a role may do: admin ⊇ manager ⊇ viewer; agents read and
complete human tasks."""
LAST_USED_EVERY = timedelta(minutes=5)
"""`last_used_at` is refreshed at most this often, so reads stay reads."""
CONNECT_TIMEOUT_S = 5.0


# `async` although they await nothing: FastAPI runs a plain `def` dependency in a worker
# thread, a hop that costs more than these lookups.
async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


async def get_session(engine: EngineDep) -> AsyncIterator[Session]:
    """The request's session. Opening one does no I/O (a connection is taken on first use),
    so it is made here rather than in a worker thread; closing goes to one only when the
    session still holds a connection (returning it rolls back: a round trip on PostgreSQL)."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_temporal(request: Request) -> Client:
    """The app's Temporal client, connected on first use if the server was down at startup."""
    return await temporal_client_of(request.app.state)


def temporal_source(request: Request) -> Callable[[], Awaitable[Client]]:
    """`get_temporal` for this request, to call only when a Temporal client is needed (a
    webhook that may start nothing never connects)."""

    async def client() -> Client:
        return await get_temporal(request)

    return client


async def temporal_client_of(state: State) -> Client:
    """`get_temporal` for work the app does on its own (its sweepers)."""
    if state.temporal_client is None:
        async with state.temporal_lock:
            if state.temporal_client is None:
                try:
                    connected = await asyncio.wait_for(
                        connect_temporal(state.settings), CONNECT_TIMEOUT_S
                    )
                except Exception as exc:  # any failure to connect means the same to a caller
                    log.warning("temporal unreachable", error=str(exc))
                    raise ServiceUnavailableError(f"Temporal is unreachable: {exc}") from exc
                await index_executions_if_possible(state, connected)
                state.temporal_client = connected
    client: Client = state.temporal_client
    return client


TemporalDep = Annotated[Client, Depends(get_temporal)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer fd_…`")


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


class KeyCache:
    """Live API keys by their secret's hash, each remembered for `ttl_s` seconds, so most
    requests authenticate without a database round trip. A key revoked through this process
    is forgotten at once; one revoked through another API process stops working within
    `ttl_s`. Unknown secrets are never remembered. Each operation is one dictionary step,
    safe from the loop and worker threads alike."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._keys: dict[str, tuple[ApiKey, float]] = {}

    def get(self, digest: str) -> ApiKey | None:
        found = self._keys.get(digest)
        if found is None:
            return None
        if time.monotonic() >= found[1]:
            self._keys.pop(digest, None)
            return None
        return found[0]

    def put(self, digest: str, key: ApiKey) -> None:
        if self.ttl_s > 0:
            self._keys[digest] = (key, time.monotonic() + self.ttl_s)

    def forget(self, key_id: str) -> None:
        for digest, (key, _) in list(self._keys.items()):
            if key.id == key_id:
                self._keys.pop(digest, None)


SESSION_COOKIE = "flowdeck_session"
"""The dashboard's session: the API key it signed in with, in an HttpOnly, SameSite=Strict
cookie (no script reads it; the event stream's `EventSource` sends it)."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _from_cookie(request: Request) -> str | None:
    """The session cookie's key, for a request a page of ours made. A request that changes
    something must come from our own origin (CSRF: SameSite=Strict keeps other sites' pages
    from sending the cookie, and this check holds even where a browser would)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or request.method in SAFE_METHODS:
        return secret
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise HTTPException(403, "a change with the session cookie must come from this site")
    return secret


async def get_current_key(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The live API key of the request (its bearer key, else the dashboard's session
    cookie), or 401: from the key cache, else looked up in one worker-thread hop."""
    secret = credentials.credentials if credentials is not None else _from_cookie(request)
    if not secret:
        raise _unauthorized("an API key is required: `Authorization: Bearer <key>`")
    return await key_for(request, session, secret)


async def key_for(request: Request, session: Session, secret: str) -> ApiKey:
    """The live key with this secret, or 401."""
    cache: KeyCache = request.app.state.key_cache
    digest = hash_secret(secret)
    key = cache.get(digest)
    if key is None:
        key = await run_in_threadpool(_live_key, session, secret)
        if key is None:
            raise _unauthorized("unknown or revoked API key")
        cache.put(digest, key)
    return key


def _live_key(session: Session, secret: str) -> ApiKey | None:
    key = find_key(session, secret)
    if key is not None:
        now = utcnow()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
            key.last_used_at = now
            session.add(key)
    # Ends the transaction, so a long request (the event stream) holds no connection.
    session.commit()
    if key is not None:
        # Shared through the cache by concurrent requests: no session may expire it (as a
        # rollback in this request would), so none owns it.
        session.expunge(key)
    return key


CurrentKey = Annotated[ApiKey, Depends(get_current_key)]


def require_role(role: str) -> Callable[[ApiKey], Awaitable[ApiKey]]:
    """A dependency that lets through keys allowed to act as `role`, else 403."""
    allowed = ROLE_GRANTS[role]

    async def check(key: CurrentKey) -> ApiKey:
        if key.role not in allowed:
            raise HTTPException(403, f"this needs a {role} key; this key is a {key.role} key")
        return key

    return check


async def require_operator(key: CurrentKey) -> ApiKey:
    if not key.operator:
        raise HTTPException(403, "only the operator key (FLOWDECK_ADMIN_KEY) manages tenants")
    return key


ViewerKey = Annotated[ApiKey, Depends(require_role("viewer"))]
AgentKey = Annotated[ApiKey, Depends(require_role("agent"))]
ManagerKey = Annotated[ApiKey, Depends(require_role("manager"))]
AdminKey = Annotated[ApiKey, Depends(require_role("admin"))]
OperatorKey = Annotated[ApiKey, Depends(require_operator)]


async def get_vault(settings: SettingsDep) -> Vault:
    """The vault of connections' secrets; 503 naming FLOWDECK_SECRET_KEYS when it has no key."""
    try:
        return Vault.from_settings(settings)
    except VaultNotConfigured as exc:
        raise ServiceUnavailableError(str(exc)) from None


VaultDep = Annotated[Vault, Depends(get_vault)]
