"""Refreshing an `oauth2` connection's access token when the vendor says it expired.

A connector whose tokens expire (Salesforce, HubSpot) calls its vendor through a
`TokenKeeper`: when an answer is the vendor's "token expired" (each connector says how to tell)
and the connection has a `refresh_token`, `client_id` and `token_url`, the keeper posts
`grant_type=refresh_token` (RFC 6749 §6, form-encoded, with the `client_secret` when there is
one) to `token_url` through the same address guard, stores the new `access_token` (and a new
`refresh_token` when the provider rotates them; `expires_at` when it says `expires_in`) with
`store.connections.update_secret`, and makes the call once more, once per step.

Before refreshing, and again when its refresh is refused, the keeper looks whether another
step stored a new token since this one read the connection, and uses that one: with
refresh-token rotation, a second refresh with the old refresh token is refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from activities.net import FetchedResponse
from activities.vendor import Vendor, secret_fragments
from schemas.connections import ResolvedConnection
from store.connections import resolve, update_secret
from store.vault import Vault

REFRESH_FIELDS = ("refresh_token", "client_id", "token_url")


def can_refresh(vendor: Vendor) -> bool:
    secret = vendor.secret
    return vendor.connection.auth == "oauth2" and all(secret.get(f) for f in REFRESH_FIELDS)


def token_error(body: Any) -> tuple[str | None, str | None]:
    """A token endpoint's refusal: OAuth's `error` and `error_description` (HubSpot says
    `status` and `message`)."""
    if not isinstance(body, dict):
        return None, None
    code = body.get("error") or body.get("status")
    message = body.get("error_description") or body.get("message")
    return (str(code) if code else None), (str(message) if message else None)


@dataclass
class TokenKeeper:
    """A step's calls to a vendor whose access token may expire during it."""

    vendor: Vendor
    """The vendor, with the connection's current token (replaced when it is refreshed)."""
    expired: Callable[[FetchedResponse], bool]
    """Whether an answer says the token expired (the vendor's 401 of that kind)."""
    refreshed: bool = False

    async def request(
        self,
        operation: str,
        *,
        method: str,
        url: str,
        headers: Callable[[Vendor], dict[str, str]],
        json_body: Any = None,
    ) -> FetchedResponse:
        """`Vendor.request`, made once more with a new token when the first token expired."""
        while True:
            response = await self.vendor.request(
                operation, method=method, url=url, headers=headers(self.vendor), json_body=json_body
            )
            if self.refreshed or not can_refresh(self.vendor) or not self.expired(response):
                return response
            self.vendor = await refreshed(self.vendor)
            self.refreshed = True


async def refreshed(vendor: Vendor) -> Vendor:
    """The vendor with a new access token: the one another step stored since this one read
    the connection, else a new one from the connection's `token_url`, stored."""
    if (newer := await _newer(vendor)) is not None:
        return newer
    secret = vendor.secret
    fields = ("refresh_token", "client_id", "client_secret")
    form = {"grant_type": "refresh_token"} | {k: secret[k] for k in fields if k in secret}
    response = await vendor.request(
        "refresh_token",
        method="POST",
        url=secret["token_url"],
        form=form,
    )
    body = response.json_or_text()
    token = body.get("access_token") if isinstance(body, dict) else None
    if response.status >= 400 or not isinstance(token, str) or not token:
        if (newer := await _newer(vendor)) is not None:
            return newer
        code, message = token_error(body)
        # `invalid_grant` (a revoked refresh token) is a 400, not retried; a 5xx is.
        raise vendor.refused("the token refresh", response, code, message)
    assert isinstance(body, dict)
    vendor.ctx.log.info(
        "vendor.token_refreshed",
        integration=vendor.connection.integration,
        connection=vendor.connection.name,
    )
    connection = await asyncio.to_thread(
        update_secret,
        vendor.ctx.engine,
        tenant_id=vendor.connection.tenant_id,
        connection_id=vendor.connection.id,
        changes=_changes(token, body),
        vault=Vault.from_settings(vendor.ctx.settings),
    )
    return _using(vendor, connection)


def _changes(token: str, body: dict[str, Any]) -> dict[str, str]:
    changes = {"access_token": token}
    if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
        changes["refresh_token"] = body["refresh_token"]  # the provider rotates them
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        expires_at = datetime.now(UTC) + timedelta(seconds=float(expires_in))
        changes["expires_at"] = expires_at.isoformat(timespec="seconds")
    return changes


async def _newer(vendor: Vendor) -> Vendor | None:
    """The vendor with the token another step stored since this one read the connection."""
    stored = await asyncio.to_thread(
        resolve,
        vendor.ctx.engine,
        tenant_id=vendor.connection.tenant_id,
        name=vendor.connection.name,
        integration=vendor.connection.integration,
        vault=Vault.from_settings(vendor.ctx.settings),
    )
    if stored.secret.get("access_token") == vendor.secret.get("access_token"):
        return None
    return _using(vendor, stored)


def _using(vendor: Vendor, connection: ResolvedConnection) -> Vendor:
    """The vendor with the connection's new secret, masking the old one's values as well."""
    fragments = {*vendor.fragments, *secret_fragments(connection.secret)}
    return dataclasses.replace(
        vendor, connection=connection, fragments=tuple(sorted(fragments, key=len, reverse=True))
    )
