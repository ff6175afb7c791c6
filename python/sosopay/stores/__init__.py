"""Idempotency stores shared by many worker processes, for :func:`sosopay.process_once`.

* :class:`RedisIdempotencyStore` (``pip install 'sosopay[redis]'``)
* :class:`PostgresIdempotencyStore` (``pip install 'sosopay[postgres]'``), table created with
  :func:`apply_schema` (``schema.sql`` in this package)

Both follow one contract (``_base``): an atomic claim with a lease (``DEFAULT_LEASE``, 30 s),
``complete`` recorded durably, ``abandon`` releasing only the caller's own claim, records kept for
``DEFAULT_RETENTION`` (7 days). A delivery arriving while another worker holds a live claim gets
``"in_progress"``: answer 503 and the gateway retries. Importing this module imports neither
redis nor psycopg; a store imports its driver when it is created.
"""

from __future__ import annotations

from ._base import (
    DEFAULT_LEASE,
    DEFAULT_RETENTION,
    Claim,
    LeasedIdempotencyStore,
    StoreUnavailableError,
)
from ._postgres import DEFAULT_TABLE, PostgresIdempotencyStore, apply_schema, schema_sql
from ._redis import DEFAULT_PREFIX, RedisIdempotencyStore

__all__ = [
    "Claim",
    "DEFAULT_LEASE",
    "DEFAULT_PREFIX",
    "DEFAULT_RETENTION",
    "DEFAULT_TABLE",
    "LeasedIdempotencyStore",
    "PostgresIdempotencyStore",
    "RedisIdempotencyStore",
    "StoreUnavailableError",
    "apply_schema",
    "schema_sql",
]
