"""Rate-limit counters shared by every worker process on a machine.

uvicorn's ``--workers N`` runs N processes; limits counted in each process's memory would let N
times the limit through. The counters live instead in one small SQLite file,
``<data_dir>/limits.sqlite3``, which every worker on the machine opens: the ``limits`` library's
sliding-window-counter strategy (``SlidingWindowCounterRateLimiter``) runs over it as over any
of its own storages, and each hit is one short transaction, so two workers cannot both take the
last slot. The file holds counters only (keys are ``limits``' own: the limit and the key id or
client address), is written without fsync (``synchronous=OFF``: a counter lost to a power cut
costs nothing) and waits at most ``BUSY_TIMEOUT_S`` for another worker's lock.

Replicas on other machines count separately: behind a load balancer, set the limit per replica
(or limit at the balancer). When the file cannot be used (read-only disk, locked too long), this
process counts in memory until it can, and logs a warning — limits still hold per process.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from math import ceil
from pathlib import Path

from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage
from limits.storage.base import SlidingWindowCounterSupport, TimestampedSlidingWindow
from limits.strategies import SlidingWindowCounterRateLimiter

from api.logs import log
from decisionlog.files import private_database

FILE = "limits.sqlite3"
BUSY_TIMEOUT_S = 0.05  # on the event loop: a worker waits this long at most for another's hit
SWEEP_INTERVAL_S = 60.0
WARN_INTERVAL_S = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key        TEXT PRIMARY KEY,
    value      INTEGER NOT NULL,
    expires_at REAL NOT NULL     -- unix seconds
) WITHOUT ROWID;
"""


class SQLiteCounters(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """A ``limits`` storage in a SQLite file: counters with expiry, and the sliding-window entry
    taken in one ``BEGIN IMMEDIATE`` transaction (atomic across processes)."""

    STORAGE_SCHEME = ["peercheck+sqlite"]

    def __init__(self, path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S):
        super().__init__(wrap_exceptions=True)
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._last_sweep = 0.0

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return sqlite3.Error, OSError

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            private_database(self.path)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=OFF")
                conn.executescript(SCHEMA)
            except sqlite3.Error:
                conn.close()
                raise
            self._local.conn = conn
        return conn

    def _read(self, conn: sqlite3.Connection, key: str, now: float) -> tuple[int, float]:
        row = conn.execute("SELECT value, expires_at FROM counters WHERE key = ?", (key,)).fetchone()
        if row is None or row[1] <= now:
            return 0, now
        return row[0], row[1]

    def _transaction(self, work):
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = work(conn)
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._local.conn = None
            conn.close()
            raise
        self._sweep_if_due(conn)
        return result

    def _sweep_if_due(self, conn: sqlite3.Connection) -> None:
        now = time.time()
        if now - self._last_sweep >= SWEEP_INTERVAL_S:
            self._last_sweep = now
            try:
                conn.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            except sqlite3.Error:
                pass  # expired rows read as absent anyway; the next sweep takes them

    def _add(self, conn: sqlite3.Connection, key: str, expiry: float, amount: int, now: float) -> int:
        value, expires_at = self._read(conn, key, now)
        if value == 0:
            expires_at = now + expiry
        conn.execute("INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                     (key, value + amount, expires_at))
        return value + amount

    # ------------------------------------------------------------------ limits' Storage interface

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._transaction(lambda conn: self._add(conn, key, expiry, amount, time.time()))

    def get(self, key: str) -> int:
        return self._read(self._conn(), key, time.time())[0]

    def get_expiry(self, key: str) -> float:
        return self._read(self._conn(), key, time.time())[1]

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._transaction(lambda conn: conn.execute("DELETE FROM counters").rowcount)

    def clear(self, key: str) -> None:
        self._transaction(lambda conn: conn.execute("DELETE FROM counters WHERE key = ?", (key,)))

    def _window(self, conn: sqlite3.Connection, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        # the same arithmetic as limits' MemoryStorage
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous = self._read(conn, previous_key, now)[0]
        current = self._read(conn, current_key, now)[0]
        previous_ttl = 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False

        def acquire(conn: sqlite3.Connection) -> bool:
            now = time.time()
            previous, previous_ttl, current, _ = self._window(conn, key, expiry, now)
            if int(previous * previous_ttl / expiry + current) + amount > limit:
                return False
            self._add(conn, self.sliding_window_keys(key, expiry, now)[1], 2 * expiry, amount, now)
            return True

        return self._transaction(acquire)

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        return self._window(self._conn(), key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, time.time())
        self._transaction(lambda conn: conn.execute("DELETE FROM counters WHERE key IN (?, ?)", (previous_key, current_key)))


class SharedLimiter:
    """Sliding-window-counter limits over ``SQLiteCounters`` (``path``), or over this process's
    memory when ``path`` is None or the file fails (then a warning, at most once a minute)."""

    def __init__(self, path: Path | None):
        self._local_limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._shared = SlidingWindowCounterRateLimiter(SQLiteCounters(path)) if path is not None else None
        self._warned = 0.0

    @property
    def shared(self) -> bool:
        return self._shared is not None

    def _run(self, method: str, *args):
        if self._shared is not None:
            try:
                return getattr(self._shared, method)(*args)
            except StorageError as exc:
                now = time.monotonic()
                if now - self._warned >= WARN_INTERVAL_S:
                    self._warned = now
                    log.warning("rate_limit_store_unavailable", error=str(exc.storage_error),
                                fallback="this process's memory")
        return getattr(self._local_limiter, method)(*args)

    def hit(self, item: RateLimitItem, key: str) -> bool:
        """Take one slot; False when the limit is reached."""
        return self._run("hit", item, key)

    def allows(self, item: RateLimitItem, key: str) -> bool:
        """Whether a slot is free, without taking it."""
        return self._run("test", item, key)

    def retry_after(self, item: RateLimitItem, key: str) -> int:
        """Whole seconds until a slot frees up (at least 1)."""
        reset = self._run("get_window_stats", item, key).reset_time
        return max(1, ceil(reset - time.time()))
