"""The `http` step with an `http` connection: the request presents the connection's
credentials, and the secret stays out of the step's result and errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError

from schemas.settings import Settings
from store.connections import create
from store.vault import Vault
from tests.activities.conftest import Runner, Seed

ALLOW_LOOPBACK: dict[str, Any] = {"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1"}
TOKEN = "crm-token-7f3a9c2e5b8d1f4a6c0e"


def _connect(seed: Seed, name: str, auth: str, secret: dict[str, str], **settings: Any) -> None:
    create(
        seed.engine,
        tenant_id=seed.tenant_id,
        name=name,
        integration="http",
        auth=auth,
        settings=settings,
        secret=secret,
        vault=Vault.from_settings(Settings.model_validate({})),
    )


def _url(server: HTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


async def test_a_bearer_connection_is_sent_and_an_echo_of_it_is_masked(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    _connect(seed, "crm", "bearer", {"token": TOKEN})
    http_server.expect_request(
        "/leads", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_json({"id": 7, "you_sent": f"Bearer {TOKEN}"}, status=201)
    data = seed.action(
        "http",
        {
            "method": "POST",
            "url": _url(http_server, "/leads"),
            "connection": "crm",
            # The connection's header replaces the step's own of that name.
            "headers": {"authorization": "Bearer {{ vars.old }}", "X-Source": "flowdeck"},
            "body": {"name": "Asha"},
        },
    )

    output = await runner.perform(data, **ALLOW_LOOPBACK)

    http_server.check_assertions()
    assert output.port == "success"
    assert output.result["body"] == {"id": 7, "you_sent": "Bearer ••••"}
    step = seed.step(1)
    assert step is not None and TOKEN not in str(step.result)


async def test_basic_and_api_key_connections_use_their_own_headers(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    _connect(seed, "erp", "basic", {"username": "flowdeck", "password": "pa55-w0rd-long"})
    _connect(seed, "maps", "api_key", {"api_key": TOKEN}, api_key_header="X-Goog-Api-Key")
    pair = base64.b64encode(b"flowdeck:pa55-w0rd-long").decode()
    http_server.expect_request(
        "/erp", headers={"Authorization": f"Basic {pair}"}
    ).respond_with_json({"echo": f"Basic {pair}"})
    http_server.expect_request("/maps", headers={"X-Goog-Api-Key": TOKEN}).respond_with_json({})

    erp = await runner.perform(
        seed.action("http", {"url": _url(http_server, "/erp"), "connection": "erp"}),
        **ALLOW_LOOPBACK,
    )
    maps = await runner.perform(
        seed.action("http", {"url": _url(http_server, "/maps"), "connection": "maps"}, seq=2),
        **ALLOW_LOOPBACK,
    )

    http_server.check_assertions()
    assert erp.result["body"] == {"echo": "Basic ••••"}
    assert maps.port == "success"


async def test_a_refusal_quoting_the_secret_is_masked_in_the_error(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    _connect(seed, "crm", "bearer", {"token": TOKEN})
    http_server.expect_request("/leads").respond_with_data(f"token {TOKEN} is revoked", status=401)
    data = seed.action("http", {"url": _url(http_server, "/leads"), "connection": "crm"})

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(data, **ALLOW_LOOPBACK)

    assert "401" in str(raised.value) and TOKEN not in str(raised.value)
    assert raised.value.non_retryable


async def test_a_missing_connection_fails_the_step_for_good(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    data = seed.action("http", {"url": _url(http_server, "/leads"), "connection": "nowhere"})

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(data, **ALLOW_LOOPBACK)

    assert raised.value.type == "ConnectionNotFound" and raised.value.non_retryable
    assert "nowhere" in str(raised.value)
    assert len(http_server.log) == 0
