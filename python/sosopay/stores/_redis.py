"""RedisIdempotencyStore: claims are ``SET key claim:TOKEN NX PX lease``; ``complete`` and
``abandon`` are Lua scripts that compare the claim token and set (or delete) in one step.

Records (the same in the Node package)::

    {prefix}{id} = "claim:<token>"   PX lease       a live claim (Redis expires it)
    {prefix}{id} = "done:<unix ms>"  PX retention   processed (Redis purges it)

(Python writes ``done:<unix ms>:<token>``, the completing claim's token after the time, so that
a ``complete`` tried again after an attempt whose answer was lost knows its own record; every
reader, Node's too, looks at the ``done:`` prefix only.)

The store makes one attempt per command: the client it makes from a URL has no retries, and a
``redis.Redis`` given is used through a client of the store's own with the same connection
settings and its retries off (redis-py's default ``Retry`` re-sends a timed-out command, up to
ten times with redis-py 8, which would answer the gateway 503 only after many timeouts and hide
from the store that its first attempt may have landed). The store's own rule (``_base``) says
when to try again.

For ``complete`` to be durable, run Redis with ``appendonly yes`` (and ``appendfsync always``
where losing the last second on a power cut matters): without persistence a Redis restart forgets
every ``done`` record and the next duplicate delivery runs the handler again.
"""

from __future__ import annotations

import functools
import importlib
import time
from typing import Any, Dict, Optional, TYPE_CHECKING, Tuple, Union

from .._native import _redis_unavailable
from ._base import _BEGIN_TRIES, _WIRE, DEFAULT_LEASE, DEFAULT_RETENTION, LeasedIdempotencyStore

if TYPE_CHECKING:
    import redis
    import redis.cluster

__all__ = ["RedisIdempotencyStore", "DEFAULT_PREFIX", "COMPLETE_LUA", "ABANDON_LUA"]

#: The key prefix of the records, unless given another.
DEFAULT_PREFIX: str = _WIRE["default_prefix"]
#: The scripts, the same in the Node package (the core's ``stores``): ``complete`` sets the
#: ``done`` record and says whether the claim was still ours (1), had run out (0) or the id was
#: already done (2); ``abandon`` deletes the claim only if it is still the caller's.
COMPLETE_LUA: str = _WIRE["complete_lua"]
ABANDON_LUA: str = _WIRE["abandon_lua"]
_CLAIM: str = _WIRE["claim_prefix"]
_DONE: str = _WIRE["done_prefix"]
#: ``COMPLETE_LUA`` as is, in one atomic step with a read of the record it replaces: answers
#: ``[COMPLETE_LUA's answer, the record before]``, which tells a claim that ran out with no one
#: taking it over (no record) from one another delivery took (another claim), and this claim's
#: own earlier completion (a ``done`` record with its token) from another's.
_COMPLETE_SEEING_LUA: str = (
    "local before = redis.call('GET', KEYS[1])\n"
    "local answer = (function()\n" + COMPLETE_LUA + "\nend)()\n"
    "return {answer, before}\n"
)


