"""Which network addresses outgoing HTTP may reach (HTTP and CRM steps, outgoing webhooks).

Pure: the caller resolves the host; this only judges the addresses against the allow-list.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from schemas.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def refused_addresses(
    host: str, addresses: Sequence[IPAddress], settings: Settings
) -> list[IPAddress]:
    """The addresses of `host` that are private or reserved and not allow-listed
    (`FLOWDECK_HTTP_ALLOWLIST`: the host itself, or a network holding the address)."""
    allowed_hosts, allowed_networks = settings.allowlist()
    if host.lower() in allowed_hosts:
        return []
    return [
        a
        for a in addresses
        if not is_public(a) and not any(a in network for network in allowed_networks)
    ]
