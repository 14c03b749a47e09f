"""The address guard for what the API itself reaches on a user's behalf (a connection's
test): a host is resolved once, and every address it resolves to must be public unless the
host or the address is in `FLOWDECK_HTTP_ALLOWLIST` (`schemas.addresses`), the rule of HTTP
steps. The caller then connects to a checked address, never to a fresh lookup of the name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from schemas.addresses import IPAddress, refused_addresses
from schemas.settings import Settings

RESOLVE_TIMEOUT_S = 5.0


class AddressRefused(Exception):
    """The host cannot be reached under the guard: unresolvable, or private and not allowed.
    The message says which, and how to allow it."""


async def checked_addresses(host: str, port: int, settings: Settings) -> list[IPAddress]:
    """The addresses of `host`, in resolver order, once every one of them may be reached."""
    host = host.lower().strip("[]")
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await _resolve(host, port)
    refused = refused_addresses(host, addresses, settings)
    if refused:
        raise AddressRefused(
            f"host {host} resolves to a private or reserved address ({refused[0]}); "
            "add it to FLOWDECK_HTTP_ALLOWLIST to allow it"
        )
    return addresses


LOOPBACK = ipaddress.ip_address("127.0.0.1")


def check_local_socket(settings: Settings) -> None:
    """A Unix socket is this machine: reached only where loopback may be (`localhost`, or
    a network holding 127.0.0.1, in the allow-list), as the connectors judge it."""
    if refused_addresses("localhost", [LOOPBACK], settings):
        raise AddressRefused(
            "the database is reached by a Unix socket on this machine; add localhost to "
            "FLOWDECK_HTTP_ALLOWLIST to allow it"
        )


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, TimeoutError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise AddressRefused(f"cannot resolve host {host}: {reason}") from None
    found: list[IPAddress] = []
    for info in infos:
        # An IPv6 address may carry a zone ("fe80::1%eth0"), which is not part of it.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise AddressRefused(f"host {host} has no address")
    return found
