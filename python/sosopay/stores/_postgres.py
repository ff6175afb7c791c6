"""PostgresIdempotencyStore: one row per notification (``schema.sql``); the claim is one
``INSERT … ON CONFLICT DO UPDATE … WHERE the lease expired RETURNING``, so exactly one of the
concurrent deliveries gets a row back. The statements are the same in the Node package.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union

from .._native import _postgres_unavailable, _store_duration, _store_wire
from ..errors import _invalid
from ._base import _BEGIN_TRIES, _WIRE, DEFAULT_LEASE, DEFAULT_RETENTION, LeasedIdempotencyStore

__all__ = ["PostgresIdempotencyStore", "apply_schema", "schema_sql", "DEFAULT_TABLE"]

DEFAULT_TABLE: str = _WIRE["default_table"]

T = TypeVar("T")

#: Connections inherited from a parent process (see ``_Source._this_process``): kept referenced,
#: so that neither this process nor the garbage collector closes them.
_INHERITED: List[Any] = []


def schema_sql(table: str = DEFAULT_TABLE) -> str:
    """The schema (``schema.sql`` in this package; the core's ``stores``), for ``table``."""
    return str(_store_wire(table)["schema"])


class _Unprepared:
    """A psycopg cursor whose statements are never prepared on the server. psycopg prepares a
    statement a connection ran five times; behind PgBouncer in transaction mode (before 1.21,
    Debian 12's 1.18, or with ``max_prepared_statements = 0``) the next transaction may run on
    another server connection, where that statement does not exist (or another of that name
    does): measured through PgBouncer 1.18, 80 of 480 notifications failed so, and a failed
    ``complete`` leaves the claim to expire and the notification to be processed again."""

    __slots__ = ("cur",)

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def execute(self, sql: str, params: Tuple[Any, ...]) -> None:
        self.cur.execute(sql, params, prepare=False)

    def fetchone(self) -> Any:
        return self.cur.fetchone()

    @property
    def rowcount(self) -> int:
        return int(self.cur.rowcount)


class _NoAnswer(Exception):
    """A command had no answer within ``command_timeout``: its connection was shut down."""


class _Deadline:
    """Ends a command that outlives ``seconds``: psycopg's blocking calls wait for the server as
    long as it takes (a frozen network, or PgBouncer queueing the query while PostgreSQL is
    down: 40–60 s measured), so a timer shuts the connection's socket down (through a duplicate
    of its descriptor), the driver's wait ends with a connection error, and the delivery is
    answered 503. The lock keeps the timer from touching a descriptor the command's caller has
    closed since (and the system may have given to another socket)."""

    def __init__(self, conn: Any, seconds: float) -> None:
        self.fd: Optional[int] = None
        try:
            self.fd = int(conn.fileno())
        except Exception:  # pragma: no cover - a connection without a socket: no deadline
            pass
        self.lock = threading.Lock()
        self.state = "running"
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.seconds = seconds

    def _fire(self) -> None:
        with self.lock:
            if self.state != "running" or self.fd is None:
                return
            self.state = "fired"
            try:
                with socket.socket(fileno=os.dup(self.fd)) as s:
                    s.shutdown(socket.SHUT_RDWR)
            except OSError:  # pragma: no cover - already closed
                pass

    def __enter__(self) -> "_Deadline":
        if self.fd is not None:
            self.timer.start()
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        self.timer.cancel()
        with self.lock:
            fired, self.state = self.state == "fired", "done"
        if fired and error is not None:
            raise _NoAnswer(f"no answer from PostgreSQL in {self.seconds:g} s (command_timeout)") from error

    @property
    def fired(self) -> bool:
        return self.state == "fired"


def _driver_connection(raw: Any) -> Any:
    """The driver's connection under an SQLAlchemy pooled one (``driver_connection`` since 1.4.24)."""
    return getattr(raw, "driver_connection", None) or getattr(raw, "dbapi_connection", None) or raw


class _Source:
    """Where connections come from: a conninfo string (one autocommit connection per thread), a
    psycopg_pool ``ConnectionPool`` or an SQLAlchemy ``Engine``."""

    def __init__(self, source: Any, connect_timeout: float, max_idle: int = 8, command_timeout: float = 5.0) -> None:
        self.source = source
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.lock = threading.Lock()
        self.idle: List[Any] = []  # autocommit connections to reuse (conninfo strings)
        self.pid = os.getpid()  # the process that opened them
        self.max_idle = max_idle
        if not (isinstance(source, str) or hasattr(source, "connection") or hasattr(source, "raw_connection")):
            raise TypeError(
                "PostgresIdempotencyStore: give a conninfo/URL string, a psycopg_pool.ConnectionPool or an SQLAlchemy Engine"
            )
        if type(source).__module__.startswith("psycopg") and type(source).__name__ in ("Connection", "AsyncConnection"):
            raise TypeError(
                "PostgresIdempotencyStore: give a conninfo/URL string or a pool, not one psycopg connection "
                "(the store's calls come from many threads)"
            )
        if type(source).__name__ in ("AsyncConnectionPool", "AsyncNullConnectionPool"):
            raise TypeError(
                "PostgresIdempotencyStore: a psycopg_pool.AsyncConnectionPool cannot serve this store, whose calls are "
                "blocking (handle_notification_async runs them on a worker thread): give a ConnectionPool or a URL"
            )
        import psycopg

        self.psycopg_error: Type[BaseException] = psycopg.Error
        #: Waits that ran out (psycopg_pool's PoolTimeout is a psycopg OperationalError).
        self.timeouts: Tuple[Type[BaseException], ...] = (psycopg.errors.ConnectionTimeout,)
        try:
            import psycopg_pool

            self.timeouts += (psycopg_pool.PoolTimeout,)
        except ImportError:  # pragma: no cover - no pool installed: none given
            pass
        self.psycopg_cursor: Type[Any] = psycopg.Cursor
        #: psycopg2's errors, for an SQLAlchemy Engine on that driver (``postgresql+psycopg2://``,
        #: SQLAlchemy's long-time default): their SQLSTATE is ``pgcode``.
        self.psycopg2_error: Optional[Type[BaseException]] = None
        if getattr(getattr(source, "dialect", None), "driver", None) == "psycopg2":
            import psycopg2  # type: ignore[import-untyped,unused-ignore]

            self.psycopg2_error = psycopg2.Error
        #: Errors that wrap the driver's (SQLAlchemy's ``DBAPIError``: the driver's is ``orig``).
        self.wrappers: Tuple[Type[BaseException], ...] = ()
        if hasattr(source, "raw_connection"):
            try:
                import sqlalchemy.exc

                self.wrappers = (sqlalchemy.exc.DBAPIError,)
            except ImportError:  # pragma: no cover - an Engine without SQLAlchemy installed
                pass

    def _driver_error(self, e: BaseException) -> BaseException:
        """The driver's error under a wrapper's (SQLAlchemy's ``DBAPIError.orig``), else ``e``."""
        if isinstance(e, self.wrappers):
            return getattr(e, "orig", None) or e
        return e

    def unavailable(self, e: BaseException) -> bool:
        """Whether ``e`` means the server could not serve now: the core's rule, by the SQLSTATE
        (none at all for a connection the driver found broken, or a pool that gave none), or a
        command that had no answer in time."""
        if isinstance(e, _NoAnswer):
            return True
        e = self._driver_error(e)
        if isinstance(e, self.psycopg_error):
            return _postgres_unavailable(getattr(e, "sqlstate", None))
        if self.psycopg2_error is not None and isinstance(e, self.psycopg2_error):
            return _postgres_unavailable(getattr(e, "pgcode", None))
        return False

    def timed_out(self, e: BaseException) -> bool:
        """Whether ``e`` is a wait that ran out: no answer to a command, no connection in time
        (psycopg's connect timeout, a pool's wait)."""
        e = self._driver_error(e)
        if isinstance(e, (_NoAnswer,) + self.timeouts):
            return True
        return "timeout expired" in str(e) and isinstance(e, self.psycopg_error)

    def _this_process(self) -> None:
        """After ``fork()`` the idle connections are the parent's: their sockets are shared with
        it, so two processes talking on one would read each other's results (a fresh
        notification answered "in progress", a claim reported lost). A child opens its own and
        never uses nor closes the inherited ones (closing would end the parent's session)."""
        if self.pid != os.getpid():
            _INHERITED.extend(self.idle)
            self.idle, self.lock, self.pid = [], threading.Lock(), os.getpid()

    def _unprepared(self, cur: Any) -> Any:
        return _Unprepared(cur) if isinstance(cur, self.psycopg_cursor) else cur

    def run(self, fn: Callable[[Any], T]) -> T:
        src = self.source
        if isinstance(src, str):
            self._this_process()
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            if conn is None or conn.closed:
                import psycopg

                conn = psycopg.connect(src, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)))
            try:
                with conn.cursor() as cur, _Deadline(conn, self.command_timeout) as deadline:
                    r = fn(self._unprepared(cur))
                if deadline.fired:  # answered as the timer shut the socket down
                    conn.close()
                    return r
            except BaseException:
                conn.close()  # it may be broken: never reuse it
                raise
            with self.lock:
                if len(self.idle) < self.max_idle:
                    self.idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()
            return r
        # A pool's or an engine's connection runs the statements in a transaction: its COMMIT
        # is a command too, under the same deadline (a COMMIT without an answer would otherwise
        # wait as long as the network stays frozen). Which statements a step commits together
        # does not matter to the contract: each is atomic by itself, as on the autocommit
        # connections made from a URL.
        if hasattr(src, "raw_connection"):  # SQLAlchemy Engine
            raw = src.raw_connection()
            try:
                with _Deadline(_driver_connection(raw), self.command_timeout) as deadline:
                    cur = raw.cursor()
                    try:
                        r = fn(self._unprepared(cur))
                    finally:
                        cur.close()
                    raw.commit()
                if deadline.fired:  # answered as the timer shut the socket down
                    raw.invalidate()
                return r
            except Exception as e:
                if self.unavailable(e):
                    try:
                        raw.invalidate()
                    except Exception:  # pragma: no cover
                        pass
                raise
            finally:
                raw.close()
        # psycopg_pool: waits for a connection no longer than for an answer.
        with src.connection(timeout=self.command_timeout) as conn:
            with _Deadline(conn, self.command_timeout) as deadline:
                with conn.cursor() as cur:
                    r = fn(self._unprepared(cur))
                conn.commit()
            if deadline.fired:  # answered as the timer shut the socket down: the pool replaces it
                conn.close()
            return r

    def reset(self) -> None:
        """Closes the idle connections (after a connection error they may all be broken)."""
        self._this_process()
        with self.lock:
            idle, self.idle = self.idle, []
        for conn in idle:
            try:
                conn.close()
            except Exception:  # pragma: no cover
                pass


