"""The API's Temporal client: connecting, and the link to a workflow in the Web UI."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig

from schemas.settings import Settings

DEFAULT_ADDRESS = "localhost:7233"


def _pem(value: str) -> bytes:
    """A PEM given inline or as a file path."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    return Path(value).read_bytes()


def tls_config(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=_pem(settings.temporal_tls_cert),
            client_private_key=_pem(settings.temporal_tls_key),
        )
    return False


async def connect_temporal(settings: Settings, address: str | None = None) -> Client:
    """A client with the pydantic data converter, and TLS when configured."""
    return await Client.connect(
        address or settings.temporal_address or DEFAULT_ADDRESS,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
    )


def temporal_url(settings: Settings, workflow_id: str) -> str:
    """Where the execution's workflow is shown in the Temporal Web UI."""
    base = settings.temporal_ui_url.rstrip("/")
    return f"{base}/namespaces/{settings.temporal_namespace}/workflows/{workflow_id}"
