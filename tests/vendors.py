"""A local stand-in for a vendor's API (Slack, Teams, Stripe): a real aiohttp server on
127.0.0.1 that answers what a test scripts, in the vendor's documented shapes, and keeps every
request it received so the test can check the path, the headers and the body."""

from __future__ import annotations

import json
import urllib.parse
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass(frozen=True)
class Answer:
    status: int = 200
    json: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    effect: Callable[[], object] | None = None
    """Called as the answer is given: what else happens meanwhile (another step's write)."""

    def response(self) -> web.Response:
        if self.effect is not None:
            self.effect()
        if self.json is not None:
            return web.json_response(self.json, status=self.status, headers=self.headers)
        return web.Response(
            status=self.status,
            text=self.text or "",
            headers=self.headers,
            content_type="text/plain",
        )


@dataclass
class VendorServer:
    """Answers each `(method, path)` with its scripted answers in turn; the last one stays."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    _answers: dict[tuple[str, str], deque[Answer]] = field(
        default_factory=lambda: defaultdict(deque)
    )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, method: str, path: str, *answers: Answer) -> None:
        self._answers[(method, path)].extend(answers)

    def requests(self, method: str, path: str) -> list[Received]:
        return [r for r in self.received if (r.method, r.path) == (method, path)]

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(
            Received(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.read(),
            )
        )
        queue = self._answers.get((request.method, request.path))
        if not queue:
            return web.json_response({"error": "not scripted"}, status=404)
        return (queue.popleft() if len(queue) > 1 else queue[0]).response()


@asynccontextmanager
async def vendor_server() -> AsyncIterator[VendorServer]:
    server = VendorServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
    server.port = int(sockets[0].getsockname()[1])
    try:
        yield server
    finally:
        await runner.cleanup()
