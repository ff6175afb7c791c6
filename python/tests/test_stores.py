"""The Redis and PostgreSQL idempotency stores against real servers (REDIS_URL, DATABASE_URL:
scripts/with-stores starts throwaway ones): the claim/lease/complete/abandon/retention contract,
races between threads, process_once and handle_notification with them, an unreachable server."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

import sosopay
from conftest import KEY, REPO
from sosopay.stores import (
    Claim,
    LeasedIdempotencyStore,
    PostgresIdempotencyStore,
    RedisIdempotencyStore,
    StoreUnavailableError,
    apply_schema,
    schema_sql,
)

REDIS_URL = os.environ.get("REDIS_URL")
DATABASE_URL = os.environ.get("DATABASE_URL")
PGBOUNCER_URL = os.environ.get("PGBOUNCER_URL")
REDIS_CLUSTER_URL = os.environ.get("REDIS_CLUSTER_URL")
REQUIRED = os.environ.get("SOSOPAY_REQUIRE_STORES") == "1"


def need(url: str | None, what: str) -> str:
    if not url:
        if REQUIRED:
            pytest.fail(f"{what} is not set (scripts/with-stores sets it)")
        pytest.skip(f"{what} is not set: run under scripts/with-stores")
    return url


@pytest.fixture(scope="module")
def pg_table() -> str:
    url = need(DATABASE_URL, "DATABASE_URL")
    table = f"t_{uuid.uuid4().hex[:12]}"
    apply_schema(url, table=table)
    apply_schema(url, table=table)  # idempotent
    return table


Factory = Callable[..., LeasedIdempotencyStore]


def pg_source(kind: str, url: str, closers: List[Callable[[], None]], **engine_options: Any) -> object:
    """What a PostgreSQL store is given: the URL (``"postgres"``, ``"url"``), a psycopg_pool
    ``ConnectionPool`` (``"pool"``) or an SQLAlchemy engine on psycopg (``"sqlalchemy"``); its
    closer is added to ``closers``."""
    if kind == "pool":
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(url, min_size=1, max_size=4, open=True)
        closers.append(pool.close)
        return pool
    if kind == "sqlalchemy":
        import sqlalchemy

        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), **engine_options)
        closers.append(engine.dispose)
        return engine
    return url

KINDS = ["redis", "postgres", "postgres-pool", "postgres-sqlalchemy"]


@pytest.fixture(params=KINDS)
def make(request: pytest.FixtureRequest) -> Iterator[Factory]:
    made: List[LeasedIdempotencyStore] = []
    closers: List[Callable[[], None]] = []
    kind = request.param
    if kind == "redis":
        url = need(REDIS_URL, "REDIS_URL")
        prefix = f"test:{uuid.uuid4().hex[:8]}:"

        def factory(**kw: Any) -> LeasedIdempotencyStore:
            s = RedisIdempotencyStore(url, prefix=prefix, **kw)
            made.append(s)
            return s

    else:
        url = need(DATABASE_URL, "DATABASE_URL")
        table: str = request.getfixturevalue("pg_table")
        source = pg_source(kind.removeprefix("postgres-"), url, closers)

        def factory(**kw: Any) -> LeasedIdempotencyStore:
            s = PostgresIdempotencyStore(source, table=table, **kw)
            made.append(s)
            return s

    yield factory
    for s in made:
        if isinstance(s, (RedisIdempotencyStore, PostgresIdempotencyStore)):
            s.close()
    for c in closers:
        c()


def fresh() -> str:
    return f"0010000001:T-{uuid.uuid4().hex}:1"


def test_claim_in_progress_complete_done(make: Factory) -> None:
    store = make()
    id = fresh()
    assert store.status(id) is None
    c = store.begin(id)
    assert c == "new" and isinstance(c, Claim) and c.token and c.state == "new"
    assert store.begin(id) == "in_progress"
    assert store.status(id) == "in_progress"
    store.complete(id)
    assert store.begin(id) == "done" and store.begin(id).token is None
    assert store.status(id) == "done"
    store.abandon(id, "whatever")  # a done record is never released
    assert store.begin(id) == "done"


def test_abandon_releases_only_its_own_claim(make: Factory) -> None:
    store = make()
    id = fresh()
    c = store.begin(id)
    store.abandon(id, "someone-else")
    assert store.begin(id) == "in_progress"
    store.abandon(id, c.token)
    c2 = store.begin(id)
    assert c2 == "new" and c2.token != c.token
    store.abandon(id)  # the thread's own claim, without the token
    assert store.begin(id) == "new"


def test_lease_expiry_lets_another_delivery_claim(make: Factory, caplog: pytest.LogCaptureFixture) -> None:
    store = make(lease=0.4)
    id = fresh()
    first = store.begin(id)
    assert store.begin(id) == "in_progress"
    time.sleep(0.6)
    assert store.status(id) is None  # an expired claim counts as no claim
    second = make(lease=0.4).begin(id)  # another worker
    assert second == "new" and second.token != first.token
    # The presumed-dead first worker comes back: its abandon leaves the new claim alone...
    store.abandon(id, first.token)
    assert store.begin(id) == "in_progress"
    # ...and its complete is recorded (the handler did run), with a warning.
    with caplog.at_level(logging.WARNING, logger="sosopay.stores"):
        store.complete(id, first.token)
    assert "lease" in caplog.text
    assert store.begin(id) == "done"
    store.complete(id, second.token)  # already done: no error
    assert store.status(id) == "done"
    # The worker that took over finishes first: the late worker's complete finds the record
    # done, and says so (its handler ran too).
    late_id = fresh()
    late = store.begin(late_id)
    time.sleep(0.6)
    taker = make(lease=0.4)
    taken = taker.begin(late_id)
    assert taken == "new"
    taker.complete(late_id, taken.token)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sosopay.stores"):
        store.complete(late_id, late.token)
    assert "no longer this delivery's" in caplog.text and late_id in caplog.text


def test_retention(make: Factory) -> None:
    store = make(retention=0.3)
    id = fresh()
    store.begin(id)
    store.complete(id)
    assert store.begin(id) == "done"
    time.sleep(0.5)
    purged = store.purge()
    if isinstance(store, PostgresIdempotencyStore):
        assert purged >= 1
    else:
        assert purged == 0  # Redis expires the record by itself
    assert store.status(id) is None
    assert store.begin(id) == "new"  # after the retention a replay would be processed again


def test_one_claim_among_racing_threads(make: Factory) -> None:
    stores = [make() for _ in range(4)]
    for _ in range(5):
        id = fresh()
        barrier = threading.Barrier(16)
        got: List[str] = []

        def race(i: int) -> None:
            barrier.wait()
            got.append(str(stores[i % 4].begin(id)))

        threads = [threading.Thread(target=race, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == ["in_progress"] * 15 + ["new"]


def _notification(code: str) -> sosopay.Notification:
    body = f'{{"PAY_NODIFY":{{"BUSI_ID":"0010000001","CHARGE_CODE":"{code}","STATE":1,"AMT":1}}}}'
    return sosopay.parse_notification(key=KEY, query=f"sign={sosopay.sign_body(KEY, body)}", body=body)


def test_process_once_and_handle_notification(make: Factory) -> None:
    store = make()
    n = _notification(f"P-{uuid.uuid4().hex}")
    seen: List[str] = []
    assert sosopay.process_once(store, n, lambda x: seen.append(x.idempotency_key)) is sosopay.Delivery.PROCESSED
    assert sosopay.process_once(store, n, lambda x: seen.append("again")) is sosopay.Delivery.DUPLICATE
    assert seen == [n.idempotency_key]

    n2 = _notification(f"P-{uuid.uuid4().hex}")

    def failing(_: sosopay.Notification) -> None:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        sosopay.process_once(store, n2, failing)
    assert store.status(n2.idempotency_key) is None  # released
    # While another worker holds the claim: in progress, 503.
    other = make()
    assert other.begin(n2.idempotency_key) == "new"
    assert sosopay.process_once(store, n2, lambda x: None) is sosopay.Delivery.IN_PROGRESS

    v = sosopay.NotificationVerifier(KEY)
    code = f"H-{uuid.uuid4().hex}"
    body = f'{{"PAY_NODIFY":{{"BUSI_ID":"0010000001","CHARGE_CODE":"{code}","STATE":1,"AMT":1}}}}'
    q = f"sign={sosopay.sign_body(KEY, body)}"
    r = sosopay.handle_notification(v, store, q, body, lambda x: None)
    assert (r.status, r.body, r.delivery) == (200, "SUCCESS", sosopay.Delivery.PROCESSED)
    r = sosopay.handle_notification(v, store, q, body, lambda x: None)
    assert (r.status, r.delivery) == (200, sosopay.Delivery.DUPLICATE)
    assert sosopay.handle_notification(v, store, "sign=00:1", body, lambda x: None).status == 400
    body3 = body.replace(code, code + "F")
    q3 = f"sign={sosopay.sign_body(KEY, body3)}"
    r = sosopay.handle_notification(v, store, q3, body3, failing)
    assert (r.status, r.body) == (500, "FAIL") and isinstance(r.error, RuntimeError)
    assert sosopay.handle_notification(v, store, q3, body3, lambda x: None).status == 200


def test_redis_client_of_the_app_with_decoded_responses() -> None:
    """The app's own ``redis.Redis`` (README: "or a redis.Redis"), as apps often make it, with
    ``decode_responses=True`` (replies as ``str``, not ``bytes``)."""
    import redis

    client = redis.Redis.from_url(need(REDIS_URL, "REDIS_URL"), decode_responses=True)
    try:
        store = RedisIdempotencyStore(client, prefix=f"test:{uuid.uuid4().hex[:8]}:")
        id = fresh()
        c = store.begin(id)
        assert c == "new" and store.begin(id) == "in_progress" and store.status(id) == "in_progress"
        store.complete(id)
        assert store.status(id) == "done" and store.begin(id) == "done"
        other = fresh()
        store.abandon(other, store.begin(other).token)
        assert store.status(other) is None
        store.close()  # a client given is left to its owner
        assert client.ping()
    finally:
        client.close()


def test_redis_cluster_client() -> None:
    """A ``redis.cluster.RedisCluster`` (a managed cluster-mode Redis): every record is one key,
    and the scripts name it, so the client routes each command."""
    from redis.cluster import RedisCluster

    rc = RedisCluster.from_url(need(REDIS_CLUSTER_URL, "REDIS_CLUSTER_URL"))
    try:
        store = RedisIdempotencyStore(rc, prefix=f"test:{uuid.uuid4().hex[:8]}:")
        for _ in range(5):
            id = fresh()
            c = store.begin(id)
            assert c == "new" and store.begin(id) == "in_progress"
            store.complete(id)
            assert store.status(id) == "done"
            other = fresh()
            c2 = store.begin(other)
            store.abandon(other, c2.token)
            assert store.status(other) is None
    finally:
        rc.close()


@pytest.mark.parametrize("source", ["url", "pool", "sqlalchemy"])
def test_postgres_behind_pgbouncer_in_transaction_mode(source: str, pg_table: str) -> None:
    """PgBouncer in transaction mode (scripts/with-stores runs Debian's 1.18) runs each
    transaction on any server connection: a statement psycopg had prepared on one (after five
    runs) is missing on the next, or another of that name exists. Before the store stopped
    preparing statements, 80 of 480 URL-store notifications failed so (pool 265 of 360)."""
    url = need(PGBOUNCER_URL, "PGBOUNCER_URL")
    closers: List[Callable[[], None]] = []
    src: object = url
    if source == "pool":
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(url, min_size=2, max_size=4, kwargs={"autocommit": True}, open=True)
        closers.append(pool.close)
        src = pool
    elif source == "sqlalchemy":
        import sqlalchemy

        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=4)
        closers.append(engine.dispose)
        src = engine
    stores = [PostgresIdempotencyStore(src, table=pg_table) for _ in range(3)]
    failures: List[str] = []

    def worker(store: PostgresIdempotencyStore) -> None:
        for _ in range(40):
            id = fresh()
            try:
                assert store.begin(id) == "new"
                store.complete(id)
                assert store.status(id) == "done"
            except Exception as e:  # collected: a thread's exception would be lost
                failures.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
        for c in closers:
            c()
    assert failures == [], failures[:3]


def test_a_read_only_server_is_unavailable_not_a_failure(pg_table: str) -> None:
    """A connection that reached a standby (during a failover) refuses writes with SQLSTATE
    25006: like Redis' READONLY, the server cannot serve now, so the delivery is answered 503
    and ``complete`` keeps trying while the lease lasts (on new connections), rather than 500 and
    a claim left to expire."""
    url = need(DATABASE_URL, "DATABASE_URL")
    sep = "&" if "?" in url else "?"
    store = PostgresIdempotencyStore(f"{url}{sep}options=-c%20default_transaction_read_only%3Don", table=pg_table)
    try:
        with pytest.raises(StoreUnavailableError, match="read-only transaction"):
            store.begin(fresh())
        body = f'{{"PAY_NODIFY":{{"BUSI_ID":"0010000001","CHARGE_CODE":"RO-{uuid.uuid4().hex}","STATE":1,"AMT":1}}}}'
        q = f"sign={sosopay.sign_body(KEY, body)}"
        r = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), store, q, body, lambda n: None)
        assert r.status == 503 and isinstance(r.error, StoreUnavailableError)
    finally:
        store.close()


class _FreezingProxy:
    """A TCP proxy to ``target`` that stops passing bytes when ``frozen`` is set (a frozen
    network, or PgBouncer queueing a query while PostgreSQL is down): connections stay open and
    no answer comes."""

    def __init__(self, host: str, port: int) -> None:
        import socket

        self.target = (host, port)
        self.frozen = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: Any, dst: Any) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            while self.frozen.is_set():
                time.sleep(0.05)
            try:
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("source", ["url", "pool", "sqlalchemy"])
def test_a_command_without_an_answer_is_503_after_command_timeout(source: str, pg_table: str) -> None:
    """psycopg's blocking calls wait for the server as long as it takes; the store's
    ``command_timeout`` ends a command that has no answer (its connection is shut down), so the
    delivery is answered 503 (the gateway retries) and ``complete`` gives up when the lease is
    nearly over, rather than holding a worker for as long as the network stays frozen."""
    from urllib.parse import urlsplit

    url = need(DATABASE_URL, "DATABASE_URL")
    parts = urlsplit(url)
    proxy = _FreezingProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxied = url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    closers: List[Callable[[], None]] = [proxy.close]
    # An engine's new connections wait as long as the server takes, unless told.
    src = pg_source(source, proxied, closers, connect_args={"connect_timeout": 1})
    store = PostgresIdempotencyStore(src, table=pg_table, command_timeout=0.5, lease=2, connect_timeout=1)
    try:
        id = fresh()
        assert store.begin(id) == "new"  # the connection is open and served
        proxy.frozen.set()
        started = time.monotonic()
        # The first attempt of each has no answer in 0.5 s; the next ones cannot connect (the
        # last error is the one reported).
        with pytest.raises(StoreUnavailableError):
            store.complete(id)  # keeps trying while 90 % of the 2 s lease lasts
        with pytest.raises(StoreUnavailableError):
            store.begin(fresh())
        # Bounded by the settings, not by the network (which stays frozen): a generous bound.
        assert time.monotonic() - started < 30
        body = f'{{"PAY_NODIFY":{{"BUSI_ID":"0010000001","CHARGE_CODE":"F-{uuid.uuid4().hex}","STATE":1,"AMT":1}}}}'
        q = f"sign={sosopay.sign_body(KEY, body)}"
        ran: List[int] = []
        r = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), store, q, body, lambda n: ran.append(1))
        assert (r.status, ran) == (503, []) and isinstance(r.error, StoreUnavailableError)
        # The network comes back: the store serves again, on new connections.
        proxy.frozen.clear()
        other = fresh()
        assert store.begin(other) == "new"
        store.complete(other)
        assert store.status(other) == "done"
    finally:
        proxy.frozen.clear()
        store.close()
        for c in closers:
            c()


def _proxied(url: str, closers: List[Callable[[], None]]) -> "tuple[_FreezingProxy, str]":
    """A ``_FreezingProxy`` in front of ``url``'s server, and ``url`` through it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    proxy = _FreezingProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    closers.append(proxy.close)
    closers.append(proxy.frozen.clear)
    return proxy, url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")


def _signed(prefix: str) -> "tuple[str, str]":
    body = f'{{"PAY_NODIFY":{{"BUSI_ID":"0010000001","CHARGE_CODE":"{prefix}-{uuid.uuid4().hex}","STATE":1,"AMT":1}}}}'
    return f"sign={sosopay.sign_body(KEY, body)}", body


def test_a_given_redis_client_does_not_retry_under_the_store() -> None:
    """redis-py's default ``Retry`` (redis-py 6 and later; 10 tries in 8.x) re-sends a timed-out
    command, under the store's own rule: with a ``redis.Redis`` given, a stalled Redis was
    answered 503 only after many socket timeouts (59.6 s with ``socket_timeout=5``). The store's
    commands go through a client of its own, with the given one's settings and no retries: one
    timeout, then 503. The client given keeps its settings, and serves its owner as before."""
    import redis

    closers: List[Callable[[], None]] = []
    proxy, url = _proxied(need(REDIS_URL, "REDIS_URL"), closers)
    # Retries as redis-py 6 and later make by default (whose own differ between versions).
    retry = redis.retry.Retry(redis.backoff.ConstantBackoff(0.01), 5)
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, retry=retry)
    retry_before = client.connection_pool.connection_kwargs.get("retry")
    store = RedisIdempotencyStore(client, prefix=f"test:{uuid.uuid4().hex[:8]}:")
    try:
        assert store.client is client
        id = fresh()
        assert store.begin(id) == "new"  # served while the network flows
        store.complete(id)
        proxy.frozen.set()
        q, body = _signed("R")
        ran: List[int] = []
        started = time.monotonic()
        r = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), store, q, body, lambda n: ran.append(1))
        took = time.monotonic() - started
        assert (r.status, ran) == (503, []) and isinstance(r.error, StoreUnavailableError)
        assert 0.9 < took < 1.9, f"{took:.2f} s: one 1 s timeout, not several"
        proxy.frozen.clear()
        assert store.status(id) == "done"
        assert client.connection_pool.connection_kwargs.get("retry") is retry_before
        assert client.ping()
        store.close()  # a client given is left to its owner
        assert client.ping()
    finally:
        for close in reversed(closers):
            close()
        client.close()


