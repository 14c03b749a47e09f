"""The API's Temporal client: connecting, and the link to a workflow in the Web UI."""

from __future__ import annotations

from pathlib import Path

import structlog
from starlette.datastructures import State
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, TLSConfig

from schemas import search_attributes
from schemas.settings import Settings

log = structlog.get_logger(__name__)
_INDEXED_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
}

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


async def ensure_search_attributes(client: Client) -> bool:
    """Register Flowdeck's search attributes on the client's namespace where they are missing;
    whether they are all there now (a cluster may not let this client register them)."""
    namespace = client.namespace
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        missing = {
            key.name: _INDEXED_TYPES[key.indexed_value_type]
            for key in search_attributes.KEYS
            if key.name not in listed.custom_attributes
        }
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(search_attributes=missing, namespace=namespace)
            )
            log.info("search attributes registered", names=sorted(missing))
    except RPCError as exc:
        log.warning(
            "search attributes unavailable: runs start without them",
            error=exc.message,
            names=[key.name for key in search_attributes.KEYS],
        )
        return False
    return True


async def index_executions_if_possible(state: State, client: Client) -> None:
    """Keep `FLOWDECK_SEARCH_ATTRIBUTES` on only where the attributes are registered: a start
    that names an unregistered one is refused."""
    settings: Settings = state.settings
    if settings.index_executions and not await ensure_search_attributes(client):
        state.settings = settings.model_copy(update={"index_executions": False})
