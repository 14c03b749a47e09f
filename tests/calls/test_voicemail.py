"""A `record` step on a live call: the voicemail is stored under the call's campaign."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.worker import Worker

from callsim import SimulatedCall
from schemas.call import execution_id_for_call
from tests.api.helpers import TenantKeys, wait_for_status
from tests.calls.conftest import Deploy, SaveHistory

THANKS = "Thank you, we will call you back."
AUDIO = b"RIFF....WAVEfmt " + bytes(range(256)) * 8
VOICEMAIL_FLOW: dict[str, Any] = {
    "start": "closed",
    "nodes": [
        {
            "id": "closed",
            "type": "record",
            "config": {"prompt": "Please leave a message after the beep.", "max_length_s": 60},
            "transitions": {"recorded": "thanks", "no_audio": "bye"},
        },
        {"id": "thanks", "type": "say", "config": {"text": THANKS}},
        {"id": "bye", "type": "say", "config": {"text": "We did not hear anything. Goodbye."}},
    ],
}


@pytest.fixture
def extra_settings(tmp_path: Path) -> dict[str, Any]:
    return {"FLOWDECK_RECORDINGS_DIR": str(tmp_path / "recordings")}


async def _campaign(api: httpx.AsyncClient, tenant: TenantKeys, name: str) -> str:
    response = await api.post("/api/campaigns", json={"name": name}, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_voicemail_is_recorded_and_stored_under_the_calls_campaign(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
    httpserver: HTTPServer,
    tmp_path: Path,
    save_history: SaveHistory,
) -> None:
    campaign = await _campaign(api, tenant, "Spring sale")
    httpserver.expect_request("/Recordings/RE0001.wav").respond_with_data(
        AUDIO, content_type="audio/x-wav"
    )
    _, number = await deploy(VOICEMAIL_FLOW, campaign_id=campaign)
    call = phone(number)

    asked = await call.start()
    assert asked.spoken() == ["Please leave a message after the beep."]
    record = asked.first("Record")
    assert record is not None and record.attrib["maxLength"] == "60"

    done = await call.record(httpserver.url_for("/Recordings/RE0001"), 14, "RE0001")
    assert done.spoken() == ["Thank you, we will call you back."] and done.hangs_up

    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    assert execution["campaign_id"] == campaign
    listed = await api.get(
        "/api/recordings", params={"execution_id": execution_id}, headers=tenant.auth("viewer")
    )
    assert listed.status_code == 200, listed.text
    [recording] = listed.json()
    assert recording["campaign_id"] == campaign and recording["duration_s"] == 14
    audio = await api.get(f"/api/recordings/{recording['id']}/audio", headers=tenant.auth("viewer"))
    assert audio.status_code == 200 and audio.content == AUDIO
    stored = list((tmp_path / "recordings" / tenant.id / campaign).iterdir())
    assert [p.name for p in stored] == ["RE0001.wav"]
    step = next(s for s in execution["steps"] if s["node_id"] == "closed")
    assert step["port"] == "recorded" and step["result"]["recording_id"] == recording["id"]
    await save_history(execution_id, "call_voicemail")


async def test_a_caller_who_says_nothing_leaves_no_recording(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    _, number = await deploy(VOICEMAIL_FLOW)
    call = phone(number)
    await call.start()

    done = await call.record_nothing()
    assert done.spoken() == ["We did not hear anything. Goodbye."] and done.hangs_up

    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    step = next(s for s in execution["steps"] if s["node_id"] == "closed")
    assert step["port"] == "no_audio"


async def test_a_caller_who_hangs_up_to_end_the_message_still_leaves_it(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
    httpserver: HTTPServer,
    save_history: SaveHistory,
) -> None:
    """Twilio's status callback (completed) may come before the <Record>'s action."""
    httpserver.expect_request("/Recordings/RE0002.wav").respond_with_data(
        AUDIO, content_type="audio/x-wav"
    )
    _, number = await deploy(VOICEMAIL_FLOW)
    call = phone(number)
    await call.start()

    hung_up = await call.hang_up(duration_s=31)
    assert hung_up.status_code == 200
    await call.record(httpserver.url_for("/Recordings/RE0002"), 25, "RE0002")

    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    assert execution["reason"] == "hangup"
    walked = [(s["node_id"], s["node_type"], s["port"]) for s in execution["steps"]]
    assert walked[0] == ("closed", "record", "recorded")
    assert walked[-1][1] == "hangup"
    listed = await api.get(
        "/api/recordings", params={"execution_id": execution_id}, headers=tenant.auth("viewer")
    )
    [recording] = listed.json()
    assert recording["duration_s"] == 25
    await save_history(execution_id, "call_voicemail_after_hangup")


@pytest.mark.parametrize("with_error_port", [False, True])
async def test_a_recording_that_cannot_be_stored_fails_the_step_not_the_call(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
    httpserver: HTTPServer,
    with_error_port: bool,
) -> None:
    httpserver.expect_request("/Recordings/RE0003.wav").respond_with_data("no", status=403)
    flow: dict[str, Any] = json.loads(json.dumps(VOICEMAIL_FLOW))
    if with_error_port:
        flow["nodes"][0]["transitions"]["error"] = "bye"
    _, number = await deploy(flow)
    call = phone(number)
    await call.start()

    done = await call.record(httpserver.url_for("/Recordings/RE0003"), 9, "RE0003")

    expected = "We did not hear anything. Goodbye." if with_error_port else THANKS
    assert done.spoken() == [expected] and done.hangs_up
    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    step = execution["steps"][0]
    assert (step["node_id"], step["status"]) == ("closed", "failed")
    assert step["port"] == ("error" if with_error_port else "recorded")
    assert "403" in step["error"]
    assert execution["context"]["steps"]["closed"]["recording_sid"] == "RE0003"