def test_a_complete_whose_earlier_attempt_landed_is_not_a_lost_lease(caplog: pytest.LogCaptureFixture) -> None:
    """The store's network stalls for 1.5 s right after the claim (lease 30 s): the first
    ``complete`` times out, lands when the network flows again, and the next attempt finds the
    record done. That is this claim's own completion, not another delivery's: processed once,
    answered 200, and no warning that the lease was lost (there was one, from redis-py's own
    retries, before). Calling ``complete`` twice with one token is quiet too."""
    import redis

    closers: List[Callable[[], None]] = []
    proxy, url = _proxied(need(REDIS_URL, "REDIS_URL"), closers)
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    store = RedisIdempotencyStore(client, prefix=f"test:{uuid.uuid4().hex[:8]}:")
    try:
        q, body = _signed("W")
        ran: List[int] = []

        def handler(_: sosopay.Notification) -> None:
            ran.append(1)
            proxy.frozen.set()
            threading.Timer(1.5, proxy.frozen.clear).start()

        with caplog.at_level(logging.WARNING, logger="sosopay.stores"):
            r = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), store, q, body, handler)
            assert (r.status, r.delivery, ran) == (200, "processed", [1])
            id = fresh()
            c = store.begin(id)
            store.complete(id, c.token)
            store.complete(id, c.token)
            assert store.status(id) == "done"
        assert "lease" not in caplog.text, caplog.text
    finally:
        for close in reversed(closers):
            close()
        client.close()
        store.close()


