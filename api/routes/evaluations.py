"""Evaluation routes, thin: validate, call the engine, record the decision, shape the answer."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from api import batch as batching
from api import compare as comparing
from api import metadata, stored
from api.deps import Service, get_service
from api.evaluating import run_nearby
from api.explain import Explanation, explain
from api.idempotency import IdempotentRoute
from api.logs import log
from api.problems import FieldProblem, ProblemError, responses
from api.profiles import check_request_profiles
from api.recording import record, record_async
from api.responses import model_response
from decisionlog import LogUnavailable
from decisionlog import feedback as stored_feedback
from decisionlog.decisions import LIST_MAX, DecisionFilter, list_decisions
from engine import Decision, Finding, Profile
from engine.construct import built
from engine.encoding import decision_json, members
from engine.evaluate import Summary
from engine.spec import Severity

router = APIRouter(prefix="/v1", tags=["evaluations"], route_class=IdempotentRoute)

EXAMPLE = {
    "schema_version": "1.0",
    "program": {"name": "County Recovery Court Peer Program", "state": "OH", "host_agency": "treatment_court",
                "intercepts": [3], "referral_pathways": ["voluntary", "court_ordered"], "funding": ["cossap", "medicaid"]},
    "peers": [{"id": "p1", "title": "Peer Recovery Specialist", "fte": 0.5, "employer": "justice_agency",
               "certification": "in_progress", "active_caseload": 25,
               "duties": ["peer_support_group", "attend_court", "administer_drug_test"], "other_roles": ["van_driver"]}],
    "supervision": {"frequency": "monthly", "functions": ["administrative"], "peer_network_contact": "none"},
    "policies": {"written_job_description": False, "consent_protocol": False, "safety_protocol": True},
}
SMALL = {
    "schema_version": "1.1",
    "program": {"name": "Jail Reentry Peer Program", "state": "FL", "referral_pathways": ["voluntary"]},
    "peers": [{"id": "a", "title": "Peer Support Specialist", "fte": 1, "active_caseload": 22},
              {"id": "b", "title": "Peer Support Specialist", "fte": 1, "active_caseload": 35}],
}
AFTER = {
    **EXAMPLE,
    "program": {**EXAMPLE["program"], "referral_pathways": ["voluntary"]},
    "peers": [{**EXAMPLE["peers"][0], "duties": ["peer_support_group", "attend_court"], "other_roles": []}],
    "policies": {"written_job_description": True, "consent_protocol": True, "safety_protocol": True},
}
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


RECORDED_DOC = ("The decision is stored in the decision log (`GET /v1/evaluations/{decision_id}`). False when the log "
                "is disabled or unavailable; the decision itself is still valid.")


class CallerEcho(batching.Verdicts):
    external_id: str | None = Field(default=None, description="The `external_id` sent with the request, echoed.")
    labels: dict[str, str] | None = Field(default=None, description="The labels sent with the request, echoed.")


class EvaluationResult(CallerEcho, batching.AnsweredDecision):
    recorded: bool = Field(description=RECORDED_DOC)
    explanation: list[Explanation] | None = Field(
        default=None, description="With `explain=true`: every rule on every subject in its scope, with its outcome and why.",
    )


class _Tail(CallerEcho):
    """What an evaluation's answer adds after the decision's own members, in ``EvaluationResult``'s order."""

    recorded: bool
    explanation: list[Explanation] | None


ECHO = frozenset(_Tail.model_fields)
assert tuple(EvaluationResult.model_fields)[-len(ECHO):] == tuple(_Tail.model_fields)


class EvaluationBrief(CallerEcho):
    """A decision without its findings (``view=summary``)."""

    decision_id: str
    evaluated_at: datetime
    ruleset_version: str
    profile_digest: str
    summary: Summary
    recorded: bool = Field(description=RECORDED_DOC)


class CardFeedback(BaseModel):
    card: str = Field(description="The card's `uuid`.")
    outcome: Literal["accepted", "overridden"]
    outcome_timestamp: str
    rule_id: str
    subject: str = Field(description="JSON pointer of the finding's subject ('' for the program).")
    reason_code: str | None = Field(default=None, description="The override reason's code.")
    reason: str | None = Field(default=None, description="The override reason in words.")
    client: str = Field(description="The CDS client that reported it.")


class StoredFinding(Finding):
    finding_id: str | None = Field(
        description="Stable id of this rule on this subject, as in the original answer. Null when it derives from the "
        "peer's `id`, which the decision log does not keep unless the server stores profiles.",
    )


