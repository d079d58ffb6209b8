"""CDS Hooks feedback (accepted / overridden cards), stored against the decision the card came from.

A card's uuid leads to the finding it stood for (``cds_cards``, written with the decision). Feedback
rows are kept as the client sent them, once each (card, outcome and time are the key: the spec
allows a client to report the same interaction more than once). ``standing_overrides`` reads a
program's latest outcome per finding: an ``overridden`` one that no later ``accepted`` replaced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

from decisionlog.base import DecisionLog

READ_MAX = 5000


@dataclass(frozen=True)
class Feedback:
    card_uuid: str
    outcome: str  # accepted | overridden
    outcome_at: str  # the client's outcomeTimestamp, ISO 8601
    reason_code: str | None = None
    reason_text: str | None = None  # the reason's display, and the user's comment when kept


@dataclass(frozen=True)
class Override:
    rule_id: str
    subject: str
    peer_key: str | None
    reason_code: str | None
    reason_text: str | None
    outcome_at: str
    decision_id: str


def record(store: DecisionLog, client: str, entries: Sequence[Feedback]) -> tuple[list[str], list[str]]:
    """Store the entries whose card is known; return (recorded card uuids, unknown card uuids)."""
    recorded: list[str] = []
    unknown: list[str] = []
    now = time.time()
    with store.transaction() as tx:
        for entry in entries:
            card = tx.one("SELECT decision_id, rule_id, subject, peer_key, program_key FROM cds_cards WHERE card_uuid = %s",
                          (entry.card_uuid,))
            if card is None:
                unknown.append(entry.card_uuid)
                continue
            tx.execute(
                "INSERT INTO cds_feedback (card_uuid, outcome, outcome_at, decision_id, rule_id, subject, peer_key,"
                " program_key, client, reason_code, reason_text, received_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (card_uuid, outcome, outcome_at) DO NOTHING",
                (entry.card_uuid, entry.outcome, entry.outcome_at, card[0], card[1], card[2], card[3], card[4], client,
                 entry.reason_code, entry.reason_text, now),
            )
            recorded.append(entry.card_uuid)
    return recorded, unknown


def for_decision(store: DecisionLog, decision_id: str) -> list[dict[str, Any]]:
    with store.transaction(write=False) as tx:
        rows = tx.all("SELECT card_uuid, outcome, outcome_at, rule_id, subject, reason_code, reason_text, client"
                      " FROM cds_feedback WHERE decision_id = %s ORDER BY outcome_at, received_at", (decision_id,))
    return [{"card": r[0], "outcome": r[1], "outcome_timestamp": r[2], "rule_id": r[3], "subject": r[4],
             "reason_code": r[5], "reason": r[6], "client": r[7]} for r in rows]


def standing_overrides(store: DecisionLog, program_key: str) -> list[Override]:
    """The program's findings whose latest feedback is ``overridden``, oldest first."""
    with store.transaction(write=False) as tx:
        rows = tx.all("SELECT rule_id, subject, peer_key, outcome, reason_code, reason_text, outcome_at, decision_id"
                      " FROM cds_feedback WHERE program_key = %s ORDER BY outcome_at, received_at LIMIT %s",
                      (program_key, READ_MAX))
    latest: dict[tuple[str, str], Any] = {}
    for row in rows:
        latest[(row[0], row[2] if row[2] is not None else row[1])] = row
    return [Override(rule_id=r[0], subject=r[1], peer_key=r[2], reason_code=r[4], reason_text=r[5], outcome_at=r[6],
                     decision_id=r[7])
            for r in latest.values() if r[3] == "overridden"]
