"""Appending decisions to the decision log before the answer goes out.

The write happens before the response, so a decision the caller has seen is one that is stored.
If the log cannot take it (read-only disk, locked file, database down), the caller still gets
the decision, with ``recorded: false``, and a warning is logged — with ids and counts only.
"""

from __future__ import annotations

from typing import Sequence

from api.deps import Service
from api.logs import log
from decisionlog import DecisionRecord, LogUnavailable
from engine import Decision, Profile


def record(service: Service, pairs: Sequence[tuple[Decision, Profile]], kind: str) -> bool:
    """Store the decisions (one transaction); True when they are stored."""
    store = service.decision_log
    if store is None or not pairs:
        return False
    keep_profiles = service.settings.decision_log_store_profiles
    records = [
        DecisionRecord(
            decision_id=decision.decision_id, evaluated_at=decision.evaluated_at,
            ruleset_version=decision.ruleset_version, profile_digest=decision.profile_digest,
            status=decision.summary.status, kind=kind, decision_json=decision.model_dump_json(),
            profile_json=profile.model_dump_json(exclude_none=True) if keep_profiles else None,
        )
        for decision, profile in pairs
    ]
    try:
        store.append(records)
    except LogUnavailable as exc:
        log.warning("decision_log_unavailable", store=store.name, kind=kind, decisions=len(records),
                    first_decision_id=records[0].decision_id, error=str(exc))
        return False
    return True