class PostgresIdempotencyStore(LeasedIdempotencyStore):
    """An :class:`~sosopay.IdempotencyStore` shared by every worker process, over PostgreSQL
    (psycopg 3: ``pip install 'sosopay[postgres]'``).

    ``connection`` is a conninfo or URL (``postgresql://user@host/db``: the store keeps up to
    ``max_idle`` autocommit connections to reuse), a ``psycopg_pool.ConnectionPool``, or an
    SQLAlchemy ``Engine`` on psycopg (3) or psycopg2. Create the table first with :func:`apply_schema`. ``lease`` and
    ``retention`` are in seconds; call :meth:`purge` periodically to delete old records.
    ``connect_timeout`` bounds opening a connection of its own, ``command_timeout`` (seconds)
    each command: one without an answer by then has its connection shut down and counts as the
    server unreachable (503; ``complete`` tries again while the lease lasts).
    """

    def __init__(
        self,
        connection: Union[str, Any],
        *,
        table: str = DEFAULT_TABLE,
        lease: float = DEFAULT_LEASE,
        retention: float = DEFAULT_RETENTION,
        connect_timeout: float = 5.0,
        max_idle: int = 8,
        command_timeout: float = 5.0,
    ) -> None:
        super().__init__(lease=lease, retention=retention)
        # Checked now: a bad value would fail every delivery (and max_idle after the claim).
        connect_timeout = _store_duration("connect_timeout", connect_timeout)
        command_timeout = _store_duration("command_timeout", command_timeout)
        if isinstance(max_idle, bool) or not isinstance(max_idle, int):
            raise TypeError(f"max_idle: expected an int, got {type(max_idle).__name__}")
        if max_idle < 0:
            raise _invalid("max_idle", f"{max_idle} is negative")
        # The statements for this table, the same in the Node package (the core's `stores`);
        # an invalid table name is a ValidationError here.
        self._sql: Dict[str, str] = _store_wire(table)["statements"]
        self.table = table
        self._source = _Source(connection, connect_timeout, max_idle, command_timeout)

    def _is_unavailable(self, e: Exception) -> bool:
        return self._source.unavailable(e)

    def _is_timeout(self, e: Exception) -> bool:
        return self._source.timed_out(e)

    def _begin(self, id: str, token: str) -> str:
        def step(cur: Any) -> Optional[str]:
            cur.execute(self._sql["begin"], (id, token, self.lease))
            if cur.fetchone() is not None:
                return "new"
            cur.execute(self._sql["state"], (id,))
            row = cur.fetchone()
            if row is None:
                return None  # released in between: claim again
            return "done" if row[0] == "done" else "in_progress"

        for _ in range(_BEGIN_TRIES):
            r = self._source.run(step)
            if r is not None:
                return r
        return "in_progress"

    def _complete(self, id: str, token: Optional[str]) -> str:
        def step(cur: Any) -> str:
            if token:
                cur.execute(self._sql["held"], (id, token))
                if cur.rowcount == 1:
                    return "held"
            cur.execute(self._sql["any"], (id,))
            return "lost" if cur.rowcount == 1 else "already"

        return self._source.run(step)

    def _abandon(self, id: str, token: str) -> bool:
        def step(cur: Any) -> bool:
            cur.execute(self._sql["abandon"], (id, token))
            return bool(cur.rowcount == 1)

        return self._source.run(step)

    def _status(self, id: str) -> Optional[str]:
        def step(cur: Any) -> Optional[str]:
            cur.execute(self._sql["state"], (id,))
            row = cur.fetchone()
            if row is None:
                return None
            if row[0] == "done":
                return "done"
            return "in_progress" if row[1] else None

        return self._source.run(step)

    def _purge(self) -> int:
        def step(cur: Any) -> int:
            cur.execute(self._sql["purge"], (self.retention, self.retention))
            return int(cur.rowcount)

        return self._source.run(step)

    def _reset(self) -> None:
        self._source.reset()

    def close(self) -> None:
        """Closes the store's idle connections (a pool or engine given is left to its owner)."""
        self._source.reset()

    def __repr__(self) -> str:
        return f"PostgresIdempotencyStore(table={self.table!r}, lease={self.lease}, retention={self.retention})"


def apply_schema(connection: Any, *, table: str = DEFAULT_TABLE) -> None:
    """Creates the store's table and index if missing (``schema.sql``). ``connection``: a
    conninfo/URL, a psycopg connection (committed here), a psycopg_pool pool or an SQLAlchemy
    Engine. Run it once at deployment, not from every worker at start."""
    sql = schema_sql(table)
    if isinstance(connection, str):
        import psycopg

        with psycopg.connect(connection, autocommit=True) as conn:
            conn.execute(sql)
        return
    if hasattr(connection, "raw_connection"):
        raw = connection.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(sql)
            cur.close()
            raw.commit()
        finally:
            raw.close()
        return
    if hasattr(connection, "connection") and not hasattr(connection, "cursor"):
        with connection.connection() as conn:
            conn.execute(sql)
        return
    with connection.cursor() as cur:
        cur.execute(sql)
    connection.commit()