class StoredDecision(Decision):
    findings: list[StoredFinding]
    kind: str = Field(description="Which endpoint produced it: `evaluation`, `batch`, `batch-job`, `compare`, `cds` or `report`.")
    logged_at: datetime
    external_id: str | None = Field(default=None, description="The caller's `external_id`, as sent.")
    labels: dict[str, str] | None = Field(default=None, description="The caller's labels, as sent.")
    job_id: str | None = Field(default=None, description="The batch job the decision belongs to.")
    feedback: list[CardFeedback] = Field(
        default_factory=list, description="For a CDS decision: what users did with its cards, as CDS clients reported it.")
    profile: dict[str, Any] | None = Field(description="The profile, only when the server stores profiles (off by default).")
    withheld: list[str] = Field(
        description="What this answer does not show because the decision log does not keep it (peer ids and titles, "
        "time in recovery, acknowledgement reasons…), in plain words; empty when the server stores profiles.",
    )


class ListedDecision(BaseModel):
    decision_id: str
    evaluated_at: datetime
    logged_at: datetime
    ruleset_version: str
    status: str
    kind: str
    external_id: str | None = None
    labels: dict[str, str] | None = None
    job_id: str | None = None
    summary: Summary


class DecisionPage(BaseModel):
    decisions: list[ListedDecision] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


ExternalIdQuery = Annotated[str | None, Query(description=metadata.EXTERNAL_ID_DOC, min_length=1, max_length=200)]
LabelQuery = Annotated[list[str], Query(alias="label", description=metadata.LABEL_QUERY_DOC + " " + metadata.LABELS_DOC)]
ViewQuery = Annotated[batching.View, Query(description=batching.VIEW_DOC)]
FailOnQuery = Annotated[Severity | None, Query(description=batching.FAIL_ON_DOC)]
DetailQuery = Annotated[batching.Detail, Query(description=batching.DETAIL_DOC)]


@router.post(
    "/evaluations",
    response_model=EvaluationResult | EvaluationBrief,
    summary="Evaluate a program profile",
    description="Checks one program profile against every rule and returns the decision: findings with "
    "evidence, remediation and citations, rules that need more information, and a summary. The decision is "
    "stored in the decision log before the answer is sent (`recorded`). With `explain=true` the answer also lists "
    "every rule's outcome on every subject — fired, passed, not applicable (and why), needs information (which fields). "
    "`external_id` and `label` attach the caller's own id and labels (echoed, stored, searchable); `view=summary` answers "
    "without the findings; `fail_on` adds a pass/fail `verdict` with the `failing_rules`. Rules that need information "
    "come grouped by the field to fill in (`questions`); `detail=rules` adds them one by one (`needs_information`).",
    responses=responses(422),
)
async def evaluate(
    profile: Annotated[Profile, Body(openapi_examples={"mixed": {"summary": "A program with several risks", "value": EXAMPLE}})],
    explain_all: Annotated[bool, Query(alias="explain", description="Also return every rule's outcome and why.")] = False,
    external_id: ExternalIdQuery = None,
    labels: LabelQuery = [],  # noqa: B006 - FastAPI copies defaults
    view: ViewQuery = "full",
    fail_on: FailOnQuery = None,
    detail: DetailQuery = "questions",
    service: Service = Depends(get_service),
) -> Response:
    meta = metadata.from_query(external_id, labels)
    check_request_profiles(service.ruleset, profile=(profile, ("body",)))
    decision = await run_nearby(profile, service.evaluator.evaluate, profile)
    recorded = await record_async(service, [(decision, profile)], "evaluation", [meta])
    log.info("evaluated", decision_id=decision.decision_id, ruleset_version=decision.ruleset_version,
             engine=decision.engine, findings=decision.summary.findings,
             needs_information=decision.summary.needs_information, status=decision.summary.status,
             recorded=recorded, explain=explain_all)
    if decision.engine_errors:
        log.error("engine_errors", decision_id=decision.decision_id, count=len(decision.engine_errors),
                  rules=sorted({e.rule_id for e in decision.engine_errors}))
    echo = {"external_id": meta.external_id, "labels": meta.labels,
            **batching.verdict(decision, fail_on.value if fail_on else None).model_dump()}
    if view == "summary":
        return model_response(EvaluationBrief(
            decision_id=decision.decision_id, evaluated_at=decision.evaluated_at, ruleset_version=decision.ruleset_version,
            profile_digest=decision.profile_digest, summary=decision.summary, recorded=recorded, **echo))
    explanation = await run_nearby(profile, explain, service.evaluator, profile, decision) if explain_all else None
    unasked = {name for name, value in echo.items() if value is None}  # the answer grows only by what was asked for
    tail = members(built(_Tail, {"recorded": recorded, "explanation": explanation, **echo}), include=ECHO - unasked)
    return Response(decision_json(decision, rules=detail == "rules", tail=tail), media_type="application/json")


