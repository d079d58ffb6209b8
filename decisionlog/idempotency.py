"""Stored answers for ``Idempotency-Key`` (the HTTP layer is api/idempotency.py).

One row per (caller, key), keyed by a hash: the key itself is not stored. A row is ``in_progress``
while the first request runs, then ``done`` with the answer (encrypted by the caller of this module)
until it expires. ``begin`` decides, in one write transaction, what a request with a key does:
run (``new``), repeat the stored answer (``replay``), or be refused (``mismatch``: same key,
different request; ``in_progress``: the first request has not finished).
"""

from __future__ import annotations

import time
from typing import Literal

from decisionlog.base import DecisionLog

Begun = Literal["new", "replay", "mismatch", "in_progress"]


def begin(store: DecisionLog, key_hash: str, fingerprint: str, ttl_s: float, stale_s: float
          ) -> tuple[Begun, int | None, bytes | None]:
    """What to do with a request carrying this key; with ``replay`` the stored status and answer.
    An ``in_progress`` row older than ``stale_s`` (its request died with its process) is taken over."""
    now = time.time()
    with store.transaction() as tx:
        lock = " FOR UPDATE" if tx.dialect.name == "postgresql" else ""  # SQLite: the write transaction is the lock
        row = tx.one("SELECT fingerprint, state, created_at, expires_at, status, answer FROM idempotency"
                     " WHERE key_hash = %s" + lock, (key_hash,))
        if row is not None and row[3] >= now:
            if row[0] != fingerprint:
                return "mismatch", None, None
            if row[1] == "done":
                return "replay", row[4], bytes(row[5])
            if row[2] >= now - stale_s:
                return "in_progress", None, None
        if row is not None:  # expired, or abandoned
            tx.execute("DELETE FROM idempotency WHERE key_hash = %s", (key_hash,))
        inserted = tx.execute(
            "INSERT INTO idempotency (key_hash, fingerprint, state, created_at, expires_at)"
            " VALUES (%s, %s, 'in_progress', %s, %s) ON CONFLICT (key_hash) DO NOTHING",
            (key_hash, fingerprint, now, now + ttl_s)).rowcount
    # nothing inserted: a concurrent first request with this key got there first
    return ("new" if inserted else "in_progress"), None, None


def finish(store: DecisionLog, key_hash: str, status: int, answer: bytes) -> None:
    with store.transaction() as tx:
        tx.execute("UPDATE idempotency SET state = 'done', status = %s, answer = %s WHERE key_hash = %s",
                   (status, answer, key_hash))


def release(store: DecisionLog, key_hash: str) -> None:
    """Forget a key whose request failed, so that a retry runs again."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM idempotency WHERE key_hash = %s AND state = 'in_progress'", (key_hash,))


def prune(store: DecisionLog) -> int:
    with store.transaction() as tx:
        return tx.execute("DELETE FROM idempotency WHERE expires_at < %s", (time.time(),)).rowcount
