"""The PostgreSQL store, for deployments that already run a database (``DATABASE_URL``).

Same table and behaviour as the SQLite store: one connection per thread, one transaction per
append, retention by ``logged_at``. Imported only when psycopg is installed (``open_log``
checks first), so the default install does not need it.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Sequence

import psycopg

from decisionlog.base import DecisionLog, DecisionRecord, LogUnavailable, StoredDecision, ThreadConnections
from decisionlog.decisions import insert_decisions
from decisionlog.sql import DECISION_COLUMNS_V2, POSTGRES, Tx, decision_indexes, tables

CONNECT_TIMEOUT_S = 5

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    decision_id     TEXT PRIMARY KEY,
    evaluated_at    TIMESTAMPTZ NOT NULL,
    logged_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    ruleset_version TEXT NOT NULL,
    profile_digest  TEXT NOT NULL,
    status          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    decision        JSONB NOT NULL,
    profile         JSONB
);
CREATE INDEX IF NOT EXISTS decisions_logged_at ON decisions (logged_at);
CREATE INDEX IF NOT EXISTS decisions_profile_digest ON decisions (profile_digest);
"""


class PostgresLog(DecisionLog):
    name = "postgresql"
    dialect = POSTGRES

    def __init__(self, url: str, retention_days: int, prune_interval_s: float = 3600.0):
        super().__init__(retention_days, prune_interval_s)
        self._url = url
        self._threads = ThreadConnections(_close_quietly)
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def _connection(self) -> psycopg.Connection:
        conn = self._threads.current()
        if conn is not None and not conn.closed:
            return conn
        try:
            conn = psycopg.connect(self._url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=False)
            with self._schema_lock:
                if not self._schema_ready:
                    with conn.transaction():
                        # one replica at a time creates or migrates the tables
                        conn.execute("SELECT pg_advisory_xact_lock(7051804)")
                        conn.execute(SCHEMA)
                        for column, kind in DECISION_COLUMNS_V2:
                            conn.execute(f"ALTER TABLE decisions ADD COLUMN IF NOT EXISTS {column} "
                                         f"{kind.format(json='JSONB')}")
                        for statement in decision_indexes() + tables(POSTGRES):
                            conn.execute(statement)
                        conn.execute("CREATE INDEX IF NOT EXISTS decisions_labels ON decisions USING gin (labels)")
                    self._schema_ready = True
        except psycopg.Error as exc:
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
        with self.transaction() as tx:
            insert_decisions(tx, records)
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
                "SELECT decision_id, kind, logged_at, decision, profile, external_id, labels, job_id FROM decisions"
                " WHERE decision_id = %s",
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
                              decision=row[3], profile=row[4], external_id=row[5], labels=row[6], job_id=row[7])

    def prune(self) -> int:
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


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except psycopg.Error:
        pass
