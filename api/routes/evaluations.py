"""Evaluation routes, thin: validate, call the engine, record the decision, shape the answer."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import Field

from api import batch as batching
from api import compare as comparing
from api import stored
from api.deps import Service, get_service
from api.evaluating import run_nearby
from api.explain import Explanation, explain
from api.logs import log
from api.problems import FieldProblem, ProblemError, responses
from api.profiles import check_request_profiles
from api.recording import record, record_async
from api.responses import model_response
from engine import Decision, Finding, Profile

router = APIRouter(prefix="/v1", tags=["evaluations"])

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


class EvaluationResult(Decision):
    recorded: bool = Field(description="The decision is stored in the decision log (`GET /v1/evaluations/{decision_id}`). "
                           "False when the log is disabled or unavailable; the decision itself is still valid.")
    explanation: list[Explanation] | None = Field(
        default=None, description="With `explain=true`: every rule on every subject in its scope, with its outcome and why.",
    )


class StoredFinding(Finding):
    finding_id: str | None = Field(
        description="Stable id of this rule on this subject, as in the original answer. Null when it derives from the "
        "peer's `id`, which the decision log does not keep unless the server stores profiles.",
    )


class StoredDecision(Decision):
    findings: list[StoredFinding]
    kind: str = Field(description="Which endpoint produced it: `evaluation`, `batch`, `compare`, `cds` or `report`.")
    logged_at: datetime
    profile: dict[str, Any] | None = Field(description="The profile, only when the server stores profiles (off by default).")
    withheld: list[str] = Field(
        description="What this answer does not show because the decision log does not keep it (peer ids and titles, "
        "time in recovery, acknowledgement reasons…), in plain words; empty when the server stores profiles.",
    )


@router.post(
    "/evaluations",
    response_model=EvaluationResult,
    summary="Evaluate a program profile",
    description="Checks one program profile against every rule and returns the decision: findings with "
    "evidence, remediation and citations, rules that need more information, and a summary. The decision is "
    "stored in the decision log before the answer is sent (`recorded`). With `explain=true` the answer also lists "
    "every rule's outcome on every subject — fired, passed, not applicable (and why), needs information (which fields).",
    responses=responses(422),
)
async def evaluate(
    profile: Annotated[Profile, Body(openapi_examples={"mixed": {"summary": "A program with several risks", "value": EXAMPLE}})],
    explain_all: Annotated[bool, Query(alias="explain", description="Also return every rule's outcome and why.")] = False,
    service: Service = Depends(get_service),
) -> Response:
    check_request_profiles(service.ruleset, profile=(profile, ("body",)))
    decision = await run_nearby(profile, service.evaluator.evaluate, profile)
    recorded = await record_async(service, [(decision, profile)], "evaluation")
    log.info("evaluated", decision_id=decision.decision_id, ruleset_version=decision.ruleset_version,
             engine=decision.engine, findings=decision.summary.findings,
             needs_information=decision.summary.needs_information, status=decision.summary.status,
             recorded=recorded, explain=explain_all)
    if decision.engine_errors:
        log.error("engine_errors", decision_id=decision.decision_id, count=len(decision.engine_errors),
                  rules=sorted({e.rule_id for e in decision.engine_errors}))
    explanation = await run_nearby(profile, explain, service.evaluator, profile, decision) if explain_all else None
    return model_response(EvaluationResult.model_construct(**decision.__dict__, recorded=recorded, explanation=explanation))


@router.post(
    "/evaluations:batch",
    response_model=batching.BatchResult,
    summary="Evaluate many profiles",
    description="Evaluates up to `batch_max_items` profiles (default 1,000) in one request, for grant portals "
    "and TA providers. Each item is validated on its own: an invalid item gets an `error` (problem details whose "
    "pointers point into that item) and every other item still gets its decision, with its own `decision_id`. "
    "Results keep the order of `items`; `summary` counts statuses and open findings across the batch. More items "
    "than allowed: 413, nothing evaluated.",
    responses=responses(413, 422),
)
def evaluate_batch(
    body: Annotated[batching.BatchRequest, Body(openapi_examples={"mixed": {
        "summary": "Two valid profiles and one invalid (fte above 1)",
        "value": {"items": [EXAMPLE, SMALL, {**SMALL, "peers": [{"title": "Peer Support Specialist", "fte": 2}]}]},
    }})],
    service: Service = Depends(get_service),
) -> Response:
    limit = service.settings.batch_max_items
    if len(body.items) > limit:
        raise ProblemError(413, "too-many-items", "Too many items",
                           f"{len(body.items)} items in one batch; at most {limit} are allowed: split the batch",
                           [FieldProblem(pointer="/items", detail=f"at most {limit} items")])
    results, pairs = batching.evaluate_items(service.evaluator, body.items)
    recorded = record(service, pairs, "batch")
    summary = batching.summarise(results)
    log.info("evaluated_batch", items=summary.items, ok=summary.ok, invalid=summary.invalid,
             ruleset_version=service.ruleset.version, recorded=recorded, **{f"status_{k}": v for k, v in summary.by_status.items()})
    return model_response(batching.BatchResult(ruleset_version=service.ruleset.version, summary=summary,
                                               results=results, recorded=recorded))


@router.post(
    "/evaluations:compare",
    response_model=comparing.Comparison,
    summary="What-if: compare two versions of a program",
    description="Evaluates `before` and `after` and sorts the findings by `finding_id` (rule + subject): `resolved` "
    "(only before), `remaining` (both), `new` (only after). Give peers an `id` if the change adds, removes or "
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
    resolved, remaining, new = comparing.compare(before, after)
    log.info("compared", before_decision_id=before.decision_id, after_decision_id=after.decision_id,
             resolved=len(resolved), remaining=len(remaining), new=len(new), recorded=recorded)
    return comparing.Comparison(before=comparing.brief(before), after=comparing.brief(after), resolved=resolved,
                                remaining=remaining, new=new, recorded=recorded)


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
    return model_response(StoredDecision(**found.restored.decision, kind=found.row.kind, logged_at=found.row.logged_at,
                                         profile=found.profile, withheld=found.restored.withheld))
