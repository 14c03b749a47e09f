"""Recording tests: the API tests' app and tenants, real local HTTP servers serving audio, and
a recordings directory of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine

from tests.activities.conftest import Runner, _shared_http_server, http_server
from tests.api.conftest import api, make_tenant, other_tenant, settings, tenant, worker
from tests.recordings.helpers import AudioServer

__all__ = [
    "_shared_http_server",
    "api",
    "http_server",
    "make_tenant",
    "other_tenant",
    "settings",
    "tenant",
    "worker",
]


@pytest.fixture(autouse=True)
def recordings_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test stores its recordings in its own directory (`FLOWDECK_RECORDINGS_DIR`)."""
    root = tmp_path / "recordings"
    monkeypatch.setenv("FLOWDECK_RECORDINGS_DIR", str(root))
    return root


@pytest.fixture
def audio(http_server: HTTPServer) -> AudioServer:
    """A real HTTP server that serves recordings the way Twilio's media URLs do."""
    return AudioServer(http_server)


@pytest.fixture(scope="session")
def _twilio_media_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def twilio_media(_twilio_media_server: HTTPServer) -> Iterator[AudioServer]:
    """A real HTTP server standing in for https://api.twilio.com (see `twilio_runner`)."""
    _twilio_media_server.clear()
    yield AudioServer(_twilio_media_server)
    _twilio_media_server.clear()


@pytest.fixture
async def runner(engine: Engine) -> AsyncIterator[Runner]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield Runner(engine, client)


@pytest.fixture
async def twilio_runner(engine: Engine, twilio_media: AudioServer) -> AsyncIterator[Runner]:
    """Activities whose HTTP client sends requests for api.twilio.com to `twilio_media`.

    The transport changes only where a request goes: the URL the code built, its auth and
    the redirects it follows stay as they would be against Twilio.
    """
    local = httpx.URL(twilio_media.server.url_for("/"))
    inner = httpx.AsyncHTTPTransport()

    class ToLocalTwilio(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == "api.twilio.com":
                # A copy: the client keeps seeing Twilio's URL (for redirects, for example).
                request = httpx.Request(
                    request.method,
                    request.url.copy_with(scheme=local.scheme, host=local.host, port=local.port),
                    headers=request.headers,
                    stream=request.stream,
                    extensions=request.extensions,
                )
            return await inner.handle_async_request(request)

        async def aclose(self) -> None:
            await inner.aclose()

    async with httpx.AsyncClient(trust_env=False, transport=ToLocalTwilio()) as client:
        yield Runner(engine, client)
