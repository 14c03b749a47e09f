"""Connections as the API manages them: the store's functions with the vault, and the test
call (`providers.connection_checks`) made with the decrypted secret."""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from providers.connection_checks import CheckResult, check
from schemas.settings import Settings
from store import connections as store
from store.db import released
from store.vault import UndecryptableSecret, Vault


async def test_connection(
    session: Session, *, tenant_id: str, connection_id: str, vault: Vault, settings: Settings
) -> CheckResult:
    """One cheap authenticated call with the connection; its outcome, the secret masked."""
    # Read in a worker thread, the transaction ended: no pooled connection is held while
    # the call is under way.
    row = await run_in_threadpool(
        released, session, store.get_connection, tenant_id=tenant_id, connection_id=connection_id
    )
    try:
        connection = store.decrypted(row, vault)
    except UndecryptableSecret as exc:
        return CheckResult("failed", str(exc))
    return await check(connection, settings)