def test_a_claim_that_ran_out_unclaimed_is_reported_the_same_by_every_store(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler outlives its lease and no other delivery takes the claim over: the handler ran
    once, so no store says another delivery took it (Redis did, finding its key expired) and no
    store is silent (PostgreSQL was, its row still bearing the token): each says the handler
    outlived the lease, that no one took the claim over, and to raise the lease."""
    store = make(lease=0.4)
    id = fresh()
    c = store.begin(id)
    time.sleep(0.6)
    with caplog.at_level(logging.WARNING, logger="sosopay.stores"):
        store.complete(id, c.token)
    assert store.status(id) == "done"
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    text = caplog.text
    assert "outlived the claim's 0.4 s lease" in text and "no other delivery had taken the claim over" in text
    assert id in text and "no longer this delivery's" not in text
    # Within the lease: nothing to report.
    caplog.clear()
    other = fresh()
    with caplog.at_level(logging.WARNING, logger="sosopay.stores"):
        store.begin(other)
        store.complete(other)
    assert caplog.text == ""


def test_complete_twice_with_one_token_is_not_a_lost_lease(make: Factory, caplog: pytest.LogCaptureFixture) -> None:
    """``complete`` is idempotent per token: a second call with the claim's token finds the
    claim's own completion (Redis by the token in its done record; PostgreSQL, whose done rows
    carry none, by the store's memory of what it completed), not another delivery's."""
    store = make()
    id = fresh()
    c = store.begin(id)
    with caplog.at_level(logging.WARNING, logger="sosopay.stores"):
        store.complete(id, c.token)
        store.complete(id, c.token)
    assert store.status(id) == "done" and caplog.text == ""
    # Another delivery's claim, completed by it first: still reported.
    late = fresh()
    first = store.begin(late)
    assert first == "new" and first.token is not None
    store.complete(late)  # this thread's claim, completed without the token given
    with caplog.at_level(logging.WARNING, logger="sosopay.stores"):
        make().complete(late, "someone-else")
    assert "no longer this delivery's" in caplog.text


@pytest.mark.parametrize("source", ["pool", "sqlalchemy"])
def test_a_commit_without_an_answer_is_503_after_command_timeout(
    source: str, pg_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool's or an engine's connection runs the store's statements in a transaction, whose
    COMMIT is a command too: with the network frozen after the claim's INSERT was answered and
    before the COMMIT, the delivery waited as long as the network stayed frozen (then answered
    200). Now the COMMIT is under ``command_timeout``: 503 after it."""
    from sosopay.stores import _postgres

    closers: List[Callable[[], None]] = []
    proxy, url = _proxied(need(DATABASE_URL, "DATABASE_URL"), closers)
    src = pg_source(source, url, closers, connect_args={"connect_timeout": 1})
    store = PostgresIdempotencyStore(src, table=pg_table, command_timeout=0.5, connect_timeout=1)
    armed = threading.Event()
    execute = _postgres._Unprepared.execute

    def freezing_after_insert(self: Any, sql: str, params: Any) -> None:
        execute(self, sql, params)
        if armed.is_set() and sql.lstrip().startswith("INSERT"):
            armed.clear()
            proxy.frozen.set()
            threading.Timer(6, proxy.frozen.clear).start()  # the old wait: as long as this

    monkeypatch.setattr(_postgres._Unprepared, "execute", freezing_after_insert)
    try:
        assert store.status(fresh()) is None  # a connection open and served
        q, body = _signed("G")
        ran: List[int] = []
        armed.set()
        started = time.monotonic()
        r = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), store, q, body, lambda n: ran.append(1))
        took = time.monotonic() - started
        assert (r.status, ran) == (503, []) and isinstance(r.error, StoreUnavailableError), r
        assert took < 3, f"{took:.2f} s"
        proxy.frozen.clear()
        other = fresh()
        assert store.begin(other) == "new"  # served again, on a new connection
        store.complete(other)
        assert store.status(other) == "done"
    finally:
        store.close()
        for close in reversed(closers):
            close()


