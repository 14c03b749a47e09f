"""Outbound HTTP for HTTP and CRM steps, with the guard against reaching private networks.

A step's URL comes from a flow author, so it could point at the worker's own network (the
database, the cloud metadata service). Every address the host resolves to must be public,
unless the host or the address is in `FLOWDECK_HTTP_ALLOWLIST`. The request then connects to
an address that was checked, not to a fresh lookup of the name, so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot slip through: the session's
resolver answers with the checked addresses only (`activities.fetch`), while the URL, the
`Host` header and the TLS server name (SNI, also used to verify the certificate) keep the
original name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx
import yarl

from activities.fetch import Fetcher, pinned
from activities.step import INVALID_CONFIG, step_error
from schemas.addresses import IPAddress, refused_addresses
from schemas.execution import ActionInput
from schemas.settings import Settings

ADDRESS_NOT_ALLOWED = "AddressNotAllowed"
HTTP_STATUS_ERROR = "HttpStatusError"
HTTP_TIMEOUT = "HttpTimeout"
HTTP_CONNECTION_ERROR = "HttpConnectionError"
DNS_ERROR = "DnsError"

MAX_BODY_BYTES = 256 * 1024
RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True, kw_only=True)
class FetchedResponse:
    host: str
    status: int
    headers: dict[str, str]
    content: bytes
    truncated: bool
    charset: str | None
    content_type: str

    def is_json(self) -> bool:
        media = self.content_type.split(";", 1)[0].strip().lower()
        return media == "application/json" or media.endswith("+json")

    def text(self) -> str:
        return self.content.decode(self.charset or "utf-8", errors="replace")

    def json_or_text(self) -> Any:
        """Parsed JSON when the server says JSON and the whole body arrived, else the text."""
        if self.is_json() and not self.truncated:
            try:
                return json.loads(self.content)
            except ValueError:
                pass  # a server that lies about its content type: keep the text
        return self.text()

    def excerpt(self, limit: int = 200) -> str:
        text = " ".join(self.text().split())
        return text if len(text) <= limit else text[:limit] + "…"


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_STATUSES


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass  # a name, not an address literal
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise step_error(
            f"cannot resolve host {host}: {exc.strerror}", type=DNS_ERROR, retryable=True
        ) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # An IPv6 sockaddr may carry a zone ("fe80::1%eth0"); the zone is not part of the address.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise step_error(f"host {host} has no address", type=DNS_ERROR, retryable=True)
    return addresses


async def allowed_addresses(url: httpx.URL, settings: Settings) -> list[IPAddress]:
    """The checked addresses of the URL's host, in resolver order; refuses private ones."""
    if url.scheme not in ("http", "https"):
        raise step_error(
            f"only http and https URLs are allowed, not {url.scheme or 'a relative URL'!r}",
            type=INVALID_CONFIG,
            retryable=False,
        )
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise step_error("the URL has no host", type=INVALID_CONFIG, retryable=False)
    port = url.port or (443 if url.scheme == "https" else 80)
    return await allowed_host_addresses(host, port, settings)


async def allowed_host_addresses(host: str, port: int, settings: Settings) -> list[IPAddress]:
    """The checked addresses of `host` (any protocol's), in resolver order; refuses private
    ones unless allow-listed."""
    addresses = await _resolve(host, port)
    refused = refused_addresses(host, addresses, settings)
    if refused:
        raise step_error(
            f"host {host} resolves to a private or reserved address ({refused[0]}); "
            "add it to FLOWDECK_HTTP_ALLOWLIST to allow it",
            type=ADDRESS_NOT_ALLOWED,
            retryable=False,
        )
    return addresses


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


def _headers_of(response: aiohttp.ClientResponse) -> dict[str, str]:
    """Lower-case names; a header sent more than once has its values joined by commas."""
    merged: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def with_idempotency_key(headers: dict[str, str], header: str, data: ActionInput) -> dict[str, str]:
    """The step's headers plus its idempotency key under `header` ("": no key). A header of
    that name the step sets itself wins."""
    if not header or any(name.lower() == header.lower() for name in headers):
        return headers
    return {**headers, header: data.request_key}


class HttpContext(Protocol):
    """What a guarded request needs: a step's context, or an outgoing webhook's."""

    @property
    def settings(self) -> Settings: ...

    @property
    def fetcher(self) -> Fetcher: ...


async def guarded_request(
    ctx: HttpContext,
    *,
    method: str,
    url: str,
    timeout_s: float,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    json_body: Any = None,
    content: str | None = None,
) -> FetchedResponse:
    """Send one request to a checked address; never follows redirects (they would skip the check).

    Raises retryable errors for timeouts and connection failures; the status is the caller's.
    """
    try:
        target = httpx.URL(url)  # parsed, checked and encoded as before (`allowed_addresses`)
        if params:
            target = target.copy_merge_params(params)
    except httpx.InvalidURL as exc:
        raise step_error(f"invalid URL: {exc}", type=INVALID_CONFIG, retryable=False) from None
    addresses = await allowed_addresses(target, ctx.settings)
    host = target.raw_host.decode("ascii")
    request_url = yarl.URL(str(target), encoded=True)
    if (request_url.raw_host or "").lower() != host.lower():
        # The two parsers must agree on the host that was checked, or nothing is sent.
        raise step_error(f"invalid URL: {url!r}", type=INVALID_CONFIG, retryable=False)
    request_headers = dict(headers or {})
    given = {name.lower() for name in request_headers}
    body: bytes | None = None
    if json_body is not None:
        text = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        body = text.encode("utf-8")
        if "content-type" not in given:
            request_headers["Content-Type"] = "application/json"
    elif content is not None:
        body = content.encode("utf-8")
    # No Content-Type the step did not ask for (aiohttp would add one to a text body).
    skip = ("Content-Type",) if "content-type" not in given and body is not None else ()
    try:
        async with asyncio.timeout(timeout_s):
            with pinned(host, addresses):
                async with ctx.fetcher.session().request(
                    method,
                    request_url,
                    headers=request_headers,
                    data=body,
                    allow_redirects=False,
                    skip_auto_headers=skip,
                ) as response:
                    data, truncated = await _read_limited(response, MAX_BODY_BYTES)
                    return FetchedResponse(
                        host=host,
                        status=response.status,
                        headers=_headers_of(response),
                        content=data,
                        truncated=truncated,
                        charset=response.charset,
                        content_type=response.headers.get("content-type", ""),
                    )
    except TimeoutError:
        raise step_error(
            f"request to {host} timed out after {timeout_s:g} s", type=HTTP_TIMEOUT, retryable=True
        ) from None
    except aiohttp.InvalidURL as exc:
        raise step_error(f"invalid URL: {exc}", type=INVALID_CONFIG, retryable=False) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise step_error(
            f"cannot connect to {host}: {type(exc).__name__}: {exc}",
            type=HTTP_CONNECTION_ERROR,
            retryable=True,
        ) from None
