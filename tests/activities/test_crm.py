"""The `crm_update` step against a fake-but-real Bitrix24 REST webhook server."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed

ALLOW_LOOPBACK: dict[str, Any] = {"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1"}
WEBHOOK_PATH = "/rest/1/abc123secret"
FIELDS = {"STATUS_ID": "QUALIFIED", "COMMENTS": "Qualified by flow"}


def crm_config(server: HTTPServer, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "webhook_url": f"http://127.0.0.1:{server.port}{WEBHOOK_PATH}/",
        "entity": "lead",
        "id": "42",
        "fields": FIELDS,
    }
    config.update(overrides)
    return config


async def test_update_posts_id_and_fields_to_the_entity_method(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_oneshot_request(
        f"{WEBHOOK_PATH}/crm.lead.update.json", method="POST", json={"id": "42", "fields": FIELDS}
    ).respond_with_json({"result": True, "time": {"start": 1.0, "finish": 1.1, "duration": 0.1}})

    output = await runner.perform(
        seed.action("crm_update", crm_config(http_server)), **ALLOW_LOOPBACK
    )

    http_server.check_assertions()
    assert len(http_server.log) == 1
    assert output.port == "success"
    assert output.result == {"entity": "lead", "id": "42", "updated": True}
    step = seed.step(1)
    assert step is not None and (step.status, step.port) == ("success", "success")


async def test_other_entities_use_their_own_method(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request(
        f"{WEBHOOK_PATH}/crm.deal.update.json", method="POST"
    ).respond_with_json({"result": True})

    output = await runner.perform(
        seed.action("crm_update", crm_config(http_server, entity="deal", id="9")), **ALLOW_LOOPBACK
    )

    assert output.result == {"entity": "deal", "id": "9", "updated": True}


@pytest.mark.parametrize(
    ("status", "error", "description"),
    [
        (400, "NOT_FOUND", "Not found"),
        (401, "INVALID_CREDENTIALS", "Invalid request credentials"),
        (403, "ACCESS_DENIED", "Access denied"),
    ],
)
async def test_bitrix_errors_are_not_retryable_and_carry_its_code(
    runner: Runner, seed: Seed, http_server: HTTPServer, status: int, error: str, description: str
) -> None:
    http_server.expect_request(f"{WEBHOOK_PATH}/crm.lead.update.json").respond_with_json(
        {"error": error, "error_description": description}, status=status
    )

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("crm_update", crm_config(http_server)), **ALLOW_LOOPBACK)

    assert caught.value.type == "CrmError"
    assert caught.value.non_retryable
    assert error in caught.value.message and description in caught.value.message
    assert "abc123secret" not in caught.value.message  # the webhook's token stays secret
    step = seed.step(1)
    assert step is not None and step.error is not None and error in step.error


async def test_query_limit_exceeded_is_retryable(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request(f"{WEBHOOK_PATH}/crm.lead.update.json").respond_with_json(
        {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}, status=503
    )

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("crm_update", crm_config(http_server)), **ALLOW_LOOPBACK)

    assert caught.value.type == "CrmError"
    assert not caught.value.non_retryable
    assert "QUERY_LIMIT_EXCEEDED" in caught.value.message


async def test_server_error_without_bitrix_body_is_retryable(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request(f"{WEBHOOK_PATH}/crm.lead.update.json").respond_with_data(
        "<html>Bad gateway</html>", status=502, content_type="text/html"
    )

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("crm_update", crm_config(http_server)), **ALLOW_LOOPBACK)

    assert not caught.value.non_retryable
    assert "HTTP 502" in caught.value.message


async def test_unconfirmed_update_is_a_failure(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request(f"{WEBHOOK_PATH}/crm.lead.update.json").respond_with_json(
        {"result": False}
    )

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("crm_update", crm_config(http_server)), **ALLOW_LOOPBACK)

    assert caught.value.non_retryable
    assert "did not confirm" in caught.value.message


async def test_private_webhook_host_is_refused_without_allowlist(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request(f"{WEBHOOK_PATH}/crm.lead.update.json").respond_with_json(
        {"result": True}
    )

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("crm_update", crm_config(http_server)))

    assert caught.value.type == "AddressNotAllowed"
    assert caught.value.non_retryable
    assert len(http_server.log) == 0
