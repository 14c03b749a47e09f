"""Fixtures of the connector steps' tests: a local vendor server and the tenant's connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from schemas.connections import ResolvedConnection
from schemas.settings import Settings
from store.connections import create
from store.vault import Vault
from tests.activities.conftest import Seed
from tests.vendors import VendorServer, vendor_server

ALLOW_LOOPBACK: dict[str, Any] = {"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost"}


@pytest.fixture
async def vendor() -> AsyncIterator[VendorServer]:
    async with vendor_server() as server:
        yield server


def connect(
    seed: Seed,
    *,
    name: str,
    integration: str,
    auth: str,
    secret: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> ResolvedConnection:
    """A connection of the seed's tenant, made as `/api/connections` makes one."""
    return create(
        seed.engine,
        tenant_id=seed.tenant_id,
        name=name,
        integration=integration,
        auth=auth,
        settings=settings or {},
        secret=secret,
        vault=Vault.from_settings(Settings.model_validate({})),
    )
