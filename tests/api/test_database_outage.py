"""The API while its database is away (PostgreSQL restarting): 503 in the error shape, with
Retry-After, and back to normal once the database is back."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from schemas.settings import Settings
from tests.api.helpers import TenantKeys
from tests.outage import database_outage


async def test_requests_get_503_while_the_database_is_away_and_work_once_it_is_back(
    engine: Engine,
    tmp_path: Path,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    tenant: TenantKeys,
) -> None:
    async with database_outage(engine, tmp_path) as (proxied, outage):
        # Every request reads its key from the database: no cache to hide the outage.
        app = create_app(
            settings=settings.model_copy(update={"key_cache_s": 0.0}),
            engine=proxied,
            temporal_client=temporal_env.client,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:
            assert (await api.get("/api/flows", headers=tenant.auth())).status_code == 200

            outage.go_down()
            for method, path in (("GET", "/api/flows"), ("GET", "/api/executions")):
                answer = await api.request(method, path, headers=tenant.auth())
                assert answer.status_code == 503, answer.text
                assert answer.json()["error"]["code"] == "unavailable"
                assert "database" in answer.json()["error"]["message"]
                assert answer.headers["Retry-After"] == "5"

            outage.up = True
            assert (await api.get("/api/flows", headers=tenant.auth())).status_code == 200
