"""Whole executions on a real worker with the twilio providers, against the fake Twilio.

The worker is built as in production (`build_worker`); only its httpx client differs: it
sends what the twilio library addresses to api.twilio.com to the local fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.settings import Settings
from tests.api.helpers import TenantKeys, wait_for_status
from tests.channels.conftest import (
    ACCOUNT_SID,
    CONTENT_SID,
    TWILIO_ENV,
    FakeTwilio,
    routed_to,
    unique_phone,
)
from tests.channels.test_webhooks import (
    CALL_FLOW,
    outbox_by_sid,
    ports,
    start,
    twilio_post,
    waiting_step,
)
from tests.running import running as run_worker
from worker import build_worker

MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
SMS_FLOW: dict[str, Any] = {
    "start": "text",
    "nodes": [
        {
            "id": "text",
            "type": "sms",
            "config": {"body": "Hi {{ contact.name }}, thanks for your enquiry"},
            "transitions": {"sent": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    """The API's and the worker's settings: every channel through Twilio."""
    return Settings.model_validate(
        {
            **TWILIO_ENV,
            "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
            "FLOWDECK_TASK_QUEUE": task_queue,
            "FLOWDECK_TWILIO_TIMEOUT_S": 0.5,
        }
    )


@pytest.fixture
async def twilio_worker(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment, fake_twilio: FakeTwilio
) -> AsyncIterator[Worker]:
    async with routed_to(fake_twilio) as http:
        running = build_worker(
            temporal_env.client,
            engine=engine,
            settings=settings,
            task_queue=settings.task_queue,
            http_client=http,
        )
        async with run_worker(running):
            yield running


async def test_a_real_call_missed_then_a_whatsapp_template(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    twilio_worker: Worker,
    fake_twilio: FakeTwilio,
    engine: Engine,
) -> None:
    phone = unique_phone()
    execution_id = await start(api, tenant, CALL_FLOW, phone)
    step = await waiting_step(api, tenant, execution_id, "call")
    [call] = fake_twilio.calls
    assert step["result"]["call_sid"] == call["sid"]
    assert call["to"] == phone

    for status in ("initiated", "ringing", "no-answer"):
        response = await twilio_post(
            api, "/webhooks/twilio/status", {"CallSid": call["sid"], "CallStatus": status}
        )
        assert response.status_code == 200

    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done) == [("call", "missed"), ("wa", "sent"), ("done", None)]
    [message] = fake_twilio.messages
    assert message["form"]["To"] == [f"whatsapp:{phone}"]
    assert message["form"]["ContentSid"] == [CONTENT_SID]
    assert message["form"]["ContentVariables"] == ['{"1": "Asha"}']
    assert done["steps"][1]["result"]["message_sid"] == message["sid"]
    assert fake_twilio.violations == []

    delivered = await twilio_post(
        api,
        "/webhooks/twilio/messaging",
        {"MessageSid": message["sid"], "MessageStatus": "delivered"},
    )
    assert delivered.status_code == 200
    assert outbox_by_sid(engine, message["sid"]).status == "delivered"
    assert outbox_by_sid(engine, call["sid"]).status == "no-answer"


@pytest.mark.parametrize("failure", ["500", "hang"])
async def test_a_step_retried_after_twilio_accepted_sends_one_message(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    twilio_worker: Worker,
    fake_twilio: FakeTwilio,
    failure: str,
) -> None:
    """Twilio stores the message, then the answer fails: Temporal retries the step, and the
    contact still gets exactly one message."""
    fake_twilio.fail_after_accept = failure
    fake_twilio.hang_s = 1.5

    execution_id = await start(api, tenant, SMS_FLOW, unique_phone())

    done = await wait_for_status(api, tenant, execution_id, "completed", within_s=30)
    [message] = fake_twilio.messages
    [step, _] = done["steps"]
    assert (step["node_id"], step["port"], step["attempt"]) == ("text", "sent", 2)
    assert step["result"]["message_sid"] == message["sid"]
    assert message["body"] == "Hi Asha, thanks for your enquiry"
    assert [(r.method, r.path) for r in fake_twilio.requests] == [
        ("POST", MESSAGES),
        ("GET", MESSAGES),
    ]
    assert fake_twilio.violations == []
