"""A call whose final status never comes (its status callback lost, or never configured on
the number) ends when its time limit passes, instead of leaving its execution waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from callsim import SimulatedCall
from schemas.call import execution_id_for_call
from tests.api.helpers import TenantKeys, wait_for_status
from tests.calls.conftest import Deploy, SaveHistory

MENU: dict[str, Any] = {
    "start": "menu",
    "nodes": [
        {
            "id": "menu",
            "type": "gather",
            "config": {"prompt": "Press 1.", "timeout_s": 5},
            "transitions": {"input": "bye"},
        },
        {"id": "bye", "type": "hangup"},
    ],
}


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return {"FLOWDECK_CALL_TIME_LIMIT_S": 1.0}


async def test_a_call_that_never_reports_its_end_is_over_at_its_time_limit(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
    save_history: SaveHistory,
) -> None:
    _, number = await deploy(MENU)
    call = phone(number)
    asked = await call.start()
    assert asked.spoken() == ["Press 1."]

    # No key, no redirect, no status callback: Twilio lost track of us, or we of it.
    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")

    assert execution["reason"] == "hangup"
    menu, hangup = execution["steps"]
    assert (menu["node_id"], menu["status"]) == ("menu", "skipped")
    assert hangup["node_type"] == "hangup"
    assert hangup["result"] == {
        "by": "time_limit",
        "call_status": "no-final-status",
        "duration_s": None,
    }
    await save_history(execution_id, "call_time_limit")
