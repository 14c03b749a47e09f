"""Testing a connection: one cheap authenticated call to its service, through the address
guard (`providers.addresses`), its answer in words with the secret masked.

PostgreSQL runs `SELECT 1`; an OpenAI-compatible API lists its models (`GET {base_url}/models`);
Slack asks `auth.test`; Stripe reads the balance. Other integrations answer `not_available`
until a test is written for them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import psycopg

from providers.addresses import AddressRefused, check_local_socket, checked_addresses
from schemas.connections import INTEGRATION_SPECS, Integration, ResolvedConnection, redact
from schemas.settings import Settings

TIMEOUT_S = 10.0

Outcome = Literal["ok", "failed", "not_available"]


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    message: str
    latency_ms: int | None = None


class CheckFailed(Exception):
    """The service refused the credentials or could not be reached; the message says which
    (it may quote the secret: `check` masks it)."""


Check = Callable[[ResolvedConnection, Settings], Awaitable[str]]
"""Makes the call; returns what succeeded in words, or raises CheckFailed."""


async def check(connection: ResolvedConnection, settings: Settings) -> CheckResult:
    """The outcome of the integration's test call with this connection."""
    found = CHECKS.get((connection.integration, connection.auth))
    if found is None:
        label = INTEGRATION_SPECS[connection.integration].label
        return CheckResult(
            "not_available",
            f"testing is not available for {label} connections ({connection.auth}) yet",
        )
    started = time.monotonic()
    try:
        message = await found(connection, settings)
        outcome: Outcome = "ok"
    except (CheckFailed, AddressRefused) as failure:
        message, outcome = str(failure), "failed"
    latency_ms = round((time.monotonic() - started) * 1000)
    return CheckResult(outcome, redact(message, connection.secret), latency_ms)


# --- PostgreSQL ---------------------------------------------------------------------------------


async def _postgresql(connection: ResolvedConnection, settings: Settings) -> str:
    url = connection.secret["url"].replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise CheckFailed("the database URL cannot be read") from None
    host = str(params.get("host") or "localhost")
    if "," in host:
        raise CheckFailed("a database URL with several hosts cannot be tested")
    port = int(params.get("port") or 5432)
    if host.startswith("/"):
        check_local_socket(settings)
        target: dict[str, Any] = {}
    else:
        # Connect to the checked address (the name still goes to TLS), never to a new lookup.
        target = {"hostaddr": str((await checked_addresses(host, port, settings))[0])}
    try:
        async with await psycopg.AsyncConnection.connect(
            url, connect_timeout=int(TIMEOUT_S), autocommit=True, **target
        ) as db:
            cursor = await db.execute("SELECT 1")
            await cursor.fetchone()
    except psycopg.Error as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise CheckFailed(f"PostgreSQL: {lines[0]}") from None
    return f"connected to {host if not host.startswith('/') else 'localhost'} and ran SELECT 1"


# --- HTTP APIs ----------------------------------------------------------------------------------


async def _get(
    url: str, settings: Settings, *, headers: dict[str, str], method: str = "GET"
) -> httpx.Response:
    """One request to a checked address of the URL's host, redirects not followed."""
    try:
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeDecodeError):
        raise CheckFailed("the service's URL is invalid") from None
    if target.scheme not in ("http", "https") or not host:
        raise CheckFailed("the service's URL must be http:// or https:// with a host")
    port = target.port or (443 if target.scheme == "https" else 80)
    address = (await checked_addresses(host, port, settings))[0]
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    headers = {**headers, "Host": target.netloc.decode("ascii")}
    async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as http:
        try:
            request = http.build_request(
                method, target.copy_with(host=str(address)), headers=headers, extensions=extensions
            )
            return await http.send(request)
        except httpx.TimeoutException:
            raise CheckFailed(f"{host} did not answer within {TIMEOUT_S:g} s") from None
        except httpx.TransportError as error:
            raise CheckFailed(f"cannot connect to {host}: {type(error).__name__}") from None


def _refused(label: str, response: httpx.Response) -> CheckFailed:
    excerpt = " ".join(response.text.split())[:200]
    return CheckFailed(f"{label} answered HTTP {response.status_code}: {excerpt}")


def _bearer(connection: ResolvedConnection) -> dict[str, str]:
    secret = connection.secret
    token = secret.get("api_key") or secret.get("token") or secret.get("access_token", "")
    return {"Authorization": f"Bearer {token}"}


async def _openai(connection: ResolvedConnection, settings: Settings) -> str:
    base = connection.settings["base_url"]
    response = await _get(f"{base}/models", settings, headers=_bearer(connection))
    if response.status_code != 200:
        raise _refused("the API", response)
    try:
        models = [m.get("id") for m in response.json().get("data", [])]
    except (ValueError, AttributeError):
        raise CheckFailed("GET /models did not answer a list of models") from None
    return f"the API lists {len(models)} model(s)"


async def _slack(connection: ResolvedConnection, settings: Settings) -> str:
    base = connection.settings["base_url"]
    response = await _get(f"{base}/auth.test", settings, headers=_bearer(connection), method="POST")
    try:
        body = response.json()
    except ValueError:
        raise _refused("Slack", response) from None
    if response.status_code != 200 or not body.get("ok"):
        raise CheckFailed(f"Slack refused the token: {body.get('error', response.status_code)}")
    return f"signed in to Slack workspace {body.get('team', '?')!r} as {body.get('user', '?')!r}"


async def _stripe(connection: ResolvedConnection, settings: Settings) -> str:
    base = connection.settings["base_url"]
    response = await _get(f"{base}/v1/balance", settings, headers=_bearer(connection))
    if response.status_code != 200:
        raise _refused("Stripe", response)
    livemode = response.json().get("livemode")
    return f"Stripe accepted the key ({'live' if livemode else 'test'} mode)"


CHECKS: dict[tuple[Integration, str], Check] = {
    ("postgresql", "database_url"): _postgresql,
    ("openai", "api_key"): _openai,
    ("openai", "bearer"): _openai,
    ("slack", "bearer"): _slack,
    ("stripe", "api_key"): _stripe,
}
"""The test of each integration and auth kind that has one."""
