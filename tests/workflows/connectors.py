"""What the connector workflow tests share: connections made in the runner's tenant, and a
one-step flow whose vendor first answers 429 with a `Retry-After`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.execution import ExecutionResult
from schemas.settings import Settings
from store.connections import create
from store.vault import Vault
from tests.vendors import Answer, VendorServer
from tests.workflows.conftest import Runner

PATIENT = {"max_attempts": 2, "delay_s": 3600}
"""A retry an hour away: a step that still finishes at once was retried as the vendor's
`Retry-After` asked, not as this policy would have."""


def connect(
    runner: Runner,
    name: str,
    integration: str,
    auth: str,
    secret: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> None:
    """A connection in the runner's tenant, encrypted with the tests' key."""
    create(
        runner.engine,
        tenant_id=runner.tenant_id,
        name=name,
        integration=integration,
        auth=auth,
        settings=settings or {},
        secret=secret,
        vault=Vault.from_settings(Settings.model_validate({})),
    )


async def assert_a_429_is_waited_out(
    runner: Runner,
    vendor: VendorServer,
    *,
    step_type: str,
    config: dict[str, Any],
    port: str,
    method: str,
    path: str,
    then: Sequence[Answer],
) -> None:
    """The step's vendor answers 429 with `Retry-After: 1`, then `then`: the step, retried an
    hour later by its own policy (`PATIENT`), succeeds at once on its second attempt."""
    vendor.answer(method, path, Answer(status=429, headers={"Retry-After": "1"}), *then)
    flow = {
        "start": "call",
        "nodes": [
            {
                "id": "call",
                "type": step_type,
                "config": config,
                "retry": PATIENT,
                "transitions": {port: "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }
    handle = await runner.start(flow)
    result: ExecutionResult = await handle.result()

    assert result.status == "completed", result.reason
    assert len(vendor.requests(method, path)) == 1 + len(then)
    call = runner.steps(handle)[0]
    assert (call.status, call.port, call.attempt) == ("success", port, 2)
