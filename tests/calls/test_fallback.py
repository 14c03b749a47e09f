"""A deployment's fallback flow answers outside its schedule, and takes over a call whose flow
failed mid-call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.worker import Worker

from callsim import SimulatedCall, play
from schemas.call import execution_id_for_call
from tests.api.helpers import TenantKeys, make_flow, wait_for_status
from tests.calls.conftest import Deploy

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FAILING: dict[str, Any] = {
    "start": "ask",
    "nodes": [
        {
            "id": "ask",
            "type": "gather",
            "config": {"prompt": "Press 1 for your balance."},
            "transitions": {"input": "broken"},
        },
        {
            "id": "broken",
            "type": "end",
            "config": {"status": "failed", "reason": "the core banking system is down"},
        },
    ],
}
APOLOGY: dict[str, Any] = {
    "start": "sorry",
    "nodes": [
        {"id": "sorry", "type": "say", "config": {"text": "Sorry, please call again later."}},
    ],
}


async def test_a_flow_that_fails_mid_call_hands_the_caller_to_the_fallback_flow(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    fallback = await make_flow(api, tenant, APOLOGY, name="Apology")
    _, number = await deploy(FAILING, fallback_flow_id=fallback["id"])
    call = phone(number)
    await call.start()

    answer = await call.press("1")  # the flow fails; Twilio follows the redirect

    assert answer.spoken() == ["Sorry, please call again later."] and answer.hangs_up
    handed = call.history[-2]
    redirect = handed.first("Redirect")
    assert redirect is not None and (redirect.text or "").endswith("/voice?fallback=true")
    failed = await wait_for_status(api, tenant, execution_id_for_call(call.call_sid), "failed")
    assert failed["reason"] == "the core banking system is down"
    rescued = await wait_for_status(
        api, tenant, execution_id_for_call(call.call_sid, fallback=True), "completed"
    )
    assert rescued["flow_id"] == fallback["id"] and rescued["trigger"]["fallback"] is True


async def test_outside_the_schedule_the_fallback_flow_answers(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    fallback = await make_flow(api, tenant, APOLOGY, name="Closed")
    tomorrow = DAYS[(datetime.now(UTC).weekday() + 1) % 7]
    schedule = {"start": "09:00", "end": "17:00", "timezone": "UTC", "days": [tomorrow]}
    _, number = await deploy(FAILING, schedule=schedule, fallback_flow_id=fallback["id"])
    call = phone(number)

    answer = await call.start()

    assert answer.spoken() == ["Sorry, please call again later."] and answer.hangs_up
    execution = await wait_for_status(
        api, tenant, execution_id_for_call(call.call_sid), "completed"
    )
    assert execution["flow_id"] == fallback["id"] and execution["trigger"]["fallback"] is True


async def test_outside_the_schedule_without_a_fallback_the_caller_hears_we_are_closed(
    worker: Worker, deploy: Deploy, phone: Callable[..., SimulatedCall]
) -> None:
    tomorrow = DAYS[(datetime.now(UTC).weekday() + 1) % 7]
    schedule = {"start": "09:00", "end": "17:00", "timezone": "UTC", "days": [tomorrow]}
    _, number = await deploy(FAILING, schedule=schedule)

    answer = await phone(number).start()

    assert answer.spoken() == [
        "We are closed now. Please call again during our opening hours. Goodbye."
    ]
    assert answer.hangs_up


def _saying(text: str) -> dict[str, Any]:
    return {"start": "say", "nodes": [{"id": "say", "type": "say", "config": {"text": text}}]}


async def _deploy_to(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, number: str, **body: Any
) -> None:
    response = await api.post(
        f"/api/flows/{flow_id}/deploy",
        json={"phone_numbers": [number], **body},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 201, response.text


async def test_a_staging_call_runs_the_staging_flow_and_falls_back_to_stagings_fallback(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    live_fallback = await make_flow(api, tenant, _saying("Production apologises."), name="P")
    _, number = await deploy(_saying("This is production."), fallback_flow_id=live_fallback["id"])
    staged = await make_flow(api, tenant, FAILING, name="Next menu")
    staged_fallback = await make_flow(api, tenant, _saying("Staging apologises."), name="S")
    await _deploy_to(
        api,
        tenant,
        staged["id"],
        number,
        environment="staging",
        fallback_flow_id=staged_fallback["id"],
    )

    live = await phone(number).start()
    assert live.spoken() == ["This is production."]

    call = phone(number)
    asked = await call.start(path="/webhooks/twilio/voice?environment=staging")
    assert asked.spoken() == ["Press 1 for your balance."]
    answer = await call.press("1")  # the staged flow fails: staging's fallback takes the call

    assert answer.spoken() == ["Staging apologises."]
    redirect = call.history[-2].first("Redirect")
    assert redirect is not None
    assert (redirect.text or "").endswith("/voice?fallback=true&environment=staging")
    failed = await wait_for_status(api, tenant, execution_id_for_call(call.call_sid), "failed")
    assert failed["flow_id"] == staged["id"] and failed["trigger"]["environment"] == "staging"
    rescued = await wait_for_status(
        api, tenant, execution_id_for_call(call.call_sid, fallback=True), "completed"
    )
    assert rescued["flow_id"] == staged_fallback["id"]
    assert rescued["trigger"]["environment"] == "staging"

    heard: list[str] = []  # `flowdeck call --environment staging` rings the same way
    await play(phone(number), [], ask=None, say=heard.append, environment="staging")
    assert heard == ["  flow says: Press 1 for your balance.", "  you hung up"]

    # Undeployed from staging, the number answers nothing there; production is untouched.
    [line] = (await api.get("/api/phone-numbers", headers=tenant.auth("viewer"))).json()
    ended = await api.delete(
        f"/api/phone-numbers/{line['id']}/deployments/staging", headers=tenant.auth("manager")
    )
    assert ended.status_code == 200, ended.text
    gone = await phone(number).start(path="/webhooks/twilio/voice?environment=staging")
    assert gone.spoken() == ["The number you have called is not in service. Goodbye."]
    assert (await phone(number).start()).spoken() == ["This is production."]


async def test_a_disabled_flow_answers_no_call_and_its_fallback_takes_them(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    closed = await make_flow(api, tenant, _saying("We are closed for training."), name="Closed")
    main, number = await deploy(_saying("Welcome to Acme."), fallback_flow_id=closed["id"])
    manager = tenant.auth("manager")

    async def enable(flow: dict[str, Any], enabled: bool) -> None:
        response = await api.patch(
            f"/api/flows/{flow['id']}", json={"enabled": enabled}, headers=manager
        )
        assert response.status_code == 200, response.text

    async def heard() -> list[str]:
        return (await phone(number).start()).spoken()

    assert await heard() == ["Welcome to Acme."]
    await enable(main, False)
    assert await heard() == ["We are closed for training."]
    await enable(closed, False)
    assert await heard() == [
        "We are sorry, we cannot take your call right now. Please try again later."
    ]
    await enable(main, True)
    assert await heard() == ["Welcome to Acme."]
