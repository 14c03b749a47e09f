"""The HTTP client of HTTP steps, connectors and outgoing webhooks: aiohttp, connecting only
to addresses the address guard checked (`activities.net.guarded_request`).

aiohttp, not httpx, for these requests: on this machine a POST to a loopback sink costs httpx
1.2 to 2.5 ms of CPU and aiohttp 0.1 to 0.2 ms (`bench/README.md`), and a run of HTTP steps is
bound by the worker's CPU. The session never resolves a name itself: its resolver answers
only with the addresses `pinned` hands it for the request at hand (a context variable, so
concurrent requests each see their own), and refuses any other name. The URL keeps the host
name, so the `Host` header, the TLS server name and the certificate check use it, while the
connection goes to a checked address: a DNS answer that changes after the check (DNS
rebinding) is never used. No cookies are kept between requests (they would travel between
flows and tenants), and proxy settings in the environment are ignored (a proxy would resolve
names itself).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult

from schemas.addresses import IPAddress

NOTHING_PINNED: Mapping[str, Sequence[IPAddress]] = MappingProxyType({})
_PINNED: ContextVar[Mapping[str, Sequence[IPAddress]]] = ContextVar(
    "pinned", default=NOTHING_PINNED
)


@contextmanager
def pinned(host: str, addresses: Sequence[IPAddress]) -> Iterator[None]:
    """Within the block, a connection to `host` goes to `addresses` (checked ones) only."""
    token = _PINNED.set({**_PINNED.get(), host.lower(): tuple(addresses)})
    try:
        yield
    finally:
        _PINNED.reset(token)


class UncheckedHost(OSError):
    """A connection was asked for a name the guard did not check: refused."""


class _PinnedResolver(AbstractResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = _PINNED.get().get(host.lower())
        if not addresses:
            raise UncheckedHost(f"{host} was not checked by the address guard")
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


class Fetcher:
    """One aiohttp session per event loop, made when first used. `ssl_context` replaces the
    default trust (certifi's roots, as httpx uses): for a test's own certificate authority."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        for old in [other for other in self._sessions if other.is_closed()]:
            del self._sessions[old]
        session = self._sessions.get(loop)
        if session is None or session.closed:
            trust = self._ssl_context or ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(
                resolver=_PinnedResolver(), use_dns_cache=False, ssl=trust, limit=100
            )
            session = self._sessions[loop] = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return session

    async def aclose(self) -> None:
        """Close this loop's session (a worker shutting down)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()


SHARED = Fetcher()
"""The process's fetcher: what steps and webhooks use unless given another."""
