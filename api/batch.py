"""Batch evaluation for grant portals and TA providers: many profiles, one request (or one job).

Each item is validated on its own, so one bad profile yields an error for that item and a
decision for every other; results keep the order of the items. The size limit
(``Settings.batch_max_items``) is checked before any work, so an oversized batch costs nothing.

An item is a profile, or ``{"profile": ..., "external_id": ..., "labels": {...}}`` when the caller
wants its own id and labels echoed and stored (api/metadata.py). The OpenAPI document types items as
exactly that (``BatchItem`` or ``Profile``) even though the request model accepts any JSON per item:
that is what lets one invalid item come back as that item's error instead of failing the request.

``fail_on`` (a severity) gives each item a ``verdict``: ``fail`` when it has an open finding at or
above it (``failing_rules`` says which rules), ``pass`` otherwise, ``invalid`` for an item that is
not a valid profile — the CLI's ``--fail-on``, per item. ``view=summary`` leaves the findings out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.metadata import EXTERNAL_ID_DOC, LABELS_DOC, NONE, CallerMetadata, ExternalId, Labels
from api.problems import Problem, invalid_document
from api.profiles import validate_item
from engine import Decision, Evaluator, Profile
from engine.construct import built
from engine.encoding import decision_json, members
from engine.evaluate import NeedsInformation, Summary
from engine.spec import Severity
from engine.validation import InvalidDocument, validate
from report.format import failing_rules

View = Literal["full", "summary"]
Detail = Literal["questions", "rules"]
DETAIL_DOC = ("`questions` (default): rules that need information come grouped by the field to fill in, in each "
              "decision's `questions`; `rules`: also one by one, per rule and subject, in `needs_information`.")
Verdict = Literal["pass", "fail", "invalid"]
VIEW_DOC = "`full` (default): every decision in full; `summary`: per item only its id, status, counts and verdict."
FAIL_ON_DOC = ("Give every item a `verdict`: `fail` when it has an open (not acknowledged) finding at or above this "
               "severity, with the rules in `failing_rules`; `pass` otherwise; `invalid` for an invalid item.")


class BatchItem(BaseModel):
    """A batch item with the caller's own id and labels."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    external_id: ExternalId | None = Field(default=None, description=EXTERNAL_ID_DOC)
    labels: Labels | None = Field(default=None, description=LABELS_DOC)


ITEM_PROBLEMS = 10
BATCH_PROBLEMS = 200
"""Problems listed across one batch's invalid items (each item lists at least one and at most
``ITEM_PROBLEMS``, and counts the rest), so a batch of broken items gets a bounded answer."""

ITEM_SCHEMA = {"anyOf": [{"$ref": "#/components/schemas/BatchItem"}, {"$ref": "#/components/schemas/Profile"}]}
AnyItem = Annotated[Any, WithJsonSchema(ITEM_SCHEMA)]


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[AnyItem] = Field(
        min_length=1,
        description="Program profiles, each bare or wrapped as a `BatchItem` with the caller's `external_id` and "
        "`labels`. Each is validated on its own: an invalid item gets an `error`, the others are still evaluated. "
        "At most `batch_max_items` (default 1,000) per request.",
    )
    labels: Labels | None = Field(default=None, description="Labels for every item (an item's own labels win).")


class Verdicts(BaseModel):
    verdict: Verdict | None = Field(default=None, description="With `fail_on`: `pass`, `fail` or `invalid`.")
    failing_rules: list[str] | None = Field(
        default=None, description="With `fail_on`: the rules with an open finding at or above it (why it fails).")


class AnsweredDecision(Decision):
    """A decision as an answer carries it: the per-rule needs only when asked for (``detail=rules``)."""

    needs_information: list[NeedsInformation] | None = Field(
        default=None, description="With `detail=rules` only: each rule that could not be judged, on each subject, with "
        "the fields it needs. By default the answer carries the same needs grouped by field in `questions` "
        "(`waiting` names the rules and peers), and `summary.needs_information` counts them.")


