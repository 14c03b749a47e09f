"""The CPU an HTTP client spends per request: httpx (as HTTP steps used it until issue 15)
against aiohttp (as `activities/fetch.py` uses it now), and the product's own
`guarded_request` (the address guard, pinned addresses, the body limit) on top of aiohttp.

A loopback aiohttp server in its own process answers each POST with a small JSON body; this
process sends N requests at each concurrency and divides the CPU time it used (user and
system, `getrusage`) by N, so the server's work is not counted.

    python -m bench.http_client --requests 3000 --concurrency 1 10 100
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from activities.fetch import Fetcher
from activities.net import guarded_request
from bench.common import free_port
from schemas.settings import Settings

BODY = {"event": "lead", "id": 42}


def _serve(port: int) -> None:
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class _Guarded:
    def __init__(self) -> None:
        self.settings = Settings.model_validate({"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1"})
        self.fetcher = Fetcher()


async def _cpu_per_request(
    one: Callable[[], Awaitable[None]], requests: int, concurrency: int
) -> tuple[float, float]:
    """Microseconds of this process's CPU per request, and requests a second."""
    for _ in range(20):
        await one()
    limit = asyncio.Semaphore(concurrency)

    async def limited() -> None:
        async with limit:
            await one()

    before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(limited() for _ in range(requests)))
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - began
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return used / requests * 1e6, requests / wall


async def _measure(url: str, requests: int, concurrency: int) -> dict[str, tuple[float, float]]:
    figures: dict[str, tuple[float, float]] = {}
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:

        async def with_httpx() -> None:
            request = client.build_request("POST", url, json=BODY, timeout=10)
            response = await client.send(request, stream=True, follow_redirects=False)
            async for _ in response.aiter_bytes():
                pass
            await response.aclose()

        figures["httpx"] = await _cpu_per_request(with_httpx, requests, concurrency)
    async with aiohttp.ClientSession() as session:

        async def with_aiohttp() -> None:
            async with session.post(url, json=BODY, allow_redirects=False) as response:
                await response.read()

        figures["aiohttp"] = await _cpu_per_request(with_aiohttp, requests, concurrency)
    guarded = _Guarded()

    async def with_guard() -> None:
        await guarded_request(guarded, method="POST", url=url, timeout_s=10, json_body=BODY)

    figures["guarded_request"] = await _cpu_per_request(with_guard, requests, concurrency)
    await guarded.fetcher.aclose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", f"from bench.http_client import _serve; _serve({port})"]
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                httpx.post(url, json=BODY, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        for concurrency in args.concurrency:
            figures = asyncio.run(_measure(url, args.requests, concurrency))
            for name, (cpu_us, rate) in figures.items():
                print(
                    f"{concurrency:>4} in flight  {name:<16} {cpu_us:7.0f} us CPU a request"
                    f"  {rate:7.0f} requests/s"
                )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