def test_a_missing_table_is_the_stores_failure_not_an_outage() -> None:
    """500 with the server's error as is (as in Node): a configuration to fix, not an outage."""
    url = need(DATABASE_URL, "DATABASE_URL")
    store = PostgresIdempotencyStore(url, table=f"missing_{uuid.uuid4().hex[:8]}")
    try:
        body = '{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"M-1","STATE":1,"AMT":1}}'
        q = f"sign={sosopay.sign_body(KEY, body)}"
        ran: List[int] = []
        r = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), store, q, body, lambda n: ran.append(1))
        assert (r.status, r.body, ran) == (500, "FAIL", [])
        assert getattr(r.error, "sqlstate", None) == "42P01"
    finally:
        store.close()


def test_unreachable_server_is_503() -> None:
    dead = f"127.0.0.1:{_closed_port()}"
    stores: List[LeasedIdempotencyStore] = [
        RedisIdempotencyStore(f"redis://{dead}/0"),
        PostgresIdempotencyStore(f"postgresql://x@{dead}/x", connect_timeout=2),
    ]
    v = sosopay.NotificationVerifier(KEY)
    body = '{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"U-1","STATE":1,"AMT":1}}'
    q = f"sign={sosopay.sign_body(KEY, body)}"
    for store in stores:
        with pytest.raises(StoreUnavailableError):
            store.begin("x")
        ran: List[int] = []
        r = sosopay.handle_notification(v, store, q, body, lambda n: ran.append(1))
        assert (r.status, r.body, ran) == (503, "BUSY", [])
        assert isinstance(r.error, StoreUnavailableError)