class BatchItemResult(Verdicts):
    index: int = Field(description="Position of the item in `items` (from 0).")
    external_id: str | None = Field(default=None, description="The item's `external_id`, echoed.")
    labels: dict[str, str] | None = Field(default=None, description="The item's labels (with the batch's), echoed.")
    decision: AnsweredDecision | None = Field(default=None, description="The decision, when the item is a valid profile.")
    error: Problem | None = Field(
        default=None,
        description="Problem details when the item is not a valid profile; `errors[].pointer` points into the item itself, as for a single evaluation.",
    )


class ItemBrief(Verdicts):
    """An item's result without its findings (``view=summary``)."""

    index: int
    external_id: str | None = None
    labels: dict[str, str] | None = None
    decision_id: str | None = Field(default=None, description="Fetch the whole decision with `GET /v1/evaluations/{decision_id}`.")
    status: str | None = Field(default=None, description="The decision's status; none for an invalid item.")
    summary: Summary | None = None
    error: Problem | None = None


class BatchSummary(BaseModel):
    items: int
    ok: int = Field(description="Items evaluated.")
    invalid: int = Field(description="Items rejected with an error.")
    by_status: dict[str, int] = Field(description="Evaluated items by decision status (`needs_attention`, `incomplete`, `pass`).")
    open_findings_by_severity: dict[str, int] = Field(description="Open (not acknowledged) findings across all items, by severity.")
    acknowledged: int = Field(description="Acknowledged findings across all items.")
    needs_information: int = Field(description="Rule × subject pairs that need information, across all items.")
    failing: int | None = Field(default=None, description="With `fail_on`: evaluated items whose verdict is `fail`.")


class BatchResult(BaseModel):
    ruleset_version: str
    summary: BatchSummary
    results: list[BatchItemResult] | list[ItemBrief] = Field(
        description="One per item, in the order of `items`; `ItemBrief`s with `view=summary`.")
    recorded: bool = Field(description="All decisions of the batch were stored in the decision log (one transaction).")


def check_item(item: Any, evaluator: Evaluator, limit: int = ITEM_PROBLEMS
               ) -> tuple[Profile, CallerMetadata] | InvalidDocument:
    """A batch item: its profile and metadata, or its problems (pointers relative to the item)."""
    if isinstance(item, dict) and "profile" in item and "schema_version" not in item:
        meta_fields = {k: v for k, v in item.items() if k != "profile"}
        problems, total = [], 0
        meta = NONE
        try:
            meta = validate(meta_fields, CallerMetadata, limit=limit)
        except InvalidDocument as exc:
            problems, total = list(exc.problems), exc.total
        checked = validate_item(item["profile"], evaluator.ruleset, limit=max(1, limit - len(problems)))
        if isinstance(checked, InvalidDocument):
            problems += [replace(p, pointer="/profile" + p.pointer) for p in checked.problems]
            total += checked.total
        return InvalidDocument(problems, total) if problems else (checked, meta)
    checked = validate_item(item, evaluator.ruleset, limit=limit)
    return checked if isinstance(checked, InvalidDocument) else (checked, NONE)


def invalid_item_metadata(item: Any, labels: dict[str, str] | None) -> CallerMetadata:
    """What an invalid item echoes: its own external id and labels where those are valid, over the
    batch's labels; only the batch's labels when its own are not."""
    own: dict[str, Any] = {}
    if isinstance(item, dict) and "profile" in item:
        for name in ("external_id", "labels"):
            try:
                own.update(validate({name: item[name]}, CallerMetadata).model_dump(include={name}))
            except (KeyError, InvalidDocument):
                pass
    return CallerMetadata(**own).merged_over(labels)


def verdict(decision: Decision | None, fail_on: str | None) -> Verdicts:
    if fail_on is None:
        return Verdicts()
    if decision is None:
        return Verdicts(verdict="invalid")
    rules = failing_rules(decision, fail_on)
    return Verdicts(verdict="fail" if rules else "pass", failing_rules=rules)


