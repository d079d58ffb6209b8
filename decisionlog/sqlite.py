"""The embedded store: one SQLite file in WAL mode, via the standard library.

WAL lets readers (``GET /v1/evaluations/{id}``) run while a write is in progress. Each thread
has its own connection (sqlite3 connections must not be shared across threads); writes are
serialised by a lock in this process and by SQLite's own lock across processes, with a short
busy timeout so a locked file degrades an answer to ``recorded: false`` instead of stalling it.
``synchronous=FULL`` (default): a decision reported as recorded survives a power cut, not only a
crash; ``normal`` (a setting) survives a killed process but not a power cut, and skips the fsync
per commit.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from decisionlog.base import DecisionLog, DecisionRecord, LogUnavailable, StoredDecision, ThreadConnections
from decisionlog.decisions import insert_decisions
from decisionlog.sql import DECISION_COLUMNS_V2, SCHEMA_VERSION, SQLITE, Tx, decision_indexes, tables

BUSY_TIMEOUT_S = 2.0
SYNC_MODES = ("full", "normal")

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    decision_id     TEXT PRIMARY KEY,
    evaluated_at    TEXT NOT NULL,   -- ISO 8601, UTC, as in the decision
    logged_at       REAL NOT NULL,   -- unix seconds; retention prunes on this
    ruleset_version TEXT NOT NULL,
    profile_digest  TEXT NOT NULL,
    status          TEXT NOT NULL,
    kind            TEXT NOT NULL,   -- evaluation | batch | compare | cds
    decision        TEXT NOT NULL,   -- the decision as returned, JSON
    profile         TEXT             -- the profile, JSON; only when configured
);
CREATE INDEX IF NOT EXISTS decisions_logged_at ON decisions (logged_at);
CREATE INDEX IF NOT EXISTS decisions_profile_digest ON decisions (profile_digest);
"""


READER_CACHE_KIB = 256
WRITER_CACHE_KIB = 2048


