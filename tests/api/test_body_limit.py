"""Request bodies are bounded (FLOWDECK_MAX_BODY_BYTES): a larger one is 413 in the JSON error
shape, by its Content-Length before a byte of it is read, or as a chunked body streams in."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine

from api.main import create_app
from schemas.settings import Settings
from tests.api.helpers import TenantKeys, set_flow

LIMIT = 64 * 1024
CHUNK = b" " * 1024


@pytest.fixture
async def small_api(engine: Engine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings=settings.model_copy(update={"max_body_bytes": LIMIT}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as client:
        yield client


def _too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "too_large"
    assert response.headers["connection"] == "close"


async def test_the_default_limit_refuses_a_10_mb_flow(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = {"name": "big", "definition": set_flow("x" * 10_000_000)}
    _too_large(await api.post("/api/flows", json=flow, headers=tenant.auth()))


async def test_a_body_within_the_limit_is_read(
    small_api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = {"name": "small", "definition": set_flow("x" * (LIMIT - 1000))}
    response = await small_api.post("/api/flows", json=flow, headers=tenant.auth())
    assert response.status_code == 201, response.text


async def test_a_chunked_body_is_cut_off_once_over_the_limit(
    small_api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"name": "streamed", "description": "'
        for _ in range(10 * LIMIT // len(CHUNK)):
            sent += 1
            yield CHUNK
        yield b'"}'

    response = await small_api.post(
        "/api/flows",
        content=chunks(),
        headers={**tenant.auth(), "content-type": "application/json"},
    )
    _too_large(response)
    assert "content-length" not in response.request.headers
    # Reading stopped at the limit: the rest was never asked for.
    assert sent <= LIMIT // len(CHUNK) + 2


@pytest.mark.parametrize("path", ["/api/flows", "/webhooks/twilio/voice", "/api/health"])
async def test_every_route_refuses_by_content_length(
    small_api: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    body = b"x" * (LIMIT + 1)
    _too_large(await small_api.post(path, content=body, headers=tenant.auth()))


@pytest.fixture
def served(engine: Engine, settings: Settings) -> Iterator[tuple[str, int]]:
    app = create_app(settings=settings.model_copy(update={"max_body_bytes": LIMIT}), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while thread.is_alive() and not started.wait(0.05):
        if server.started:
            started.set()
    assert server.started
    try:
        yield "127.0.0.1", server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join()


async def test_a_real_server_answers_413_before_the_body_is_sent(
    served: tuple[str, int], tenant: TenantKeys
) -> None:
    """Only the headers go out, announcing 10 MB: the answer comes without the body."""
    host, port = served
    reader, writer = await asyncio.open_connection(host, port)
    headers = (
        f"POST /api/flows HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {tenant.auth()['Authorization']}\r\n"
        "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
    )
    writer.write(headers.encode())
    await writer.drain()
    # The server closes the connection after its answer (a guard, not a timing: without the
    # limit it would wait for the body for ever).
    answer = await asyncio.wait_for(reader.read(), 60)
    writer.close()
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 413 Request Entity Too Large", answer
    assert b'"code":"too_large"' in rest
