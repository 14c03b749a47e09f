"""Engine and sessions. The same code runs on SQLite (default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

_T = TypeVar("_T")


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for its backend: WAL and a busy timeout on SQLite, a pool on PostgreSQL."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> AbstractContextManager[object]:
    """SQLite allows one writer: queue ours in-process rather than in SQLite's busy handler.

    SQLite's busy handler sleeps in steps of up to 100 ms while another connection writes,
    which under concurrent activities costs far more than waiting on a lock of our own.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    key = str(engine.url)
    with _SQLITE_WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(key, threading.Lock())


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success, rolls back on error; one writer at a time on SQLite."""
    with _writer_lock(engine), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """`session_scope` without the ORM session, for the hottest writes (the timeline's): a
    Core connection in one transaction, committed on success, rolled back on error."""
    with _writer_lock(engine), engine.begin() as conn:
        yield conn


def is_unreachable(error: BaseException) -> bool:
    """Whether a database error means the server is out of reach (down, restarting, the
    connection dropped), as opposed to a statement it refused: worth trying again later."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError)


def released(session: Session, work: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """`work(session, …)` in this thread, then the session's transaction ended (committed; on
    an error, rolled back), so the caller holds no pooled connection while it awaits
    something else. A request that held one across a Temporal call while every worker
    thread waited for a connection wedged the API under load (the pool's timeout, then 500s).
    """
    try:
        result = work(session, *args, **kwargs)
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return result