class SQLiteLog(DecisionLog):
    name = "sqlite"
    dialect = SQLITE

    def __init__(self, path: Path, retention_days: int, prune_interval_s: float = 3600.0,
                 busy_timeout_s: float = BUSY_TIMEOUT_S, synchronous: str = "full"):
        super().__init__(retention_days, prune_interval_s)
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        if synchronous not in SYNC_MODES:
            raise ValueError(f"synchronous must be one of {SYNC_MODES}, not {synchronous!r}")
        self.synchronous = synchronous
        self._threads = ThreadConnections(_close_quietly)
        self._write_lock = threading.RLock()  # re-entered when the first connection creates the schema
        self._schema_ready = False
        self._writer_conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------ connections

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, for reads (small page cache: one per pool thread)."""
        conn = self._threads.current()
        if conn is not None:
            return conn
        return self._threads.remember(self._open(cache_kib=READER_CACHE_KIB))

    def _writer(self) -> sqlite3.Connection:
        """The one connection all writes go through (call with the write lock held): writes are
        serialised anyway, and one connection keeps one page cache however many threads write."""
        if self._writer_conn is None:
            self._writer_conn = self._open(cache_kib=WRITER_CACHE_KIB)
        return self._writer_conn

    def _drop_writer(self) -> None:
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            _close_quietly(conn)

    def _open(self, cache_kib: int) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False only so close() can run at shutdown; each connection is used by one thread.
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise LogUnavailable(f"cannot open {self.path}: {exc}") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise LogUnavailable(f"{self.path}: WAL mode not available (journal_mode={mode})")
            conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            conn.execute(f"PRAGMA cache_size=-{cache_kib}")
            if not self._schema_ready:
                with self._write_lock:
                    _migrate(conn)
                self._schema_ready = True
        except sqlite3.Error as exc:
            conn.close()
            raise LogUnavailable(f"cannot use {self.path}: {exc}") from exc
        except LogUnavailable:
            conn.close()
            raise
        return conn

    # ------------------------------------------------------------ the interface

    def start(self) -> None:
        with self._write_lock:
            self._writer()
        self._last_prune = time.monotonic()
        self.prune()

    def append(self, records: Sequence[DecisionRecord]) -> None:
        if not records:
            return
        with self.transaction() as tx:
            insert_decisions(tx, records)
        self.prune_if_due()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        if not write:
            conn = self._connection()
            try:
                conn.execute("BEGIN")
                yield Tx(conn.cursor(), SQLITE)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                self._threads.drop()
                raise LogUnavailable(f"cannot read {self.path}: {exc}") from exc
            except BaseException:
                _rollback(conn)
                raise
            return
        with self._write_lock:
            conn = self._writer()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield Tx(conn.cursor(), SQLITE)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                self._drop_writer()
                raise LogUnavailable(f"cannot write {self.path}: {exc}") from exc
            except BaseException:
                _rollback(conn)
                raise

    def get(self, decision_id: str) -> StoredDecision | None:
        conn = self._connection()
        try:
            row = conn.execute(
                "SELECT decision_id, kind, logged_at, decision, profile, external_id, labels, job_id FROM decisions"
                " WHERE decision_id = ?",
                (decision_id,),
            ).fetchone()
        except sqlite3.Error as exc:
            self._threads.drop()
            raise LogUnavailable(f"cannot read {self.path}: {exc}") from exc
        if row is None:
            return None
        cutoff = self.cutoff()
        if cutoff is not None and row[2] < cutoff:
            return None  # expired, not yet pruned
        return StoredDecision(
            decision_id=row[0], kind=row[1], logged_at=datetime.fromtimestamp(row[2], timezone.utc),
            decision=json.loads(row[3]), profile=json.loads(row[4]) if row[4] is not None else None,
            external_id=row[5], labels=json.loads(row[6]) if row[6] is not None else None, job_id=row[7],
        )

    def prune(self) -> int:
        cutoff = self.cutoff()
        if cutoff is None:
            with self._write_lock:
                try:
                    _prune_expiring(self._writer(), time.time())
                except sqlite3.Error as exc:
                    self._drop_writer()
                    raise LogUnavailable(f"cannot prune {self.path}: {exc}") from exc
            return 0
        with self._write_lock:
            conn = self._writer()
            try:
                removed = conn.execute("DELETE FROM decisions WHERE logged_at < ?", (cutoff,)).rowcount
                conn.execute("DELETE FROM cds_cards WHERE logged_at < ?", (cutoff,))
                conn.execute("DELETE FROM cds_feedback WHERE received_at < ?", (cutoff,))
                conn.execute("DELETE FROM batch_job_items WHERE job_id IN"
                             " (SELECT job_id FROM batch_jobs WHERE finished_at < ?)", (cutoff,))
                conn.execute("DELETE FROM batch_jobs WHERE finished_at < ?", (cutoff,))
                _prune_expiring(conn, time.time())
                return removed
            except sqlite3.Error as exc:
                self._drop_writer()
                raise LogUnavailable(f"cannot prune {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._write_lock:
            self._drop_writer()
        self._threads.close_all()


def _prune_expiring(conn: sqlite3.Connection, now: float) -> None:
    """Rows that expire by their own clock whatever the retention: idempotent answers, seen tokens."""
    conn.execute("DELETE FROM idempotency WHERE expires_at < ?", (now,))
    conn.execute("DELETE FROM cds_tokens WHERE expires_at < ?", (now,))


def _migrate(conn: sqlite3.Connection) -> None:
    """Create the tables, or bring an older file up to ``SCHEMA_VERSION`` (columns are only added)."""
    conn.executescript(SCHEMA)
    have = {row[1] for row in conn.execute("PRAGMA table_info(decisions)")}
    for column, kind in DECISION_COLUMNS_V2:
        if column not in have:
            conn.execute(f"ALTER TABLE decisions ADD COLUMN {column} {kind.format(json='TEXT')}")
    for statement in decision_indexes() + tables(SQLITE):
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass
