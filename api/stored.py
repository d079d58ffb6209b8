"""Stored decisions read back: a decision-log record rendered with the texts of its ruleset
version (engine/audit.py), for ``GET /v1/evaluations/{id}`` and its report.

The texts of the loaded ruleset are kept in the log once, at start-up; those of other versions
(decisions made before a rule change, or by another replica) are read from the log when first
needed and remembered. At start-up, records written whole by an older PeerCheck are rewritten
as audit records, so the log keeps no personal data from before either.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from api.logs import log
from decisionlog import DecisionLog, LogUnavailable
from decisionlog import StoredDecision as StoredRow
from engine import Profile, Ruleset
from engine.audit import RECORD_FORMAT, Restored, from_legacy, restore, ruleset_texts

CACHED_VERSIONS = 8


class RulesetTexts:
    """The texts of ruleset versions: the loaded one built in memory, others read from the log
    (a few remembered)."""

    def __init__(self, ruleset: Ruleset):
        self.version = ruleset.version
        self.current = ruleset_texts(ruleset)
        self.current_json = json.dumps(self.current, separators=(",", ":"), ensure_ascii=False)
        self._others: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, version: str, store: DecisionLog) -> dict[str, Any] | None:
        """The texts of ``version``, or None when the log does not have them (LogUnavailable
        when it cannot be read)."""
        if version == self.version:
            return self.current
        with self._lock:
            if version in self._others:
                self._others.move_to_end(version)
                return self._others[version]
        text = store.get_texts(version)
        texts = json.loads(text) if text is not None else None
        with self._lock:
            self._others[version] = texts
            while len(self._others) > CACHED_VERSIONS:
                self._others.popitem(last=False)
        return texts


@dataclass(frozen=True)
class Stored:
    """A stored decision as the API shows it."""

    row: StoredRow
    restored: Restored
    profile: dict[str, Any] | None


def prepare(store: DecisionLog, texts: RulesetTexts) -> None:
    """At start-up: keep the loaded ruleset's texts, and rewrite records of older formats."""
    store.put_texts(texts.version, texts.current_json)

    def upgrade(text: str, version: str) -> str:
        record = from_legacy(json.loads(text), embed_texts=version != texts.version)
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False)

    upgraded = store.upgrade_records(upgrade, RECORD_FORMAT)
    if upgraded:
        log.info("decision_log_upgraded", store=store.name, records=upgraded, record_format=RECORD_FORMAT)


def _profile(stored: dict[str, Any] | None) -> Profile | None:
    """The stored profile as a model, or None (also when it no longer validates: the answer then
    shows it as stored, and renders the decision as without it)."""
    if stored is None:
        return None
    try:
        return Profile.model_validate(stored)
    except ValueError:
        return None


def load(service, decision_id: str, placeholder_ids: bool = False) -> Stored:
    """The stored decision rendered, or the 404/503 problem that explains why not."""
    store = service.decision_log
    if store is None:
        raise HTTPException(404, "the decision log is disabled on this server: decisions are not stored")
    try:
        row = store.get(decision_id)
        texts = None if row is None else service.texts.of(row.ruleset_version, store)
    except LogUnavailable as exc:
        log.warning("decision_log_unavailable", store=store.name, operation="get", error=str(exc))
        raise HTTPException(503, "the decision log cannot be read right now") from None
    if row is None:
        raise HTTPException(404, f"no stored decision with id {decision_id} (unknown, or older than the retention period)")
    record = row.decision
    if row.record_format < RECORD_FORMAT:  # not upgraded yet (start-up could not): read it as it would be
        record = from_legacy(record, embed_texts=texts is None)
    try:
        restored = restore(record, texts, _profile(row.profile), placeholder_ids=placeholder_ids,
                           ranker=service.evaluator.ranker)
    except KeyError:
        log.warning("decision_log_texts_missing", decision_id=decision_id, ruleset_version=row.ruleset_version)
        raise HTTPException(503, f"the decision log lacks the rule texts of ruleset version {row.ruleset_version}, "
                                 "which this decision refers to") from None
    return Stored(row, restored, row.profile)
