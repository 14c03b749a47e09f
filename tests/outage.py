"""A database outage for the tests: PostgreSQL reached through a proxy that can go down."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from store.db import create_db_engine


class Outage:
    """A proxy in front of the database's socket that can go down: it then refuses new
    connections and cuts the ones it carries, as a server restart does."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.up = True
        self.links: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self, path: str) -> None:
        self.server = await asyncio.start_unix_server(self._serve, path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.target)
        self.links |= {writer, upstream_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def go_down(self) -> None:
        self.up = False
        for link in self.links:
            link.close()
        self.links.clear()

    async def close(self) -> None:
        self.go_down()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@contextlib.asynccontextmanager
async def database_outage(engine: Engine, directory: Path) -> AsyncIterator[tuple[Engine, Outage]]:
    """An engine on the test database that reaches it through an `Outage` proxy (PostgreSQL
    only: SQLite is a file, with no server to lose)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("an outage of a database server (SQLite has none)")
    url = engine.url
    socket_dir = str(url.query["host"])  # pgserver listens on a Unix socket in this folder
    socket_name = f".s.PGSQL.{url.port or 5432}"
    outage = Outage(f"{socket_dir}/{socket_name}")
    await outage.start(str(directory / socket_name))
    proxied = create_db_engine(
        url.update_query_dict({"host": str(directory)}).render_as_string(hide_password=False)
    )
    try:
        yield proxied, outage
    finally:
        proxied.dispose()
        await outage.close()
