"""The guarded client's transport (`activities/fetch.py`): a connection goes only to an
address the guard checked and pinned, never to a fresh lookup of the name."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from activities.fetch import Fetcher, UncheckedHost, pinned


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[str]]]:
    """A loopback server that answers with the Host header it was sent: its port and hosts."""
    hosts: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        hosts.append(request.headers["Host"])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port, hosts
    await runner.cleanup()


async def test_a_pinned_name_connects_to_its_checked_address_and_keeps_its_name(
    server: tuple[int, list[str]],
) -> None:
    port, hosts = server
    fetcher = Fetcher()
    try:
        # `.invalid` never resolves (RFC 2606): the answer can only come from the pinned address.
        with pinned("shop.example.invalid", [ipaddress.ip_address("127.0.0.1")]):
            async with fetcher.session().get(f"http://shop.example.invalid:{port}/") as response:
                assert (response.status, await response.text()) == (200, "ok")
    finally:
        await fetcher.aclose()
    assert hosts == [f"shop.example.invalid:{port}"]


async def test_a_name_the_guard_did_not_check_is_never_looked_up(
    server: tuple[int, list[str]],
) -> None:
    port, hosts = server
    fetcher = Fetcher()
    try:
        with (
            pinned("other.example.invalid", [ipaddress.ip_address("127.0.0.1")]),
            pytest.raises(aiohttp.ClientConnectorError) as refused,
        ):
            await fetcher.session().get(f"http://localhost:{port}/")
    finally:
        await fetcher.aclose()
    assert isinstance(refused.value.os_error, UncheckedHost)
    assert hosts == []  # localhost resolves, but was not asked: nothing was sent