def test_an_sqlalchemy_engine_on_psycopg2(pg_table: str) -> None:
    """SQLAlchemy on psycopg2 (``postgresql+psycopg2://``, its long-time default driver): the
    store works, and a server it cannot reach is a 503 (psycopg2's errors were not recognised:
    a 500, and ``complete`` was not retried while the lease lasted)."""
    pytest.importorskip("psycopg2")
    import sqlalchemy

    url = need(DATABASE_URL, "DATABASE_URL").replace("postgresql://", "postgresql+psycopg2://")
    engine = sqlalchemy.create_engine(url)
    dead = sqlalchemy.create_engine(f"postgresql+psycopg2://x@127.0.0.1:{_closed_port()}/x")
    try:
        store = PostgresIdempotencyStore(engine, table=pg_table)
        id = fresh()
        assert store.begin(id) == "new" and store.begin(id) == "in_progress"
        store.complete(id)
        assert store.status(id) == "done"
        with pytest.raises(StoreUnavailableError):
            PostgresIdempotencyStore(dead, table=pg_table).begin(fresh())
    finally:
        engine.dispose()
        dead.dispose()


def _closed_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_options_are_checked() -> None:
    with pytest.raises(ValueError):
        PostgresIdempotencyStore("postgresql://x@127.0.0.1:1/x", table="x; drop table y")
    with pytest.raises(ValueError):
        RedisIdempotencyStore("redis://127.0.0.1:1/0", lease=0)
    # The core checks the durations, naming the option.
    with pytest.raises(sosopay.ValidationError, match="invalid retention: must be a finite duration above 0"):
        RedisIdempotencyStore("redis://127.0.0.1:1/0", retention=float("inf"))
    with pytest.raises(TypeError, match="lease: expected a number, got str"):
        RedisIdempotencyStore("redis://127.0.0.1:1/0", lease="30")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PostgresIdempotencyStore(42)
    assert "CREATE TABLE IF NOT EXISTS app.notes" in schema_sql("app.notes")
    # Settings that would fail every delivery are refused when the store is made.
    with pytest.raises(sosopay.ValidationError, match="under 10\\^9 s") as e:
        RedisIdempotencyStore("redis://127.0.0.1:1/0", lease=1e9)
    assert e.value.field == "lease"
    with pytest.raises(sosopay.ValidationError) as e:
        PostgresIdempotencyStore("postgresql://x@127.0.0.1:1/x", connect_timeout=float("nan"))
    assert e.value.field == "connect_timeout"
    with pytest.raises(sosopay.ValidationError) as e:
        PostgresIdempotencyStore("postgresql://x@127.0.0.1:1/x", command_timeout=0)
    assert e.value.field == "command_timeout"
    with pytest.raises(TypeError, match="^max_idle: expected an int, got str"):
        PostgresIdempotencyStore("postgresql://x@127.0.0.1:1/x", max_idle="x")  # type: ignore[arg-type]
    with pytest.raises(sosopay.ValidationError) as e:
        PostgresIdempotencyStore("postgresql://x@127.0.0.1:1/x", max_idle=-1)
    assert e.value.field == "max_idle"
    for prefix in (5, None):
        with pytest.raises(TypeError, match="^prefix: expected a str"):
            RedisIdempotencyStore("redis://127.0.0.1:1/0", prefix=prefix)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^client: expected a redis URL"):
        RedisIdempotencyStore(123)  # type: ignore[arg-type]


