"""Testing a connection: one cheap authenticated call to its service, through the address
guard (`providers.addresses`), its answer in words with the secret masked.

PostgreSQL runs `SELECT 1`; an OpenAI-compatible API lists its models (`GET {base_url}/models`);
Slack asks `auth.test`; Odoo logs in (`common.login`); Stripe, Shopify, HubSpot, Salesforce,
Zendesk, Jira and SendGrid answer a cheap documented GET (`PROBES`). Teams and `http`
connections answer `not_available`: nothing can be called with them that changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import psycopg

from providers.addresses import AddressRefused, check_local_socket, checked_addresses
from schemas.connections import (
    INTEGRATION_SPECS,
    Integration,
    ResolvedConnection,
    auth_headers,
    redact,
)
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
    found = _check_for(connection)
    if found is None:
        label = INTEGRATION_SPECS[connection.integration].label
        reason = NOT_TESTED.get(connection.integration, "not yet")
        return CheckResult(
            "not_available",
            f"testing is not available for {label} connections ({connection.auth}): {reason}",
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
    url: str,
    settings: Settings,
    *,
    headers: dict[str, str],
    method: str = "GET",
    json_body: Any = None,
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
                method,
                target.copy_with(host=str(address)),
                headers=headers,
                json=json_body,
                extensions=extensions,
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


@dataclass(frozen=True)
class Probe:
    """A vendor's cheap authenticated GET: its path (filled in from the settings), the
    setting holding the API's address, the header an API key or an OAuth token goes in when
    not `Authorization`, and what a 200's body must show (Zendesk answers an anonymous user
    to a request whose credentials it does not take)."""

    path: str
    url_setting: str = "base_url"
    key_header: str | None = None
    accepted: Callable[[Any], bool] = lambda _body: True


def _zendesk_user(body: Any) -> bool:
    user = body.get("user") if isinstance(body, dict) else None
    return isinstance(user, dict) and user.get("id") is not None


PROBES: dict[Integration, Probe] = {
    "stripe": Probe("/v1/balance"),
    "shopify": Probe("/admin/api/{api_version}/shop.json", key_header="X-Shopify-Access-Token"),
    "hubspot": Probe("/account-info/v3/details"),
    "salesforce": Probe("/services/data/{api_version}/limits", url_setting="instance_url"),
    "zendesk": Probe("/api/v2/users/me.json", accepted=_zendesk_user),
    "jira": Probe("/rest/api/3/myself"),
    "sendgrid": Probe("/v3/scopes"),
}
"""Each probe follows the vendor's documented REST API."""


def _probe_headers(connection: ResolvedConnection, probe: Probe) -> dict[str, str]:
    secret = connection.secret
    token = secret.get("api_key") or secret.get("access_token")
    if probe.key_header and token and connection.auth in ("api_key", "oauth2"):
        return {probe.key_header: token}
    if connection.auth == "api_key":
        return {"Authorization": f"Bearer {secret['api_key']}"}
    return auth_headers(connection)


async def _probe(connection: ResolvedConnection, settings: Settings) -> str:
    probe = PROBES[connection.integration]
    label = INTEGRATION_SPECS[connection.integration].label
    path = probe.path.format(**connection.settings)
    base = str(connection.settings[probe.url_setting]).rstrip("/")
    headers = {"Accept": "application/json", **_probe_headers(connection, probe)}
    response = await _get(base + path, settings, headers=headers)
    if response.status_code != 200:
        raise _refused(label, response)
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(f"{label} answered GET {path} with no JSON") from None
    if not probe.accepted(body):
        raise CheckFailed(f"{label} did not take the credentials (GET {path})")
    return f"{label} accepted the credentials (GET {path})"


async def _odoo(connection: ResolvedConnection, settings: Settings) -> str:
    """Odoo's external API: `common.login(database, user, password)` answers the user's id,
    or false."""
    secret = connection.secret
    database = connection.settings["database"]
    call = {"service": "common", "method": "login"}
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {**call, "args": [database, secret["username"], secret["password"]]},
        "id": 1,
    }
    url = str(connection.settings["base_url"]).rstrip("/") + "/jsonrpc"
    response = await _get(url, settings, headers={}, method="POST", json_body=body)
    try:
        answer = response.json()
    except ValueError:
        raise _refused("Odoo", response) from None
    if response.status_code != 200 or not isinstance(answer, dict) or "error" in answer:
        error = answer.get("error") if isinstance(answer, dict) else None
        reason = error.get("message") if isinstance(error, dict) else response.status_code
        raise CheckFailed(f"Odoo answered an error: {reason}")
    if not answer.get("result"):
        raise CheckFailed(f"Odoo refused the login to database {database!r}")
    return f"signed in to Odoo database {database!r} as user {answer['result']}"


NOT_TESTED: dict[Integration, str] = {
    "teams": "an incoming webhook has no call that posts nothing: a test would post a card",
    "http": "an http connection has no address of its own: the step gives the URL",
}


def _check_for(connection: ResolvedConnection) -> Check | None:
    match connection.integration:
        case "postgresql":
            return _postgresql
        case "openai":
            return _openai
        case "slack":
            return _slack if connection.auth == "bearer" else None
        case "odoo":
            return _odoo
        case integration if integration in PROBES:
            return _probe
    return None
