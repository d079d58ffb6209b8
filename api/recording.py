"""Appending decisions to the decision log before the answer goes out.

The write happens before the response, so a decision the caller has seen is one that is stored.
Writes go through the service's group-commit writer (decisionlog.group_commit): concurrent
requests share one commit. If the log cannot take them (read-only disk, locked file, database
down), the caller still gets the decision, with ``recorded: false``, and a warning is logged —
with ids and counts only.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Sequence

from api.deps import Service
from api.logs import log
from api.metadata import NONE, CallerMetadata
from decisionlog import DecisionRecord, LogUnavailable
from decisionlog.base import CardRef
from engine import Decision, Profile


def record(service: Service, pairs: Sequence[tuple[Decision, Profile]], kind: str,
           metas: Sequence[CallerMetadata] | None = None) -> bool:
    """Store the decisions (one transaction), waiting in this thread; True when they are stored.
    ``metas``, when given, holds the caller's metadata of each decision, in the same order."""
    pending = _submit(service, pairs, kind, metas)
    if pending is None:
        return False
    try:
        pending[1].result()
    except LogUnavailable as exc:
        return _unavailable(service, pending[0], kind, exc)
    return True


async def record_async(service: Service, pairs: Sequence[tuple[Decision, Profile]], kind: str,
                       metas: Sequence[CallerMetadata] | None = None, cards: Sequence[CardRef] = ()) -> bool:
    """``record`` for routes that run on the event loop: the loop serves others while the commit runs.
    ``cards``: the CDS cards of a single decision, stored with it."""
    pending = _submit(service, pairs, kind, metas, cards)
    if pending is None:
        return False
    try:
        await asyncio.wrap_future(pending[1])
    except LogUnavailable as exc:
        return _unavailable(service, pending[0], kind, exc)
    return True


def _submit(service: Service, pairs: Sequence[tuple[Decision, Profile]], kind: str,
            metas: Sequence[CallerMetadata] | None = None, cards: Sequence[CardRef] = ()
            ) -> tuple[list[DecisionRecord], Future] | None:
    if service.decision_writer is None or not pairs:
        return None
    records = [
        decision_record(service, decision, profile, kind, metas[i] if metas else NONE, tuple(cards) if i == 0 else ())
        for i, (decision, profile) in enumerate(pairs)
    ]
    return records, service.decision_writer.submit(records)


def decision_record(service: Service, decision: Decision, profile: Profile, kind: str,
                    meta: CallerMetadata = NONE, cards: tuple[CardRef, ...] = (), job_id: str | None = None
                    ) -> DecisionRecord:
    """What the decision log stores of one decision: the decision, the caller's metadata, and the
    profile only when the operator turned profile storage on."""
    keep_profiles = service.settings.decision_log_store_profiles
    return DecisionRecord(
        decision_id=decision.decision_id, evaluated_at=decision.evaluated_at,
        ruleset_version=decision.ruleset_version, profile_digest=decision.profile_digest,
        status=decision.summary.status, kind=kind, decision_json=decision.model_dump_json(),
        profile_json=profile.model_dump_json(exclude_none=True) if keep_profiles else None,
        external_id=meta.external_id, labels_json=meta.labels_json(), job_id=job_id, cards=cards,
    )


def _unavailable(service: Service, records: list[DecisionRecord], kind: str, exc: LogUnavailable) -> bool:
    log.warning("decision_log_unavailable", store=service.decision_log.name, kind=kind, decisions=len(records),
                first_decision_id=records[0].decision_id, error=str(exc))
    return False