def test_an_asyncio_client_is_refused_not_taken_for_every_claim_new() -> None:
    """A ``redis.asyncio`` client (a FastAPI app's) returns coroutines, which are truthy: each
    ``begin`` looked "new", so every duplicate delivery ran the handler. Refused when the store
    is made, as is psycopg's ``AsyncConnectionPool`` (whose every call failed)."""
    import asyncio

    import redis.asyncio
    from psycopg_pool import AsyncConnectionPool

    async def made_in_an_app() -> None:  # as an asyncio app makes them (Python 3.9 needs a loop)
        with pytest.raises(TypeError, match="^client: a redis.asyncio client cannot serve this store"):
            RedisIdempotencyStore(redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0"))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="AsyncConnectionPool cannot serve this store"):
            PostgresIdempotencyStore(AsyncConnectionPool("postgresql://x@127.0.0.1:1/x", open=False))

    asyncio.run(made_in_an_app())

    class Awaiting:  # any other client whose commands are coroutines
        def set(self, *a: Any, **kw: Any) -> Any:
            async def reply() -> bool:
                return True

            return reply()

        def register_script(self, lua: str) -> Any:
            return None

    store = RedisIdempotencyStore(Awaiting())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returned an awaitable"):
        store.begin(fresh())


def test_drivers_are_imported_lazily() -> None:
    code = (
        "import sys, sosopay, sosopay.stores\n"
        "bad = [m for m in ('redis', 'psycopg', 'psycopg_pool', 'sqlalchemy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_timeout_is_not_retried_at_once_a_fast_failure_is() -> None:
    """A stale pooled connection fails fast: one immediate retry. A server that does not answer
    would only double the wait before the gateway hears 503 (10 s with the 5 s default, the
    sandbox's delivery timeout): no immediate retry after a timeout."""

    class Timeout(Exception):
        pass

    class Flaky(LeasedIdempotencyStore):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error, self.calls = error, 0

        def _is_unavailable(self, e: Exception) -> bool:
            return True

        def _is_timeout(self, e: Exception) -> bool:
            return isinstance(e, Timeout)

        def _reset(self) -> None:
            pass

        def _begin(self, id: str, token: str) -> str:
            self.calls += 1
            raise self.error

    for error, calls in ((Timeout("no answer"), 1), (ConnectionResetError("reset"), 2)):
        store = Flaky(error)
        with pytest.raises(StoreUnavailableError):
            store.begin("x")
        assert store.calls == calls, error


def test_defaults_are_the_cores() -> None:
    """DEFAULT_LEASE / DEFAULT_RETENTION are the core's constants (core/src/notify.rs)."""
    import math
    import re

    from sosopay.stores import DEFAULT_LEASE, DEFAULT_RETENTION

    src = (REPO / "core" / "src" / "notify.rs").read_text()

    def secs(name: str) -> int:
        m = re.search(rf"pub const {name}: Duration = Duration::from_secs\(([0-9 *]+)\);", src)
        assert m, name
        return math.prod(int(x) for x in m.group(1).split("*"))

    assert DEFAULT_LEASE == secs("DEFAULT_CLAIM_LEASE")
    assert DEFAULT_RETENTION == secs("DEFAULT_RETENTION")


def test_schema_is_the_same_file_in_both_packages() -> None:
    py = (REPO / "python" / "sosopay" / "stores" / "schema.sql").read_text()
    node = Path(REPO / "node" / "stores" / "schema.sql").read_text()
    assert py == node


def test_which_postgres_errors_count_as_unavailable_is_the_cores_rule() -> None:
    """The same SQLSTATEs as Node's store (the core's ``stores::postgres_unavailable``)."""
    import psycopg
    import psycopg.errors

    from sosopay._native import _postgres_unavailable
    from sosopay.stores._postgres import _Source

    source = _Source("postgresql://127.0.0.1:9/none", 1.0)
    for code, unavailable in [("08006", True), ("40001", True), ("53300", True), ("57P01", True),
                              ("55P03", True), ("25006", True), ("42P01", False), ("23505", False)]:
        assert source.unavailable(psycopg.errors.lookup(code)()) is unavailable, code
        assert _postgres_unavailable(code) is unavailable, code
    assert source.unavailable(psycopg.OperationalError("connection refused"))  # no SQLSTATE
    assert not source.unavailable(ValueError("not a database error"))


def test_which_redis_errors_count_as_unavailable_is_the_cores_rule() -> None:
    """The same reply codes as Node's store (the core's ``stores::redis_unavailable``)."""
    import redis.exceptions
    from redis._parsers.base import BaseParser

    from sosopay.stores import RedisIdempotencyStore

    store = RedisIdempotencyStore("redis://127.0.0.1:9/0")
    for reply, unavailable in [("LOADING Redis is loading the dataset in memory", True),
                               ("READONLY You can't write against a read only replica.", True),
                               ("BUSY Redis is busy running a script", True), ("MASTERDOWN Link with MASTER is down", True),
                               ("ERR unknown command 'X'", False), ("NOSCRIPT No matching script", False),
                               ("WRONGTYPE Operation against a key", False)]:
        error = BaseParser.parse_error(reply)  # type: ignore[no-untyped-call]
        assert store._is_unavailable(error) is unavailable, reply
    assert store._is_unavailable(redis.exceptions.ConnectionError("refused"))
    assert store._is_unavailable(redis.exceptions.TimeoutError("slow"))
    assert not store._is_unavailable(ValueError("not redis"))
    # RedisCluster's own error when no node serves a slot: the cluster is down (503), as
    # CLUSTERDOWN is; its other errors (configuration) are not.
    cluster = redis.exceptions.RedisClusterException
    assert store._is_unavailable(cluster("All slots are not covered after query all startup_nodes. 16383 of 16384 covered..."))
    assert not store._is_unavailable(cluster("Cluster mode is not enabled on this node"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")
@pytest.mark.parametrize("kind", ["redis", "postgres"])
def test_a_store_used_before_fork_serves_parent_and_child_apart(kind: str, request: pytest.FixtureRequest) -> None:
    """A store made from a URL before the worker processes are forked (gunicorn ``--preload``):
    each process talks on its own connections. Before, the PostgreSQL store's idle connections
    were shared with the child, and a fresh notification was answered "in progress" or its claim
    reported lost in about half of these rounds."""
    url = need(REDIS_URL if kind == "redis" else DATABASE_URL, "REDIS_URL" if kind == "redis" else "DATABASE_URL")
    table: str = "" if kind == "redis" else request.getfixturevalue("pg_table")

    def make() -> LeasedIdempotencyStore:
        if kind == "redis":
            return RedisIdempotencyStore(url, prefix=f"fork:{uuid.uuid4().hex[:8]}:")
        return PostgresIdempotencyStore(url, table=table)

    def steps(store: LeasedIdempotencyStore) -> List[str]:
        wrong = []
        for _ in range(25):
            id = fresh()
            claim = store.begin(id)
            store.complete(id)
            if claim != "new" or store.status(id) != "done":
                wrong.append(f"{id}: {claim}, then {store.status(id)}")
        return wrong

    failures = []
    for _ in range(8):
        store = make()
        store.status(fresh())  # a connection open (and idle) before the fork
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = 1 if steps(store) else 0
            finally:
                os._exit(status)
        mine = steps(store)
        _, status = os.waitpid(pid, 0)
        if mine or os.waitstatus_to_exitcode(status) != 0:
            failures.append((mine, os.waitstatus_to_exitcode(status)))
        assert isinstance(store, (RedisIdempotencyStore, PostgresIdempotencyStore))
        store.close()
    assert failures == []
