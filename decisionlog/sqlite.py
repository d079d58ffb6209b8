"""The embedded store: one SQLite file in WAL mode, via the standard library.

WAL lets readers (``GET /v1/evaluations/{id}``) run while a write is in progress. Each thread
has its own connection (sqlite3 connections must not be shared across threads); writes are
serialised by a lock in this process and by SQLite's own lock across processes, with a short
busy timeout (``wait_s``) so a locked file degrades an answer to ``recorded: false`` instead of
stalling it. Deleted and rewritten rows are overwritten with zeros (``secure_delete``) in the database file.
The WAL (``decisions.sqlite3-wal``) holds the pages of recent writes, old versions included, until
a checkpoint copies them into the file; so whenever rows that held a submitted profile are cleared —
a batch job finishes (its items' profiles cleared), records are upgraded — the WAL is checkpointed
and truncated to zero bytes (``forget_cleared``). A pruned decision, an upgraded record or a
finished job's items then leave nothing readable in either file. Between a job's start and its
end its items' profiles are on disk by design (a crashed server resumes the job from them), in
the file or the WAL. The data folder is created 0700 and the database files 0600.
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

from decisionlog.base import (
    DecisionLog, DecisionRecord, LogUnavailable, StoredDecision, ThreadConnections, Upgrade, log,
)
from decisionlog.decisions import insert_decisions
from decisionlog.files import private_database
from decisionlog.sql import SQLITE, Tx, migration

SYNC_MODES = ("full", "normal")

# The schema, as numbered migrations: a new database runs them all, an older one those it lacks
# (``PRAGMA user_version`` is the number applied). Each is one transaction. To add a column, append
# a migration; never edit one that has shipped.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the decision table
        """CREATE TABLE IF NOT EXISTS decisions (
            decision_id     TEXT PRIMARY KEY,
            evaluated_at    TEXT NOT NULL,   -- ISO 8601, UTC, as in the decision
            logged_at       REAL NOT NULL,   -- unix seconds; retention prunes on this
            ruleset_version TEXT NOT NULL,
            profile_digest  TEXT NOT NULL,
            status          TEXT NOT NULL,
            kind            TEXT NOT NULL,   -- evaluation | batch | compare | cds | report
            decision        TEXT NOT NULL,   -- the caller's record of the decision, JSON
            profile         TEXT             -- the profile, JSON; only when configured
        )""",
        "CREATE INDEX IF NOT EXISTS decisions_logged_at ON decisions (logged_at)",
        "CREATE INDEX IF NOT EXISTS decisions_profile_digest ON decisions (profile_digest)",
    ),
    (  # 2: records that refer to their ruleset's texts, kept once per version
        "ALTER TABLE decisions ADD COLUMN record_format INTEGER NOT NULL DEFAULT 1",
        """CREATE TABLE IF NOT EXISTS rulesets (
            ruleset_version TEXT PRIMARY KEY,
            texts           TEXT NOT NULL,   -- JSON, the caller's document
            stored_at       REAL NOT NULL
        )""",
    ),
    # 3: the caller's id and labels on decisions; idempotent answers, CDS cards and feedback, seen
    # client tokens, batch jobs (decisionlog/sql.py)
    migration(SQLITE),
)
SCHEMA_VERSION = len(MIGRATIONS)

READER_CACHE_KIB = 256
WRITER_CACHE_KIB = 2048


class SQLiteLog(DecisionLog):
    name = "sqlite"
    dialect = SQLITE

    def __init__(self, path: Path, retention_days: int, prune_interval_s: float = 3600.0,
                 wait_s: float = 0.25, synchronous: str = "full", max_bytes: int = 0):
        super().__init__(retention_days, prune_interval_s, wait_s, max_bytes)
        self.path = Path(path)
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
            private_database(self.path)
            # check_same_thread=False only so close() can run at shutdown; each connection is used by one thread.
            conn = sqlite3.connect(self.path, timeout=self.wait_s, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise LogUnavailable(f"cannot open {self.path}: {exc}") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise LogUnavailable(f"{self.path}: WAL mode not available (journal_mode={mode})")
            conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            conn.execute(f"PRAGMA cache_size=-{cache_kib}")
            conn.execute("PRAGMA secure_delete=ON")
            if not self._schema_ready:
                with self._write_lock:
                    _migrate(conn, self.path)
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
        with self._write_lock:
            incoming = self.check_room(records)
            with self.transaction() as tx:
                insert_decisions(tx, records)
            self.took_room(incoming)
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
                "SELECT decision_id, kind, logged_at, decision, profile, ruleset_version, record_format, external_id,"
                " labels, job_id FROM decisions WHERE decision_id = ?",
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
            ruleset_version=row[5], record_format=row[6], external_id=row[7],
            labels=json.loads(row[8]) if row[8] is not None else None, job_id=row[9],
        )

    def prune(self) -> int:
        """Expired decisions (and the CDS cards, feedback and finished jobs of the same age), and
        whatever expires by its own clock (idempotent answers, seen tokens) whatever the retention."""
        cutoff = self.cutoff()
        with self._write_lock:
            conn = self._writer()
            try:
                now = time.time()
                conn.execute("DELETE FROM idempotency WHERE expires_at < ?", (now,))
                conn.execute("DELETE FROM cds_tokens WHERE expires_at < ?", (now,))
                if cutoff is None:
                    return 0
                removed = conn.execute("DELETE FROM decisions WHERE logged_at < ?", (cutoff,)).rowcount
                conn.execute("DELETE FROM cds_cards WHERE logged_at < ?", (cutoff,))
                conn.execute("DELETE FROM cds_feedback WHERE received_at < ?", (cutoff,))
                conn.execute("DELETE FROM batch_job_items WHERE job_id IN"
                             " (SELECT job_id FROM batch_jobs WHERE finished_at < ?)", (cutoff,))
                conn.execute("DELETE FROM batch_jobs WHERE finished_at < ?", (cutoff,))
                return removed
            except sqlite3.Error as exc:
                self._drop_writer()
                raise LogUnavailable(f"cannot prune {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._write_lock:
            self._drop_writer()
        self._threads.close_all()

    def put_texts(self, ruleset_version: str, texts_json: str) -> None:
        with self._write_lock:
            conn = self._writer()
            try:
                conn.execute("INSERT OR IGNORE INTO rulesets (ruleset_version, texts, stored_at) VALUES (?, ?, ?)",
                             (ruleset_version, texts_json, time.time()))
            except sqlite3.Error as exc:
                self._drop_writer()
                raise LogUnavailable(f"cannot write {self.path}: {exc}") from exc

    def get_texts(self, ruleset_version: str) -> str | None:
        conn = self._connection()
        try:
            row = conn.execute("SELECT texts FROM rulesets WHERE ruleset_version = ?", (ruleset_version,)).fetchone()
        except sqlite3.Error as exc:
            self._threads.drop()
            raise LogUnavailable(f"cannot read {self.path}: {exc}") from exc
        return row[0] if row else None

    def stored_bytes(self) -> int:
        with self._write_lock:
            conn = self._writer()
            try:
                pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
                return pages * conn.execute("PRAGMA page_size").fetchone()[0]
            except sqlite3.Error as exc:
                self._drop_writer()
                raise LogUnavailable(f"cannot read {self.path}: {exc}") from exc

    def upgrade_records(self, upgrade: Upgrade, to_format: int, batch: int = 200) -> int:
        done = 0
        while True:
            with self._write_lock:
                conn = self._writer()
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    rows = conn.execute("SELECT decision_id, decision, ruleset_version FROM decisions"
                                        " WHERE record_format < ? LIMIT ?", (to_format, batch)).fetchall()
                    conn.executemany("UPDATE decisions SET decision = ?, record_format = ? WHERE decision_id = ?",
                                     [(upgrade(text, version), to_format, decision_id) for decision_id, text, version in rows])
                    conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    _rollback(conn)
                    self._drop_writer()
                    raise LogUnavailable(f"cannot upgrade {self.path}: {exc}") from exc
            done += len(rows)
            if len(rows) < batch:
                break
        if done:
            self.forget_cleared()  # the old records' pages leave the WAL too
        return done

    def forget_cleared(self) -> None:
        """Copy the WAL into the file and truncate it to zero bytes (``wal_checkpoint(TRUNCATE)``),
        so that the old versions of cleared rows it holds are gone from disk. Waits at most
        ``wait_s`` for readers of other processes; when one still holds an older snapshot the WAL
        is left as it is, and the next checkpoint after a cleared row tries again."""
        with self._write_lock:
            try:
                busy = self._writer().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except (sqlite3.Error, LogUnavailable):
                return
        if busy:
            log.info("decision_log_checkpoint_busy", store=self.name)


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations this file lacks, each in one transaction (another process may be
    doing the same: ``BEGIN IMMEDIATE`` makes it wait, and the version is read again inside)."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                if version > SCHEMA_VERSION:
                    raise LogUnavailable(f"{path}: written by a newer PeerCheck (schema {version}; this one knows "
                                         f"{SCHEMA_VERSION})")
                return
            if version == 0 and _has_decisions(conn):
                version = 1  # made before the schema was numbered
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version + 1}")
            conn.execute("COMMIT")
        except sqlite3.Error:
            _rollback(conn)
            raise


def _has_decisions(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'").fetchone() is not None


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


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