class RedisIdempotencyStore(LeasedIdempotencyStore):
    """An :class:`~sosopay.IdempotencyStore` shared by every worker process, over Redis
    (redis-py: ``pip install 'sosopay[redis]'``).

    ``client`` is a ``redis.Redis``, a ``redis.cluster.RedisCluster`` (each record is one key)
    or a URL (``redis://host:6379/0``; the store then makes a client with 5 s socket timeouts).
    ``lease`` and ``retention`` are in seconds.

    Each command is tried once by the client (the store's own rule tries again): a
    ``redis.Redis`` given lends its connection settings (set ``socket_timeout`` on it) to a
    client of the store's own, with its own connections and no retries; ``store.client`` is the
    one given. A ``RedisCluster`` is used as given: its own retries (``retry``,
    ``cluster_error_retry_attempts``) come on top of the store's, so give one with
    ``retry=Retry(NoBackoff(), 0)`` (redis-py 6 and later; ``cluster_error_retry_attempts=0``
    before) for a stalled node to be answered 503 after one timeout.
    """

    def __init__(
        self,
        client: Union[str, "redis.Redis", "redis.cluster.RedisCluster"],
        *,
        prefix: str = DEFAULT_PREFIX,
        lease: float = DEFAULT_LEASE,
        retention: float = DEFAULT_RETENTION,
    ) -> None:
        super().__init__(lease=lease, retention=retention)
        if not isinstance(prefix, str):
            raise TypeError(f"prefix: expected a str, got {type(prefix).__name__}")
        import redis
        import redis.asyncio
        import redis.exceptions

        asyncio_clients = tuple(
            c for c in (getattr(redis.asyncio, "Redis", None), getattr(redis.asyncio, "RedisCluster", None)) if c
        )
        if isinstance(client, asyncio_clients):
            # Its commands return coroutines, which are truthy: every claim would look new and
            # every duplicate delivery would run the handler.
            raise TypeError(
                "client: a redis.asyncio client cannot serve this store, whose calls are blocking "
                "(handle_notification_async runs them on a worker thread): give a redis.Redis or a URL"
            )
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        commands: Any
        self._made = isinstance(client, str)
        if isinstance(client, str):
            client = commands = redis.Redis.from_url(
                client, socket_timeout=5, socket_connect_timeout=5, retry=Retry(NoBackoff(), 0)
            )
        elif not hasattr(client, "register_script"):
            raise TypeError(
                f"client: expected a redis URL, a redis.Redis or a redis.cluster.RedisCluster, got {type(client).__name__}"
            )
        elif isinstance(client, redis.Redis):
            commands = _one_attempt(client, Retry(NoBackoff(), 0))
        else:
            commands = client
        self.client: Any = client
        #: The client the store's commands go through (``client`` itself unless given a
        #: ``redis.Redis``, whose settings it copies with retries off).
        self._commands: Any = commands
        self.prefix = prefix
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._timeouts: Tuple[type, ...] = (redis.exceptions.TimeoutError,)
        self._reply_error = redis.exceptions.ResponseError
        # RedisCluster's own error when no node serves the key's slot (the cluster is down:
        # CLUSTERDOWN in other clients), unlike its configuration errors.
        self._cluster_error: Any = getattr(redis.exceptions, "RedisClusterException", None)
        self._complete_script: Any = commands.register_script(_COMPLETE_SEEING_LUA)
        self._abandon_script: Any = commands.register_script(ABANDON_LUA)

    def _is_timeout(self, e: Exception) -> bool:
        return isinstance(e, self._timeouts)

    def _is_unavailable(self, e: Exception) -> bool:
        # The core's rule: a reply error unless its code says the server cannot serve now; the
        # client's connection errors and timeouts are the network's.
        if isinstance(e, self._errors):
            return True
        if self._cluster_error is not None and isinstance(e, self._cluster_error):
            return "slots are not covered" in str(e)
        if not isinstance(e, self._reply_error):
            return False
        # redis-py strips the reply's code from the message; 8.x gives it as `status_code`,
        # earlier versions only by the exception's class (READONLY -> ReadOnlyError).
        code = getattr(e, "status_code", None) or _reply_codes().get(type(e))
        return _redis_unavailable(f"{code} {e}" if code else str(e))

    def key(self, id: str) -> str:
        """The Redis key of ``id``'s record."""
        return self.prefix + id

    def _begin(self, id: str, token: str) -> str:
        key = self.key(id)
        for _ in range(_BEGIN_TRIES):
            claimed = self._commands.set(key, _CLAIM + token, nx=True, px=self.lease_ms)
            if hasattr(claimed, "__await__"):  # an asyncio client of another kind
                getattr(claimed, "close", lambda: None)()  # no "never awaited" warning
                raise TypeError("RedisIdempotencyStore: the client returned an awaitable; give a blocking client")
            if claimed:
                return "new"
            v = self._commands.get(key)
            if v is None:
                continue  # it expired or was released in between: try to claim again
            return "done" if _text(v).startswith(_DONE) else "in_progress"
        return "in_progress"

    def _complete(self, id: str, token: Optional[str]) -> str:
        claim = _CLAIM + token if token else ""
        done = f"{_DONE}{int(time.time() * 1000)}" + (f":{token}" if token else "")
        answer, before = self._complete_script(keys=[self.key(id)], args=[claim, done, self.retention_ms])
        r = int(answer)
        if r == 1:
            return "held"
        if not token:
            return "lost" if r == 0 else "already"
        if r == 0:
            # Recorded over no record (the claim ran out and no one took it) or another's claim.
            return "expired" if before is None else "lost"
        # Already done: by this claim's own earlier attempt (its answer lost), or another's.
        return "held" if _text(before).endswith(f":{token}") else "already"

    def _abandon(self, id: str, token: str) -> bool:
        return int(self._abandon_script(keys=[self.key(id)], args=[_CLAIM + token])) == 1

    def _status(self, id: str) -> Optional[str]:
        v = self._commands.get(self.key(id))
        if v is None:
            return None
        return "done" if _text(v).startswith(_DONE) else "in_progress"

    def _purge(self) -> int:
        return 0  # Redis expires claims after the lease and done records after the retention

    def _reset(self) -> None:
        pool = getattr(self._commands, "connection_pool", None)
        if pool is not None:
            pool.disconnect(inuse_connections=False)

    def close(self) -> None:
        """Closes the connections the store opened (a client given is left to its owner)."""
        if self._made or self._commands is not self.client:
            self._commands.close()
            self._commands.connection_pool.disconnect()

    def __repr__(self) -> str:
        return f"RedisIdempotencyStore(prefix={self.prefix!r}, lease={self.lease}, retention={self.retention})"


def _one_attempt(client: Any, retry: Any) -> Any:
    """A ``redis.Redis`` with ``client``'s connection settings (address, credentials, TLS,
    timeouts, database, decoding), its own connections, and ``retry`` (none) on them: a
    connection's retry covers its connect and handshake too, so setting it on connections of
    ``client``'s own pool while the store holds them would not be enough."""
    import redis

    pool = client.connection_pool
    kwargs = dict(pool.connection_kwargs)
    kwargs["retry"] = retry
    # redis-py < 6 made a timeout retried by this flag, and each version retries these errors.
    if "retry_on_timeout" in kwargs:
        kwargs["retry_on_timeout"] = False
    if "retry_on_error" in kwargs:
        kwargs["retry_on_error"] = []
    own = redis.ConnectionPool(
        connection_class=pool.connection_class, max_connections=getattr(pool, "max_connections", None), **kwargs
    )
    return redis.Redis(connection_pool=own)


@functools.lru_cache(maxsize=None)
def _reply_codes() -> Dict[type, str]:
    """redis-py's own table of reply codes to the exceptions it raises for them, inverted."""
    try:
        parsers = importlib.import_module("redis._parsers.base")  # redis-py 5 and later
    except ImportError:  # pragma: no cover - redis-py 4
        parsers = importlib.import_module("redis.connection")
    out: Dict[type, str] = {}
    for code, cls in getattr(parsers.BaseParser, "EXCEPTION_CLASSES", {}).items():
        if isinstance(cls, type):
            out.setdefault(cls, code)
    return out


def _text(v: Union[bytes, str]) -> str:
    return v.decode() if isinstance(v, bytes) else v