def evaluate_items(evaluator: Evaluator, items: list[Any], labels: dict[str, str] | None = None,
                   fail_on: str | None = None, start: int = 0
                   ) -> tuple[list[BatchItemResult], list[tuple[Decision, Profile]], list[CallerMetadata]]:
    """Decisions or errors, in item order; also the (decision, profile) pairs to record and their
    metadata. ``start`` is the index of the first item (a job works through its items in chunks)."""
    results: list[BatchItemResult] = []
    pairs: list[tuple[Decision, Profile]] = []
    metas: list[CallerMetadata] = []
    budget = BATCH_PROBLEMS
    for offset, item in enumerate(items):
        index = start + offset
        checked = check_item(item, evaluator, limit=max(1, min(ITEM_PROBLEMS, budget)))
        if isinstance(checked, InvalidDocument):
            budget -= len(checked.problems)
            meta = invalid_item_metadata(item, labels)
            results.append(BatchItemResult(index=index, external_id=meta.external_id, labels=meta.labels,
                                           error=invalid_document(checked), **verdict(None, fail_on).model_dump()))
            continue
        profile, meta = checked
        meta = meta.merged_over(labels)
        decision = evaluator.evaluate(profile)
        pairs.append((decision, profile))
        metas.append(meta)
        results.append(BatchItemResult(index=index, external_id=meta.external_id, labels=meta.labels,
                                       decision=built(AnsweredDecision, decision.__dict__),
                                       **verdict(decision, fail_on).model_dump()))
    return results, pairs, metas


def brief(result: BatchItemResult) -> ItemBrief:
    decision = result.decision
    return ItemBrief(index=result.index, external_id=result.external_id, labels=result.labels,
                     decision_id=decision.decision_id if decision else None,
                     status=decision.summary.status if decision else None,
                     summary=decision.summary if decision else None, error=result.error,
                     verdict=result.verdict, failing_rules=result.failing_rules)


def shaped(results: list[BatchItemResult], view: View) -> list[BatchItemResult] | list[ItemBrief]:
    return [brief(r) for r in results] if view == "summary" else results


def answer_json(result: BatchResult, detail: Detail) -> bytes:
    """A ``view=full`` batch answer as pydantic writes it (with ``leaner``'s exclusions), each
    decision written by ``engine.encoding.decision_json`` from the pieces it keeps (questions,
    needs information): for a batch of varied profiles most of the answer."""
    head = result.__pydantic_serializer__.to_json(result, include={"ruleset_version", "summary"})
    items = []
    for item in result.results:
        written = item.__pydantic_serializer__.to_json(item, include=_BEFORE_DECISION)
        decision = b"null" if item.decision is None else decision_json(item.decision, rules=detail == "rules")
        items.append(b"".join((written[:-1], b',"decision":', decision, members(item, include={"error"}), b"}")))
    return b"".join((head[:-1], b',"results":[', b",".join(items), b"]",
                     members(result, include={"recorded"}), b"}"))


_ITEM_FIELDS = ("verdict", "failing_rules", "index", "external_id", "labels", "decision", "error")
assert tuple(BatchItemResult.model_fields) == _ITEM_FIELDS, "answer_json writes an item's fields in this order"
_BEFORE_DECISION = set(_ITEM_FIELDS[:5])


def leaner(view: View, detail: Detail) -> dict[str, Any] | None:
    """What a batch answer leaves out of each decision: the per-rule needs unless ``detail=rules``."""
    if view == "full" and detail == "questions":
        return {"results": {"__all__": {"decision": {"needs_information"}}}}
    return None


def summarise(results: list[BatchItemResult] | list[ItemBrief], fail_on: str | None = None) -> BatchSummary:
    by_status = {"needs_attention": 0, "incomplete": 0, "pass": 0}
    by_severity = {s.value: 0 for s in Severity}
    acknowledged = needs = ok = failing = 0
    for result in results:
        summary = result.decision.summary if isinstance(result, BatchItemResult) and result.decision else \
            result.summary if isinstance(result, ItemBrief) else None
        if summary is None:
            continue
        ok += 1
        by_status[summary.status] += 1
        for severity, count in summary.by_severity.items():
            by_severity[severity] += count
        acknowledged += summary.acknowledged
        needs += summary.needs_information
        failing += result.verdict == "fail"
    return BatchSummary(items=len(results), ok=ok, invalid=len(results) - ok, by_status=by_status,
                        open_findings_by_severity=by_severity, acknowledged=acknowledged, needs_information=needs,
                        failing=failing if fail_on else None)


def openapi_components() -> dict[str, Any]:
    """``BatchItem``, which items reference by name (``ITEM_SCHEMA``) though no route takes it whole."""
    schema = BatchItem.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # Profile and its parts are already components
    return {"BatchItem": schema}
