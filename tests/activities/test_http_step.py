"""The `http` step against a real HTTP server on loopback, and the private-address guard."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from tests.activities.conftest import Runner, Seed

ALLOW_LOOPBACK: dict[str, Any] = {"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1"}


def url(server: HTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


async def test_post_json_returns_status_headers_and_parsed_body(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request(
        "/hooks/sales",
        method="POST",
        json={"lead": "42", "name": "Asha"},
        query_string={"source": "flowdeck"},
        headers={"Authorization": "Bearer s3cret"},
    ).respond_with_json({"ok": True, "id": 7}, status=201, headers={"X-Request-Id": "abc"})
    data = seed.action(
        "http",
        {
            "method": "POST",
            "url": url(http_server, "/hooks/sales"),
            "headers": {"Authorization": "Bearer s3cret"},
            "query": {"source": "flowdeck"},
            "body": {"lead": "42", "name": "Asha"},
        },
    )

    output = await runner.perform(data, **ALLOW_LOOPBACK)

    http_server.check_assertions()
    assert output.port == "success"
    assert output.result["status"] == 201
    assert output.result["body"] == {"ok": True, "id": 7}
    assert output.result["headers"]["x-request-id"] == "abc"
    assert output.result["truncated"] is False
    step = seed.step(1)
    assert step is not None and step.status == "success" and step.port == "success"
    assert step.result is not None and step.result["body"] == {"ok": True, "id": 7}
    assert seed.event_types()[-1] == "flow.step.completed"


async def test_string_body_is_sent_as_is_and_text_comes_back_as_text(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request("/echo", method="PUT", data="plain words").respond_with_data(
        "done", content_type="text/plain"
    )
    data = seed.action(
        "http", {"method": "PUT", "url": url(http_server, "/echo"), "body": "plain words"}
    )

    output = await runner.perform(data, **ALLOW_LOOPBACK)

    http_server.check_assertions()
    assert output.result["body"] == "done"


async def test_large_text_body_is_truncated_with_a_flag(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    http_server.expect_request("/big").respond_with_data("x" * 300_000, content_type="text/plain")

    output = await runner.perform(
        seed.action("http", {"url": url(http_server, "/big")}), **ALLOW_LOOPBACK
    )

    assert output.result["truncated"] is True
    assert len(output.result["body"]) == 256 * 1024


async def test_redirects_are_not_followed(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    # Following would reach a second address that no guard checked.
    http_server.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data"}
    )

    output = await runner.perform(
        seed.action("http", {"url": url(http_server, "/moved")}), **ALLOW_LOOPBACK
    )

    assert output.port == "success"
    assert output.result["status"] == 302
    assert output.result["headers"]["location"] == "http://169.254.169.254/latest/meta-data"


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_server_errors_and_throttling_are_retryable(
    runner: Runner, seed: Seed, http_server: HTTPServer, status: int
) -> None:
    http_server.expect_request("/flaky").respond_with_data("try later", status=status)

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("http", {"url": url(http_server, "/flaky")}), **ALLOW_LOOPBACK
        )

    assert caught.value.type == "HttpStatusError"
    assert not caught.value.non_retryable
    assert f"HTTP {status}" in caught.value.message and "try later" in caught.value.message
    assert caught.value.details == ({"status": status},)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retryable(
    runner: Runner, seed: Seed, http_server: HTTPServer, status: int
) -> None:
    http_server.expect_request("/bad").respond_with_json({"error": "no such lead"}, status=status)

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("http", {"url": url(http_server, "/bad")}), **ALLOW_LOOPBACK
        )

    assert caught.value.non_retryable
    assert f"HTTP {status}" in caught.value.message and "no such lead" in caught.value.message
    step = seed.step(1)
    assert step is not None and step.status == "running" and step.error == caught.value.message


def _wait_until(done: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


async def test_slow_server_times_out_retryably(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    released = threading.Event()

    def slow(_request: Request) -> Response:
        released.wait(timeout=5)
        return Response("late")

    http_server.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("http", {"url": url(http_server, "/slow"), "timeout_s": 0.3}),
            **ALLOW_LOOPBACK,
        )

    assert time.monotonic() - started < 1.2
    assert caught.value.type == "HttpTimeout"
    assert not caught.value.non_retryable

    # Let the abandoned handler finish here, so its late log entry cannot land in a later test.
    released.set()
    await asyncio.to_thread(_wait_until, lambda: bool(http_server.log))


async def test_connection_refused_is_retryable(runner: Runner, seed: Seed) -> None:
    from tests.activities.conftest import free_port

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("http", {"url": f"http://127.0.0.1:{free_port()}/"}), **ALLOW_LOOPBACK
        )

    assert caught.value.type == "HttpConnectionError"
    assert not caught.value.non_retryable


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",  # a name that resolves to loopback
        "http://[::1]:{port}/",
        "http://10.1.2.3:{port}/",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://0.0.0.0:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
    ],
)
async def test_private_addresses_are_refused_without_an_allowlist(
    runner: Runner, seed: Seed, http_server: HTTPServer, target: str
) -> None:
    http_server.expect_request("/").respond_with_data("secret")

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("http", {"url": target.format(port=http_server.port)}))

    assert caught.value.type == "AddressNotAllowed"
    assert caught.value.non_retryable
    assert "FLOWDECK_HTTP_ALLOWLIST" in caught.value.message
    assert len(http_server.log) == 0  # nothing reached the server


@pytest.mark.parametrize("allowlist", ["127.0.0.1", "127.0.0.0/8", "10.0.0.0/8, 127.0.0.1/32"])
async def test_allowlisted_addresses_and_networks_are_reached(
    runner: Runner, seed: Seed, http_server: HTTPServer, allowlist: str
) -> None:
    http_server.expect_request("/").respond_with_data("hello")

    output = await runner.perform(
        seed.action("http", {"url": url(http_server, "/")}), FLOWDECK_HTTP_ALLOWLIST=allowlist
    )

    assert output.result["body"] == "hello"


async def test_allowlisted_host_name_keeps_its_host_header(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    # The connection goes to the checked address; the server still sees the name it was asked for.
    seen: list[str] = []

    def record_host(request: Request) -> Response:
        seen.append(request.headers["Host"])
        return Response(
            json.dumps({"host": request.headers["Host"]}), content_type="application/json"
        )

    http_server.expect_request("/who").respond_with_handler(record_host)
    target = f"http://localhost:{http_server.port}/who"

    output = await runner.perform(
        seed.action("http", {"url": target}), FLOWDECK_HTTP_ALLOWLIST="localhost"
    )

    assert seen == [f"localhost:{http_server.port}"]
    assert output.result["body"] == {"host": f"localhost:{http_server.port}"}


async def test_allowlisting_one_network_does_not_open_another(
    runner: Runner, seed: Seed, http_server: HTTPServer
) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("http", {"url": url(http_server, "/")}),
            FLOWDECK_HTTP_ALLOWLIST="10.0.0.0/8",
        )

    assert caught.value.type == "AddressNotAllowed"
    assert "127.0.0.1" in caught.value.message


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1/", "/relative"])
async def test_only_http_and_https_urls(runner: Runner, seed: Seed, target: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("http", {"url": target}), **ALLOW_LOOPBACK)

    assert caught.value.type == "InvalidConfig"
    assert caught.value.non_retryable


async def test_unresolvable_host_is_retryable(runner: Runner, seed: Seed) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("http", {"url": "http://no-such-host.invalid/"}))

    assert caught.value.type == "DnsError"
    assert not caught.value.non_retryable
