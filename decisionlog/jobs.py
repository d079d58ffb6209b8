"""Asynchronous batch jobs, kept in the decision-log store so they outlive the process that took them.

A job is a row in ``batch_jobs`` and one row per item in ``batch_job_items``. Workers (every
server process runs one, api/jobs.py) take pending items a chunk at a time with
``work_chunk``, which does everything for the chunk in **one transaction**: claim the items,
evaluate them (the caller's function), insert their decisions, mark the items done and count
them on the job. So an item is either still pending — its chunk's transaction never committed, the
process died — and will be evaluated again, or done with exactly one stored decision; never
both, never twice.

Claiming uses the database's own locking, not a scheduler of ours:

* PostgreSQL: ``SELECT … FOR UPDATE OF i SKIP LOCKED`` — several replicas work one queue, each
  taking items no other transaction holds; a dead replica's locks go with its connection.
* SQLite: the write transaction (``BEGIN IMMEDIATE``) is the lock: one worker at a time on a
  machine, the others wait for the chunk to commit (chunks are small for that reason).

An item's submitted content is cleared when it is done: profiles are held only until evaluated.
When a chunk finishes a job, the store is asked to ``forget_cleared`` (SQLite checkpoints and
truncates its write-ahead log, which would otherwise keep the cleared profiles' old pages).
Webhooks for finished jobs are claimed the same way, with a lease and retries (``claim_webhook``,
``webhook_result``).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from decisionlog.base import DecisionLog, DecisionRecord
from decisionlog.decisions import insert_decisions
from decisionlog.sql import Tx


@dataclass(frozen=True)
class PendingItem:
    job_id: str
    index: int
    item: Any  # the submitted JSON
    options: dict[str, Any]  # the job's options (labels, fail_on)


@dataclass(frozen=True)
class ItemOutcome:
    """What a worker made of one item: a decision to store, or an error."""

    job_id: str
    index: int
    record: DecisionRecord | None
    error: dict[str, Any] | None
    verdict: str | None
    external_id: str | None
    labels_json: str | None


@dataclass(frozen=True)
class Job:
    job_id: str
    owner: str
    created_at: float
    finished_at: float | None
    state: str  # queued | running | done
    total: int
    processed: int
    invalid: int
    options: dict[str, Any]
    webhook_url: str | None
    webhook_state: str  # none | pending | delivered | failed
    webhook_attempts: int
    webhook_error: str | None


@dataclass(frozen=True)
class JobResult:
    index: int
    state: str  # pending | done
    external_id: str | None
    labels: dict[str, str] | None
    decision: dict[str, Any] | None
    error: dict[str, Any] | None
    verdict: str | None


def _json(value: Any, tx: Tx) -> Any:
    if value is None:
        return None
    return value if tx.dialect.name == "postgresql" and not isinstance(value, str) else json.loads(value)


def create(store: DecisionLog, owner: str, items: Sequence[Any], options: dict[str, Any], webhook_url: str | None) -> Job:
    """Store a new job and its items (one transaction) and return it."""
    job_id = str(uuid.uuid4())
    now = time.time()
    cast = "::jsonb" if store.dialect.name == "postgresql" else ""
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO batch_jobs (job_id, owner, created_at, state, total, options, webhook_url, webhook_state)"
            f" VALUES (%s, %s, %s, 'queued', %s, %s{cast}, %s, 'none')",
            (job_id, owner, now, len(items), json.dumps(options), webhook_url))
        tx.executemany(
            f"INSERT INTO batch_job_items (job_id, idx, state, item) VALUES (%s, %s, 'pending', %s{cast})",
            [(job_id, index, json.dumps(item, ensure_ascii=False)) for index, item in enumerate(items)])
    return Job(job_id=job_id, owner=owner, created_at=now, finished_at=None, state="queued", total=len(items),
               processed=0, invalid=0, options=options, webhook_url=webhook_url, webhook_state="none",
               webhook_attempts=0, webhook_error=None)


def get(store: DecisionLog, job_id: str) -> Job | None:
    with store.transaction(write=False) as tx:
        row = tx.one("SELECT job_id, owner, created_at, finished_at, state, total, processed, invalid, options,"
                     " webhook_url, webhook_state, webhook_attempts, webhook_error FROM batch_jobs WHERE job_id = %s",
                     (job_id,))
        if row is None:
            return None
        return Job(job_id=row[0], owner=row[1], created_at=row[2], finished_at=row[3], state=row[4], total=row[5],
                   processed=row[6], invalid=row[7], options=_json(row[8], tx), webhook_url=row[9],
                   webhook_state=row[10], webhook_attempts=row[11], webhook_error=row[12])


def counts(store: DecisionLog, job_id: str) -> dict[str, int]:
    """Done items by decision status and by verdict (``status:pass``, ``verdict:fail``…)."""
    with store.transaction(write=False) as tx:
        rows = tx.all("SELECT status, verdict, COUNT(*) FROM batch_job_items WHERE job_id = %s AND state = 'done'"
                      " GROUP BY status, verdict", (job_id,))
    out: dict[str, int] = {}
    for status, verdict, count in rows:
        if status:
            out[f"status:{status}"] = out.get(f"status:{status}", 0) + count
        if verdict:
            out[f"verdict:{verdict}"] = out.get(f"verdict:{verdict}", 0) + count
    return out


def results(store: DecisionLog, job_id: str, start: int, limit: int) -> tuple[list[JobResult], int | None]:
    """Items from index ``start`` on, at most ``limit``, with their decisions; and the next start."""
    with store.transaction(write=False) as tx:
        rows = tx.all(
            "SELECT i.idx, i.state, i.external_id, i.labels, d.decision, i.error, i.verdict FROM batch_job_items i"
            " LEFT JOIN decisions d ON d.decision_id = i.decision_id"
            " WHERE i.job_id = %s AND i.idx >= %s ORDER BY i.idx LIMIT %s", (job_id, start, limit + 1))
        out = [JobResult(index=r[0], state=r[1], external_id=r[2], labels=_json(r[3], tx), decision=_json(r[4], tx),
                         error=_json(r[5], tx), verdict=r[6]) for r in rows[:limit]]
    return out, (rows[limit][0] if len(rows) > limit else None)


def work_chunk(store: DecisionLog, size: int, evaluate: Callable[[list[PendingItem]], list[ItemOutcome]]) -> int:
    """Claim up to ``size`` pending items (oldest job first), evaluate them and store the outcome,
    all in one transaction; return how many items were done (0: nothing pending)."""
    postgres = store.dialect.name == "postgresql"
    lock = " FOR UPDATE OF i SKIP LOCKED" if postgres else ""
    cast = "::jsonb" if postgres else ""
    with store.transaction() as tx:
        rows = tx.all(
            "SELECT i.job_id, i.idx, i.item, j.options FROM batch_job_items i JOIN batch_jobs j ON j.job_id = i.job_id"
            " WHERE i.state = 'pending' ORDER BY j.created_at, i.job_id, i.idx LIMIT %s" + lock, (size,))
        if not rows:
            return 0
        pending = [PendingItem(job_id=r[0], index=r[1], item=_json(r[2], tx), options=_json(r[3], tx)) for r in rows]
        outcomes = evaluate(pending)
        records = [o.record for o in outcomes if o.record is not None]
        incoming = store.check_room(records)  # LogFull: the chunk is rolled back and tried again later
        insert_decisions(tx, records)
        tx.executemany(
            "UPDATE batch_job_items SET state = 'done', item = NULL, decision_id = %s, status = %s, verdict = %s,"
            f" error = %s{cast}, external_id = %s, labels = %s{cast} WHERE job_id = %s AND idx = %s AND state = 'pending'",
            [(o.record.decision_id if o.record else None, o.record.status if o.record else None, o.verdict,
              json.dumps(o.error) if o.error is not None else None, o.external_id, o.labels_json, o.job_id, o.index)
             for o in outcomes])
        now = time.time()
        per_job: dict[str, list[ItemOutcome]] = {}
        for outcome in outcomes:
            per_job.setdefault(outcome.job_id, []).append(outcome)
        for job_id, done in per_job.items():
            invalid = sum(o.record is None for o in done)
            tx.execute(
                "UPDATE batch_jobs SET processed = processed + %s, invalid = invalid + %s,"
                " state = CASE WHEN processed + %s >= total THEN 'done' ELSE 'running' END,"
                " finished_at = CASE WHEN processed + %s >= total THEN %s ELSE NULL END,"
                " webhook_state = CASE WHEN processed + %s >= total AND webhook_url IS NOT NULL THEN 'pending'"
                " ELSE webhook_state END WHERE job_id = %s",
                (len(done), invalid, len(done), len(done), now, len(done), job_id))
        marks = ", ".join(["%s"] * len(per_job))
        finished = tx.one(f"SELECT COUNT(*) FROM batch_jobs WHERE state = 'done' AND job_id IN ({marks})",
                          tuple(per_job))[0]
    store.took_room(incoming)
    if finished:
        store.forget_cleared()  # the finished jobs' profiles leave the store's files, not only its tables
    return len(rows)


def claim_webhook(store: DecisionLog, lease_s: float) -> Job | None:
    """A finished job whose webhook is due, leased to this worker for ``lease_s`` (another worker
    takes it over if this one dies before reporting the result)."""
    now = time.time()
    lock = " FOR UPDATE SKIP LOCKED" if store.dialect.name == "postgresql" else ""
    with store.transaction() as tx:
        row = tx.one("SELECT job_id FROM batch_jobs WHERE webhook_state = 'pending' AND"
                     " (webhook_next_at IS NULL OR webhook_next_at <= %s) ORDER BY finished_at LIMIT 1" + lock, (now,))
        if row is None:
            return None
        tx.execute("UPDATE batch_jobs SET webhook_next_at = %s, webhook_attempts = webhook_attempts + 1"
                   " WHERE job_id = %s", (now + lease_s, row[0]))
    return get(store, row[0])


def webhook_result(store: DecisionLog, job_id: str, delivered: bool, error: str | None, retry_at: float | None) -> None:
    """Record a delivery attempt: delivered, to be retried at ``retry_at``, or given up (no retry)."""
    state = "delivered" if delivered else ("pending" if retry_at is not None else "failed")
    with store.transaction() as tx:
        tx.execute("UPDATE batch_jobs SET webhook_state = %s, webhook_error = %s, webhook_next_at = %s WHERE job_id = %s",
                   (state, error, retry_at, job_id))
