"""API tests: the real app over ASGI, a real database (both backends), a real Temporal server.

Each test gets its own tenant with one key per role, and its own task queue.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from schemas.settings import Settings
from store.db import session_scope
from store.keys import ROLES, create_tenant, issue_key
from tests.api.helpers import TenantKeys
from tests.running import running as run_worker
from worker import build_worker

TEMPORAL_UI = "http://temporal-ui.test"


@pytest.fixture
def make_tenant(engine: Engine) -> Callable[[], TenantKeys]:
    def make() -> TenantKeys:
        with session_scope(engine) as session:
            tenant = create_tenant(session, name=f"tenant-{uuid.uuid4().hex[:8]}")
            keys = TenantKeys(id=tenant.id)
            for role in ROLES:
                _, secret = issue_key(session, tenant_id=tenant.id, name=f"{role}-key", role=role)
                keys.secrets[role] = secret
        return keys

    return make


@pytest.fixture
def tenant(make_tenant: Callable[[], TenantKeys]) -> TenantKeys:
    return make_tenant()


@pytest.fixture
def other_tenant(make_tenant: Callable[[], TenantKeys]) -> TenantKeys:
    return make_tenant()


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=TEMPORAL_UI,
        FLOWDECK_TASK_QUEUE=task_queue,
    )


@pytest.fixture
async def api(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a client sees it; a 500 raises in the test instead of passing unnoticed."""
    app = create_app(settings=settings, engine=engine, temporal_client=temporal_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as client:
        yield client


@pytest.fixture
async def worker(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[Worker]:
    """The real interpreter worker on this test's task queue."""
    running = build_worker(
        temporal_env.client, engine=engine, settings=settings, task_queue=settings.task_queue
    )
    async with run_worker(running):
        yield running
