"""Batch evaluation for grant portals and TA providers: many profiles, one request.

Each item is validated on its own, so one bad profile yields an error for that item and a
decision for every other; results keep the order of the items. The size limit
(``Settings.batch_max_items``) is checked before any work, so an oversized batch costs nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.problems import Problem, invalid_document
from api.profiles import validate_item
from engine import Decision, Evaluator, Profile
from engine.spec import Severity

ITEM_PROBLEMS = 10
BATCH_PROBLEMS = 200
"""Problems listed across one batch's invalid items (each item lists at least one and at most
``ITEM_PROBLEMS``, and counts the rest), so a batch of broken items gets a bounded answer."""


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[Any] = Field(
        min_length=1,
        description="Program profiles (see the `Profile` schema, or `GET /v1/schema/profile`). Each is validated "
        "on its own: an invalid item gets an `error`, the others are still evaluated. At most "
        "`batch_max_items` (default 1,000) per request.",
    )


class BatchItemResult(BaseModel):
    index: int = Field(description="Position of the item in `items` (from 0).")
    decision: Decision | None = Field(default=None, description="The decision, when the item is a valid profile.")
    error: Problem | None = Field(
        default=None,
        description="Problem details when the item is not a valid profile; `errors[].pointer` points into the item itself, as for a single evaluation.",
    )


class BatchSummary(BaseModel):
    items: int
    ok: int = Field(description="Items evaluated.")
    invalid: int = Field(description="Items rejected with an error.")
    by_status: dict[str, int] = Field(description="Evaluated items by decision status (`needs_attention`, `incomplete`, `pass`).")
    open_findings_by_severity: dict[str, int] = Field(description="Open (not acknowledged) findings across all items, by severity.")
    acknowledged: int = Field(description="Acknowledged findings across all items.")
    needs_information: int = Field(description="Rule × subject pairs that need information, across all items.")


class BatchResult(BaseModel):
    ruleset_version: str
    summary: BatchSummary
    results: list[BatchItemResult] = Field(description="One per item, in the order of `items`.")
    recorded: bool = Field(description="All decisions of the batch were stored in the decision log (one transaction).")


def evaluate_items(evaluator: Evaluator, items: list[Any]) -> tuple[list[BatchItemResult], list[tuple[Decision, Profile]]]:
    """Decisions or errors, in item order; also the (decision, profile) pairs to record."""
    results: list[BatchItemResult] = []
    pairs: list[tuple[Decision, Profile]] = []
    budget = BATCH_PROBLEMS
    for index, item in enumerate(items):
        checked = validate_item(item, evaluator.ruleset, limit=max(1, min(ITEM_PROBLEMS, budget)))
        if isinstance(checked, Profile):
            decision = evaluator.evaluate(checked)
            pairs.append((decision, checked))
            results.append(BatchItemResult(index=index, decision=decision))
        else:
            budget -= len(checked.problems)
            results.append(BatchItemResult(index=index, error=invalid_document(checked)))
    return results, pairs


def summarise(results: list[BatchItemResult]) -> BatchSummary:
    by_status = {"needs_attention": 0, "incomplete": 0, "pass": 0}
    by_severity = {s.value: 0 for s in Severity}
    acknowledged = needs = ok = 0
    for result in results:
        decision = result.decision
        if decision is None:
            continue
        ok += 1
        by_status[decision.summary.status] += 1
        for severity, count in decision.summary.by_severity.items():
            by_severity[severity] += count
        acknowledged += decision.summary.acknowledged
        needs += decision.summary.needs_information
    return BatchSummary(items=len(results), ok=ok, invalid=len(results) - ok, by_status=by_status,
                        open_findings_by_severity=by_severity, acknowledged=acknowledged, needs_information=needs)
