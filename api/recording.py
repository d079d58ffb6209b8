"""Appending decisions to the decision log before the answer goes out.

The write happens before the response, so a decision the caller has seen is one that is stored.
What is stored is the decision's audit record (engine/audit.py): rule ids, subjects by position,
severities, non-identifying evidence and counts; texts by reference to the ruleset version; the
profile only when the operator keeps profiles. Writes go through the service's group-commit
writer (decisionlog.group_commit): concurrent requests share one commit. If the log cannot take
them (read-only disk, locked file, database down, size budget reached), the caller still gets the
decision, with ``recorded: false``; the writer logs a warning when the log becomes unavailable
and when it recovers, and each unrecorded decision is logged by id.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Sequence

from starlette.concurrency import run_in_threadpool

from api.deps import Service
from api.evaluating import LOOP_MAX_PEERS
from api.logs import log
from api.metadata import NONE, CallerMetadata
from decisionlog import DecisionRecord, LogUnavailable
from decisionlog.base import CardRef
from engine import Decision, Profile
from engine.audit import RECORD_FORMAT, audit_json


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
    """``record`` for routes that run on the event loop: the loop serves others while the commit
    runs, and while the record of a large profile is written (tens of ms for 500 peers).
    ``cards``: the CDS cards of a single decision, stored with it."""
    if sum(len(profile.peers) for _, profile in pairs) > LOOP_MAX_PEERS:
        pending = await run_in_threadpool(_submit, service, pairs, kind, metas, cards)
    else:
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
    """What the decision log stores of one decision: its audit record, the caller's metadata, and
    the profile only when the operator turned profile storage on."""
    keep_profiles = service.settings.decision_log_store_profiles
    return DecisionRecord(
        decision_id=decision.decision_id, evaluated_at=decision.evaluated_at,
        ruleset_version=decision.ruleset_version, profile_digest=decision.profile_digest,
        status=decision.summary.status, kind=kind, record_format=RECORD_FORMAT,
        decision_json=audit_json(decision, profile),
        profile_json=profile.model_dump_json(exclude_none=True) if keep_profiles else None,
        external_id=meta.external_id, labels_json=meta.labels_json(), job_id=job_id, cards=cards,
    )


def _unavailable(service: Service, records: list[DecisionRecord], kind: str, exc: LogUnavailable) -> bool:
    log.info("decision_not_recorded", store=service.decision_log.name, kind=kind, decisions=len(records),
             first_decision_id=records[0].decision_id, reason=str(exc))
    return False
