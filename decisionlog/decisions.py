"""Writing decision rows and searching them, the same SQL for both stores (through ``Tx``)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from decisionlog.base import DecisionRecord
from decisionlog.sql import Tx

LIST_MAX = 200


def insert_decisions(tx: Tx, records: Sequence[DecisionRecord], now: float | None = None) -> None:
    """Insert the decision rows (and their CDS card references) inside ``tx``."""
    now = time.time() if now is None else now
    postgres = tx.dialect.name == "postgresql"
    logged_at = "to_timestamp(%s)" if postgres else "%s"
    cast = "::jsonb" if postgres else ""
    tx.executemany(
        "INSERT INTO decisions (decision_id, evaluated_at, logged_at, ruleset_version, profile_digest, status, kind,"
        f" decision, profile, record_format, external_id, labels, job_id) VALUES (%s, %s, {logged_at}, %s, %s, %s, %s,"
        f" %s{cast}, %s{cast}, %s, %s, %s{cast}, %s)",
        [(r.decision_id, r.evaluated_at if postgres else _iso(r.evaluated_at), now, r.ruleset_version,
          r.profile_digest, r.status, r.kind, r.decision_json, r.profile_json, r.record_format, r.external_id,
          r.labels_json, r.job_id)
         for r in records],
    )
    cards = [(c.card_uuid, r.decision_id, c.rule_id, c.subject, c.peer_key, c.program_key, now)
             for r in records for c in r.cards]
    if cards:
        tx.executemany(
            "INSERT INTO cds_cards (card_uuid, decision_id, rule_id, subject, peer_key, program_key, logged_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (card_uuid) DO NOTHING", cards)


@dataclass(frozen=True)
class DecisionFilter:
    """What ``GET /v1/evaluations`` may filter on; every given criterion must hold."""

    labels: tuple[tuple[str, str], ...] = ()
    external_id: str | None = None
    status: str | None = None
    ruleset_version: str | None = None
    kind: str | None = None
    job_id: str | None = None
    since: datetime | None = None  # evaluated at or after
    until: datetime | None = None  # evaluated before


@dataclass(frozen=True)
class ListedDecision:
    decision_id: str
    evaluated_at: datetime
    ruleset_version: str
    status: str
    kind: str
    external_id: str | None
    labels: dict[str, str] | None
    job_id: str | None
    summary: dict[str, Any]
    logged_at: datetime


def list_decisions(tx: Tx, where: DecisionFilter, limit: int, cursor: str | None,
                   cutoff: float | None) -> tuple[list[ListedDecision], str | None]:
    """Decisions matching ``where``, newest first, at most ``limit``; and the cursor of the next
    page (None on the last). A cursor is opaque to callers: the position after the last row."""
    postgres = tx.dialect.name == "postgresql"
    clauses: list[str] = []
    params: list[Any] = []
    for key, value in where.labels:
        clauses.append(tx.dialect.label_match())
        params += [key, value]
    for column, value in (("external_id", where.external_id), ("status", where.status),
                          ("ruleset_version", where.ruleset_version), ("kind", where.kind), ("job_id", where.job_id)):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if where.since is not None:
        clauses.append("evaluated_at >= %s")
        params.append(_bound(where.since, postgres))
    if where.until is not None:
        clauses.append("evaluated_at < %s")
        params.append(_bound(where.until, postgres))
    if cutoff is not None:
        clauses.append("logged_at >= to_timestamp(%s)" if postgres else "logged_at >= %s")
        params.append(cutoff)
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        clauses.append("(evaluated_at < %s OR (evaluated_at = %s AND decision_id < %s))")
        bound = _bound(after_time, postgres) if postgres else after_time
        params += [bound, bound, after_id]
    sql = ("SELECT decision_id, evaluated_at, ruleset_version, status, kind, external_id, labels, job_id, decision,"
           " logged_at FROM decisions")
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY evaluated_at DESC, decision_id DESC LIMIT %s"
    params.append(min(limit, LIST_MAX) + 1)
    rows = tx.all(sql, params)
    more = len(rows) > limit
    rows = rows[:limit]
    listed = [_listed(row, postgres) for row in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(last[1].isoformat() if postgres else last[1], last[0])
    return listed, next_cursor


def encode_cursor(evaluated_at: str, decision_id: str) -> str:
    raw = json.dumps([evaluated_at, decision_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Raises ValueError for a cursor this store did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        evaluated_at, decision_id = json.loads(raw)
        datetime.fromisoformat(evaluated_at)
    except Exception:  # noqa: BLE001 - any malformed cursor is the caller's error
        raise ValueError("not a cursor from this service") from None
    if not isinstance(decision_id, str):
        raise ValueError("not a cursor from this service")
    return evaluated_at, decision_id


def _bound(moment: datetime | str, postgres: bool) -> Any:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment if postgres else _iso(moment)


def _listed(row: Any, postgres: bool) -> ListedDecision:
    decision = row[8] if postgres else json.loads(row[8])
    labels = row[6] if postgres or row[6] is None else json.loads(row[6])
    evaluated = row[1] if postgres else datetime.fromisoformat(row[1])
    logged = row[9].astimezone(timezone.utc) if postgres else datetime.fromtimestamp(row[9], timezone.utc)
    return ListedDecision(decision_id=row[0], evaluated_at=evaluated, ruleset_version=row[2], status=row[3],
                          kind=row[4], external_id=row[5], labels=labels, job_id=row[7],
                          summary=decision.get("summary", {}), logged_at=logged)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()
