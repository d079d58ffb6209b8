"""What the two stores share: the tables beside ``decisions``, their migrations, and one way to
run SQL in a transaction whatever the driver.

Every feature that keeps state next to the decisions (idempotent answers, CDS feedback, batch
jobs, replayed-token checks) is written once, against ``Tx``: SQL with ``%s`` placeholders (the
SQLite store turns them into ``?``), run inside the store's own transaction. The few places the
two databases differ are in ``Dialect``: how ``decisions.logged_at`` is stored, how a label is
matched in JSON, and row locking (PostgreSQL's ``FOR UPDATE SKIP LOCKED``; SQLite has one writer
at a time, its ``BEGIN IMMEDIATE`` transaction is the lock).

Times in the new tables are unix seconds (REAL / DOUBLE PRECISION) in both stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence



@dataclass(frozen=True)
class Dialect:
    name: str
    blob: str            # binary column type
    real: str            # floating-point column type
    json: str            # JSON column type
    skip_locked: str     # appended to a SELECT that claims rows for this transaction only

    def label_match(self) -> str:
        """SQL matching one label (``%s`` = key, ``%s`` = value) in ``decisions.labels``."""
        if self.name == "postgresql":
            return "labels ->> %s = %s"
        return "json_extract(labels, '$.\"' || %s || '\"') = %s"


SQLITE = Dialect(name="sqlite", blob="BLOB", real="REAL", json="TEXT", skip_locked="")
POSTGRES = Dialect(name="postgresql", blob="BYTEA", real="DOUBLE PRECISION", json="JSONB",
                   skip_locked=" FOR UPDATE SKIP LOCKED")


class Tx:
    """A cursor inside one transaction: ``execute`` takes SQL with ``%s`` placeholders."""

    def __init__(self, cursor: Any, dialect: Dialect):
        self.cursor = cursor
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.dialect.name == "sqlite":
            sql = sql.replace("%s", "?")
        self.cursor.execute(sql, tuple(params))
        return self.cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.dialect.name == "sqlite":
            sql = sql.replace("%s", "?")
        self.cursor.executemany(sql, [tuple(r) for r in rows])

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.execute(sql, params).fetchall())


def migration(d: Dialect) -> tuple[str, ...]:
    """The stores' migration that adds all of this (one numbered migration in each store): the
    caller's own id and labels on each decision (echoed, searchable with ``GET /v1/evaluations``),
    the batch job an item's decision belongs to, and the tables below."""
    if_missing = " IF NOT EXISTS" if d.name == "postgresql" else ""
    columns = tuple(f"ALTER TABLE decisions ADD COLUMN{if_missing} {name} {kind}"
                    for name, kind in (("external_id", "TEXT"), ("labels", d.json), ("job_id", "TEXT")))
    extra = ("CREATE INDEX IF NOT EXISTS decisions_labels ON decisions USING gin (labels)",) if d.name == "postgresql" else ()
    return columns + tuple(decision_indexes()) + extra + tuple(tables(d))


def tables(d: Dialect) -> list[str]:
    """DDL of the tables beside ``decisions`` (idempotent: IF NOT EXISTS)."""
    return [
        # Idempotency-Key: the key itself is never stored, only a hash of it with the caller; the
        # answer is stored encrypted with a key derived from the Idempotency-Key (api/idempotency.py).
        f"""CREATE TABLE IF NOT EXISTS idempotency (
            key_hash    TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            state       TEXT NOT NULL,
            created_at  {d.real} NOT NULL,
            expires_at  {d.real} NOT NULL,
            status      INTEGER,
            answer      {d.blob}
        )""",
        "CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires_at)",
        # CDS Hooks: which finding each card stood for, so feedback can be recorded against it.
        f"""CREATE TABLE IF NOT EXISTS cds_cards (
            card_uuid   TEXT PRIMARY KEY,
            decision_id TEXT NOT NULL,
            rule_id     TEXT NOT NULL,
            subject     TEXT NOT NULL,
            peer_key    TEXT,
            program_key TEXT,
            logged_at   {d.real} NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS cds_cards_logged_at ON cds_cards (logged_at)",
        f"""CREATE TABLE IF NOT EXISTS cds_feedback (
            card_uuid    TEXT NOT NULL,
            outcome      TEXT NOT NULL,
            outcome_at   TEXT NOT NULL,
            decision_id  TEXT NOT NULL,
            rule_id      TEXT NOT NULL,
            subject      TEXT NOT NULL,
            peer_key     TEXT,
            program_key  TEXT,
            client       TEXT NOT NULL,
            reason_code  TEXT,
            reason_text  TEXT,
            received_at  {d.real} NOT NULL,
            PRIMARY KEY (card_uuid, outcome, outcome_at)
        )""",
        "CREATE INDEX IF NOT EXISTS cds_feedback_program ON cds_feedback (program_key, received_at)",
        "CREATE INDEX IF NOT EXISTS cds_feedback_decision ON cds_feedback (decision_id)",
        # CDS Hooks client JWTs already seen (iss + jti, hashed), until they expire.
        f"""CREATE TABLE IF NOT EXISTS cds_tokens (
            token_key  TEXT PRIMARY KEY,
            expires_at {d.real} NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS cds_tokens_expires ON cds_tokens (expires_at)",
        # Asynchronous batch jobs and their items.
        f"""CREATE TABLE IF NOT EXISTS batch_jobs (
            job_id          TEXT PRIMARY KEY,
            owner           TEXT NOT NULL,
            created_at      {d.real} NOT NULL,
            finished_at     {d.real},
            state           TEXT NOT NULL,
            total           INTEGER NOT NULL,
            processed       INTEGER NOT NULL DEFAULT 0,
            invalid         INTEGER NOT NULL DEFAULT 0,
            options         {d.json} NOT NULL,
            webhook_url     TEXT,
            webhook_state   TEXT NOT NULL,
            webhook_attempts INTEGER NOT NULL DEFAULT 0,
            webhook_next_at {d.real},
            webhook_error   TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS batch_jobs_webhook ON batch_jobs (webhook_state, webhook_next_at)",
        f"""CREATE TABLE IF NOT EXISTS batch_job_items (
            job_id      TEXT NOT NULL,
            idx         INTEGER NOT NULL,
            state       TEXT NOT NULL,
            item        {d.json},
            external_id TEXT,
            labels      {d.json},
            decision_id TEXT,
            status      TEXT,
            verdict     TEXT,
            error       {d.json},
            PRIMARY KEY (job_id, idx)
        )""",
        "CREATE INDEX IF NOT EXISTS batch_job_items_pending ON batch_job_items (state, job_id, idx)",
    ]


def decision_indexes() -> list[str]:
    return [
        "CREATE INDEX IF NOT EXISTS decisions_evaluated_at ON decisions (evaluated_at)",
        "CREATE INDEX IF NOT EXISTS decisions_external_id ON decisions (external_id)",
        "CREATE INDEX IF NOT EXISTS decisions_job_id ON decisions (job_id)",
    ]