@router.post(
    "/evaluations:batch",
    response_model=batching.BatchResult,
    summary="Evaluate many profiles",
    description="Evaluates up to `batch_max_items` profiles (default 1,000) in one request, for grant portals "
    "and TA providers. An item is a profile, or a `BatchItem` carrying the caller's `external_id` and `labels` "
    "(echoed and stored). Each item is validated on its own: an invalid item gets an `error` (problem details whose "
    "pointers point into that item) and every other item still gets its decision, with its own `decision_id`. "
    "Results keep the order of `items`; `summary` counts statuses and open findings across the batch. `view=summary` "
    "leaves the findings out; `fail_on` gives each item a pass/fail `verdict` with its `failing_rules`; `detail=rules` adds "
    "each decision's per-rule `needs_information` (by default they come grouped by field in `questions`). More items "
    "than allowed: 413, nothing evaluated (larger submissions go to `POST /v1/batch-jobs`).",
    responses=responses(413, 422),
)
def evaluate_batch(
    body: Annotated[batching.BatchRequest, Body(openapi_examples={"mixed": {
        "summary": "Two valid profiles (one with the portal's id and labels) and one invalid (fte above 1)",
        "value": {"items": [{"profile": EXAMPLE, "external_id": "APP-2025-0042", "labels": {"cycle": "2025"}}, SMALL,
                            {**SMALL, "peers": [{"title": "Peer Support Specialist", "fte": 2}]}]},
    }})],
    view: ViewQuery = "full",
    fail_on: FailOnQuery = None,
    detail: DetailQuery = "questions",
    service: Service = Depends(get_service),
) -> Response:
    limit = service.settings.batch_max_items
    if len(body.items) > limit:
        raise ProblemError(413, "too-many-items", "Too many items",
                           f"{len(body.items)} items in one batch; at most {limit} are allowed: split the batch, "
                           "or submit it as a job (POST /v1/batch-jobs)",
                           [FieldProblem(pointer="/items", detail=f"at most {limit} items")])
    threshold = fail_on.value if fail_on else None
    results, pairs, metas = batching.evaluate_items(service.evaluator, body.items, body.labels, threshold)
    recorded = record(service, pairs, "batch", metas)
    summary = batching.summarise(results, threshold)
    log.info("evaluated_batch", items=summary.items, ok=summary.ok, invalid=summary.invalid,
             ruleset_version=service.ruleset.version, recorded=recorded, **{f"status_{k}": v for k, v in summary.by_status.items()})
    answer = batching.BatchResult(ruleset_version=service.ruleset.version, summary=summary,
                                  results=batching.shaped(results, view), recorded=recorded)
    if view == "full":
        return Response(batching.answer_json(answer, detail), media_type="application/json")
    return model_response(answer)


@router.post(
    "/evaluations:compare",
    response_model=comparing.Comparison,
    summary="What-if: compare two versions of a program",
    description="Evaluates `before` and `after` and sorts the findings by `finding_id` (rule + subject): `resolved` "
    "(only before, the rule now passes or no longer applies), `remaining` (both), `new` (only after), `undecided` "
    "(only before, but the rule can no longer be judged: the change removed an answer it needs — absent data is "
    "not compliance). Give peers an `id` if the change adds, removes or "
    "reorders peers, so each peer is matched to itself. Acknowledging a risk does not resolve it.",
    responses=responses(422),
)
def compare(
    body: Annotated[comparing.CompareRequest, Body(openapi_examples={"fixes": {
        "summary": "Make referral voluntary, drop drug testing and van driving, write the policies",
        "value": {"before": EXAMPLE, "after": AFTER},
    }})],
    service: Service = Depends(get_service),
) -> comparing.Comparison:
    check_request_profiles(service.ruleset, before=(body.before, ("body", "before")), after=(body.after, ("body", "after")))
    before = service.evaluator.evaluate(body.before)
    after = service.evaluator.evaluate(body.after)
    recorded = record(service, [(before, body.before), (after, body.after)], "compare")
    changes = comparing.compare(before, after)
    log.info("compared", before_decision_id=before.decision_id, after_decision_id=after.decision_id,
             **{name: len(found) for name, found in changes._asdict().items()}, recorded=recorded)
    return comparing.Comparison(before=comparing.brief(before), after=comparing.brief(after), **changes._asdict(),
                                recorded=recorded)


