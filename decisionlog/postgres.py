"""The PostgreSQL store, for deployments that already run a database (``DATABASE_URL``).

Same table and behaviour as the SQLite store: one connection per thread, one transaction per
append, retention by ``logged_at``. Imported only when psycopg is installed (``open_log``
checks first), so the default install does not need it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Sequence

import psycopg

from decisionlog.base import DecisionLog, DecisionRecord, LogUnavailable, StoredDecision, ThreadConnections

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
                        conn.execute(SCHEMA)
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
        rows = [
            (r.decision_id, r.evaluated_at, r.ruleset_version, r.profile_digest, r.status, r.kind,
             r.decision_json, r.profile_json)
            for r in records
        ]
        self._run("write", lambda cur: cur.executemany(
            "INSERT INTO decisions (decision_id, evaluated_at, ruleset_version, profile_digest, status, kind,"
            " decision, profile) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)",
            rows,
        ))
        self.prune_if_due()

    def get(self, decision_id: str) -> StoredDecision | None:
        def read(cur):
            cur.execute(
                "SELECT decision_id, kind, logged_at, decision, profile FROM decisions WHERE decision_id = %s",
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
                              decision=row[3], profile=row[4])

    def prune(self) -> int:
        cutoff = self.cutoff()
        if cutoff is None:
            return 0

        def delete(cur):
            cur.execute("DELETE FROM decisions WHERE logged_at < to_timestamp(%s)", (cutoff,))
            return cur.rowcount

        return self._run("prune", delete)

    def close(self) -> None:
        self._threads.close_all()


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except psycopg.Error:
        pass
