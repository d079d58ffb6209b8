"""The PostgreSQL store, for deployments that already run a database (``DATABASE_URL``).

Same tables and behaviour as the SQLite store: one connection per thread, one transaction per
append, retention by ``logged_at``, the schema as numbered migrations (applied under an advisory
lock, so replicas starting together take turns; ``decision_log_schema`` holds the number). Every
connection waits at most ``wait_s`` for a lock (``lock_timeout``) and a few seconds to connect.
Imported only when psycopg is installed (``open_log`` checks first), so the default install does
not need it.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Sequence

import psycopg

from decisionlog.base import DecisionLog, DecisionRecord, LogUnavailable, StoredDecision, ThreadConnections, Upgrade
from decisionlog.decisions import insert_decisions
from decisionlog.sql import POSTGRES, Tx, migration

CONNECT_TIMEOUT_S = 2  # libpq's minimum
STATEMENT_TIMEOUT_MS = 10_000
MIGRATION_LOCK = 0x5EC0_1066  # pg_advisory_xact_lock key: one replica migrates at a time

# Numbered like the SQLite store's; never edit one that has shipped, append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the decision table
        """CREATE TABLE IF NOT EXISTS decisions (
            decision_id     TEXT PRIMARY KEY,
            evaluated_at    TIMESTAMPTZ NOT NULL,
            logged_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
            ruleset_version TEXT NOT NULL,
            profile_digest  TEXT NOT NULL,
            status          TEXT NOT NULL,
            kind            TEXT NOT NULL,
            decision        JSONB NOT NULL,
            profile         JSONB
        )""",
        "CREATE INDEX IF NOT EXISTS decisions_logged_at ON decisions (logged_at)",
        "CREATE INDEX IF NOT EXISTS decisions_profile_digest ON decisions (profile_digest)",
    ),
    (  # 2: records that refer to their ruleset's texts, kept once per version
        "ALTER TABLE decisions ADD COLUMN IF NOT EXISTS record_format INTEGER NOT NULL DEFAULT 1",
        """CREATE TABLE IF NOT EXISTS rulesets (
            ruleset_version TEXT PRIMARY KEY,
            texts           JSONB NOT NULL,
            stored_at       TIMESTAMPTZ NOT NULL DEFAULT now()
        )""",
    ),
    # 3: the caller's id and labels on decisions; idempotent answers, CDS cards and feedback, seen
    # client tokens, batch jobs (decisionlog/sql.py)
    migration(POSTGRES),
)
SCHEMA_VERSION = len(MIGRATIONS)


class PostgresLog(DecisionLog):
    name = "postgresql"
    dialect = POSTGRES

    def __init__(self, url: str, retention_days: int, prune_interval_s: float = 3600.0, wait_s: float = 0.25,
                 max_bytes: int = 0):
        super().__init__(retention_days, prune_interval_s, wait_s, max_bytes)
        self._url = url
        self._threads = ThreadConnections(_close_quietly)
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def _connect(self, **extra) -> psycopg.Connection:
        lock_ms = max(1, math.ceil(self.wait_s * 1000))
        return psycopg.connect(self._url, connect_timeout=CONNECT_TIMEOUT_S,
                               options=f"-c lock_timeout={lock_ms} -c statement_timeout={STATEMENT_TIMEOUT_MS}",
                               **extra)

    def _connection(self) -> psycopg.Connection:
        conn = self._threads.current()
        if conn is not None and not conn.closed:
            return conn
        conn = None
        try:
            conn = self._connect(autocommit=False)
            with self._schema_lock:
                if not self._schema_ready:
                    _migrate(conn)
                    self._schema_ready = True
        except (psycopg.Error, LogUnavailable) as exc:
            if conn is not None:
                _close_quietly(conn)
            if isinstance(exc, LogUnavailable):
                raise
            state = f" (SQLSTATE {exc.sqlstate})" if exc.sqlstate else ""
            raise LogUnavailable(f"cannot use PostgreSQL: {type(exc).__name__}{state}") from exc
        return self._threads.remember(conn)

    def _run(self, what: str, work):
        conn = self._connection()
        try:
            with conn.transaction():
                with conn.cursor() as cur:
                    return work(cur)
        except psycopg.Error as exc:
            self._threads.drop()
            raise LogUnavailable(f"cannot {what} in PostgreSQL: {type(exc).__name__}") from exc

    def start(self) -> None:
        self._connection()
        self._last_prune = time.monotonic()
        self.prune()

    def append(self, records: Sequence[DecisionRecord]) -> None:
        if not records:
            return
        incoming = self.check_room(records)
        with self.transaction() as tx:
            insert_decisions(tx, records)
        self.took_room(incoming)
        self.prune_if_due()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        conn = self._connection()
        try:
            with conn.transaction():
                with conn.cursor() as cur:
                    yield Tx(cur, POSTGRES)
        except psycopg.Error as exc:
            self._threads.drop()
            raise LogUnavailable(f"cannot {'write' if write else 'read'} in PostgreSQL: {type(exc).__name__}") from exc

    def get(self, decision_id: str) -> StoredDecision | None:
        def read(cur):
            cur.execute(
                "SELECT decision_id, kind, logged_at, decision, profile, ruleset_version, record_format, external_id,"
                " labels, job_id FROM decisions WHERE decision_id = %s",
                (decision_id,),
            )
            return cur.fetchone()

        row = self._run("read", read)
        if row is None:
            return None
        logged_at: datetime = row[2]
        cutoff = self.cutoff()
        if cutoff is not None and logged_at.timestamp() < cutoff:
            return None
        return StoredDecision(decision_id=row[0], kind=row[1], logged_at=logged_at.astimezone(timezone.utc),
                              decision=row[3], profile=row[4], ruleset_version=row[5], record_format=row[6],
                              external_id=row[7], labels=row[8], job_id=row[9])

    def prune(self) -> int:
        """As the SQLite store's: expired decisions with their cards, feedback and finished jobs, and
        what expires by its own clock."""
        cutoff = self.cutoff()

        def delete(cur):
            now = time.time()
            cur.execute("DELETE FROM idempotency WHERE expires_at < %s", (now,))
            cur.execute("DELETE FROM cds_tokens WHERE expires_at < %s", (now,))
            if cutoff is None:
                return 0
            cur.execute("DELETE FROM decisions WHERE logged_at < to_timestamp(%s)", (cutoff,))
            removed = cur.rowcount
            cur.execute("DELETE FROM cds_cards WHERE logged_at < %s", (cutoff,))
            cur.execute("DELETE FROM cds_feedback WHERE received_at < %s", (cutoff,))
            cur.execute("DELETE FROM batch_job_items WHERE job_id IN"
                        " (SELECT job_id FROM batch_jobs WHERE finished_at < %s)", (cutoff,))
            cur.execute("DELETE FROM batch_jobs WHERE finished_at < %s", (cutoff,))
            return removed

        return self._run("prune", delete)

    def close(self) -> None:
        self._threads.close_all()

    def put_texts(self, ruleset_version: str, texts_json: str) -> None:
        self._run("write", lambda cur: cur.execute(
            "INSERT INTO rulesets (ruleset_version, texts) VALUES (%s, %s::jsonb) ON CONFLICT (ruleset_version) DO NOTHING",
            (ruleset_version, texts_json)))

    def get_texts(self, ruleset_version: str) -> str | None:
        def read(cur):
            cur.execute("SELECT texts::text FROM rulesets WHERE ruleset_version = %s", (ruleset_version,))
            return cur.fetchone()

        row = self._run("read", read)
        return row[0] if row else None

    def stored_bytes(self) -> int:
        def size(cur):
            cur.execute("SELECT pg_total_relation_size('decisions') + pg_total_relation_size('rulesets')")
            return cur.fetchone()[0]

        return self._run("measure", size)

    def upgrade_records(self, upgrade: Upgrade, to_format: int, batch: int = 200) -> int:
        done = 0
        while True:
            def rewrite(cur):
                cur.execute("SELECT decision_id, decision::text, ruleset_version FROM decisions WHERE record_format < %s"
                            " LIMIT %s FOR UPDATE SKIP LOCKED", (to_format, batch))
                rows = cur.fetchall()
                cur.executemany("UPDATE decisions SET decision = %s::jsonb, record_format = %s WHERE decision_id = %s",
                                [(upgrade(text, version), to_format, decision_id) for decision_id, text, version in rows])
                return len(rows)

            count = self._run("upgrade", rewrite)
            done += count
            if count < batch:
                break
        if done:  # dead row versions keep the old records until vacuumed
            try:
                with self._connect(autocommit=True) as conn:
                    conn.execute("VACUUM decisions")
            except psycopg.Error:
                pass  # autovacuum will
        return done


def _migrate(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS decision_log_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM decision_log_schema").fetchone()
        if row is None:
            exists = conn.execute("SELECT to_regclass('decisions') IS NOT NULL").fetchone()[0]
            version = 1 if exists else 0  # made before the schema was numbered
            conn.execute("INSERT INTO decision_log_schema (version) VALUES (%s)", (version,))
        else:
            version = row[0]
        if version > SCHEMA_VERSION:
            raise LogUnavailable(f"the decision log was written by a newer PeerCheck (schema {version}; this one "
                                 f"knows {SCHEMA_VERSION})")
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
        conn.execute("UPDATE decision_log_schema SET version = %s", (max(version, SCHEMA_VERSION),))


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except psycopg.Error:
        pass