@router.get(
    "/evaluations/{decision_id}",
    response_model=StoredDecision,
    summary="A stored decision",
    description="The decision, rendered from its record in the decision log with the texts of the ruleset version "
    "that made it. The log keeps no personal data unless the server stores profiles: peers are then named by "
    "position, and `withheld` says what is not shown. With profiles stored, the answer is the decision as it was "
    "returned, plus the profile. 404 when the id is unknown, expired (retention) or the log is disabled; 503 when "
    "the log cannot be read.",
    responses=responses(404, 422, 503),
)
def get_decision(
    decision_id: Annotated[str, Path(pattern=UUID_PATTERN, description="The `decision_id` of an earlier answer.",
                                     openapi_examples={"id": {"summary": "A decision id (use one from an evaluation)",
                                                              "value": "3f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c"}})],
    service: Service = Depends(get_service),
) -> Response:
    found = stored.load(service, decision_id)
    row = found.row
    cards = []
    if row.kind == "cds":
        try:
            cards = stored_feedback.for_decision(service.decision_log, decision_id)
        except LogUnavailable:
            raise HTTPException(503, "the decision log cannot be read right now") from None
    return model_response(StoredDecision(**found.restored.decision, kind=row.kind, logged_at=row.logged_at,
                                         profile=found.profile, withheld=found.restored.withheld,
                                         external_id=row.external_id, labels=row.labels, job_id=row.job_id,
                                         feedback=cards))


@router.get(
    "/evaluations",
    response_model=DecisionPage,
    summary="Search stored decisions",
    description="Decisions from the decision log, newest first, filtered by the caller's labels and `external_id`, "
    "status, ruleset version, kind, batch job and time (`since` inclusive, `until` exclusive; ISO 8601). Each entry "
    "carries the summary; fetch the whole decision by its id. Pages of `limit` (default 50, at most 200); follow "
    "`next_cursor`. 404 when the decision log is disabled; 503 when it cannot be read.",
    responses=responses(404, 422, 503),
)
def list_evaluations(
    labels: Annotated[list[str], Query(alias="label", description="Only decisions with this label (`key:value`); "
                                       "repeat: every one must match.")] = [],  # noqa: B006
    external_id: Annotated[str | None, Query(min_length=1, max_length=200, description="Only this `external_id`.")] = None,
    status: Annotated[Literal["needs_attention", "incomplete", "pass"] | None, Query(description="Only this status.")] = None,
    ruleset_version: Annotated[str | None, Query(max_length=100, description="Only decisions made under this ruleset version.")] = None,
    kind: Annotated[Literal["evaluation", "batch", "batch-job", "compare", "cds", "report"] | None,
                    Query(description="Only decisions made by this endpoint.")] = None,
    job_id: Annotated[str | None, Query(pattern=UUID_PATTERN, description="Only the decisions of this batch job.")] = None,
    since: Annotated[datetime | None, Query(description="Evaluated at or after (ISO 8601; UTC if no offset).")] = None,
    until: Annotated[datetime | None, Query(description="Evaluated before (ISO 8601; UTC if no offset).")] = None,
    limit: Annotated[int, Query(ge=1, le=LIST_MAX, description="Decisions per page.")] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")] = None,
    service: Service = Depends(get_service),
) -> DecisionPage:
    if service.decision_log is None:
        raise HTTPException(404, "the decision log is disabled on this server: decisions are not stored")
    where = DecisionFilter(labels=metadata.label_pairs(labels), external_id=external_id, status=status,
                           ruleset_version=ruleset_version, kind=kind, job_id=job_id, since=since, until=until)
    try:
        with service.decision_log.transaction(write=False) as tx:
            rows, next_cursor = list_decisions(tx, where, limit, cursor, service.decision_log.cutoff())
    except ValueError as exc:
        raise RequestValidationError([{"type": "cursor", "loc": ("query", "cursor"), "msg": str(exc)}]) from None
    except LogUnavailable as exc:
        log.warning("decision_log_unavailable", store=service.decision_log.name, operation="list", error=str(exc))
        raise HTTPException(503, "the decision log cannot be read right now") from None
    return DecisionPage(decisions=[ListedDecision(**row.__dict__) for row in rows], next_cursor=next_cursor)
