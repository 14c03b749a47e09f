"""A local server that answers in the shape of OpenAI's chat-completions API, for the AI steps.

`POST /v1/chat/completions` with `Authorization: Bearer <key>` and `{model, messages, ...}`
(and `GET /v1/models`, which a connection's test calls);
it answers `{id, object, created, model, choices: [{index, message, finish_reason}], usage}`
as OpenAI documents, or OpenAI's error shape `{"error": {message, type, param, code}}`. A
wrong key gets OpenAI's 401 (quoting the key whole, as a careless proxy might, so the tests
see it scrubbed). Tests queue answers (`then`) or set `answer` to decide from the request.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
MODELS = ("gpt-4o-mini", "gpt-4o")


@dataclass
class Reply:
    """One answer: the assistant's `content`, or an error (`status`, `error`), with headers."""

    content: str = "ok"
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 12
    completion_tokens: int = 5
    finish_reason: str = "stop"


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def system(self) -> str:
        return next((m["content"] for m in self.body["messages"] if m["role"] == "system"), "")

    @property
    def user(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")


def _echo(request: Received) -> Reply:
    return Reply(content=request.user)


@dataclass
class FakeChatServer:
    base_url: str = ""
    api_key: str = API_KEY
    requests: list[Received] = field(default_factory=list)
    queued: list[Reply] = field(default_factory=list)
    answer: Callable[[Received], Reply] = _echo
    """What to answer when nothing is queued (default: the user message, echoed)."""
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def then(self, *replies: Reply) -> FakeChatServer:
        self.queued.extend(replies)
        return self

    def _refusal(self, request: web.Request) -> web.Response | None:
        """OpenAI's 401 for a wrong key (quoting it whole, where OpenAI masks it)."""
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return _error(
            401,
            f"Incorrect API key provided: {given}.",
            kind="invalid_request_error",
            code="invalid_api_key",
        )

    async def models(self, request: web.Request) -> web.Response:
        """`GET /v1/models`, what a connection's test asks."""
        refused = self._refusal(request)
        if refused is not None:
            return refused
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "fake"} for name in MODELS
        ]
        return web.json_response({"object": "list", "data": data})

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(headers=dict(request.headers), body=await request.json())
        self.requests.append(received)
        refused = self._refusal(request)
        if refused is not None:
            return refused
        reply = self.queued.pop(0) if self.queued else self.answer(received)
        if reply.status != 200:
            return web.json_response(
                {"error": reply.error or {"message": "error", "type": "server_error"}},
                status=reply.status,
                headers=reply.headers,
            )
        return web.json_response(
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": 1_767_225_600,
                "model": received.body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                },
            },
            headers=reply.headers,
        )


def _error(status: int, message: str, *, kind: str, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status)


def error_reply(status: int, message: str, *, kind: str, code: str | None = None) -> Reply:
    error = {"message": message, "type": kind, "param": None, "code": code}
    return Reply(status=status, error=error)


def json_reply(value: Any, **tokens: int) -> Reply:
    return Reply(content=json.dumps(value), **tokens)


@asynccontextmanager
async def serve_fake_openai() -> AsyncIterator[FakeChatServer]:
    """A fake chat-completions API on 127.0.0.1, at `server.base_url` (ending in `/v1`)."""
    server = FakeChatServer()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.handle)
    app.router.add_get("/v1/models", server.models)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()
