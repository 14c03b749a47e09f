"""Whole calls: the real app, a real worker and Temporal server, and Twilio played by
`callsim.SimulatedCall` (signed webhooks, TwiML parsed and followed)."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from callsim import SimulatedCall
from schemas.execution import workflow_id_for
from schemas.settings import Settings
from tests.api.conftest import TEMPORAL_UI, api, make_tenant, other_tenant, tenant, worker
from tests.api.helpers import TenantKeys, make_flow
from tests.telephony.helpers import fresh_number, register

__all__ = ["api", "make_tenant", "other_tenant", "tenant", "worker"]  # fixtures, re-exported

AUTH_TOKEN = "twilio-test-auth-token"
PUBLIC_URL = "https://flowdeck.example.com"
CALLER = "+15557770000"


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    """Settings a test module adds (override the fixture)."""
    return {}


@pytest.fixture
def settings(
    task_queue: str, temporal_env: WorkflowEnvironment, extra_settings: dict[str, Any]
) -> Settings:
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=TEMPORAL_UI,
        FLOWDECK_TASK_QUEUE=task_queue,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        PUBLIC_BASE_URL=PUBLIC_URL,
        **extra_settings,
    )


Deploy = Callable[..., Any]
HISTORIES = Path(__file__).parents[1] / "histories"
SaveHistory = Callable[[str, str], Awaitable[None]]


@pytest.fixture
def save_history(temporal_env: WorkflowEnvironment) -> SaveHistory:
    """With FLOWDECK_RECORD_HISTORIES=1, keep a call's history for the replay tests."""

    async def save(execution_id: str, name: str) -> None:
        if os.environ.get("FLOWDECK_RECORD_HISTORIES") != "1":
            return
        handle = temporal_env.client.get_workflow_handle(workflow_id_for(execution_id))
        history = await handle.fetch_history()
        text = json.dumps(json.loads(history.to_json()), indent=1)
        (HISTORIES / f"{name}.json").write_text(text)

    return save


@pytest.fixture
def deploy(api: httpx.AsyncClient, tenant: TenantKeys) -> Deploy:
    """A published flow deployed to a fresh number: returns (flow, number)."""

    async def deploy(
        definition: dict[str, Any], *, tenant: TenantKeys = tenant, **body: Any
    ) -> tuple[dict[str, Any], str]:
        flow = await make_flow(api, tenant, definition, name=body.pop("name", "Call flow"))
        number = (await register(api, tenant, fresh_number()))["number"]
        response = await api.post(
            f"/api/flows/{flow['id']}/deploy",
            json={"phone_numbers": [number], **body},
            headers=tenant.auth("manager"),
        )
        assert response.status_code == 201, response.text
        return flow, number

    return deploy


@pytest.fixture
def phone(api: httpx.AsyncClient) -> Callable[..., SimulatedCall]:
    """A new call to `to`, from CALLER unless told otherwise."""

    def dial(to: str, *, from_: str = CALLER, token: str = AUTH_TOKEN) -> SimulatedCall:
        return SimulatedCall(
            client=api, auth_token=token, public_url=PUBLIC_URL, to=to, from_=from_
        )

    return dial
