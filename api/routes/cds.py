"""CDS Hooks 2.0 routes: discovery, the PeerCheck program-review service and its feedback endpoint
(api/cds.py says what the cards hold, api/cds_auth.py who may call, api/cds_feedback.py what
feedback does). CORS for browser-based clients is api/cors.py.

The service call evaluates like ``POST /v1/evaluations``: small profiles on the event loop, large
ones in the thread pool (api/evaluating.py)."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from api import cds
from api import cds_feedback as feedback
from api.bodies import CheckedRoute
from api.cds_auth import CdsCaller, cds_caller
from api.deps import Service, get_service
from api.evaluating import run_nearby
from api.logs import log
from api.problems import responses
from api.profiles import check_request_profiles
from api.recording import record_async
from api.routes.evaluations import EXAMPLE
from api.metadata import CallerMetadata
from api.session import report_link
from decisionlog import LogUnavailable
from decisionlog import feedback as stored_feedback
from decisionlog.base import CardRef

AUTH = ("Every call needs `Authorization: Bearer <JWT>` signed by a CDS client the server trusts, when it is configured "
        "with CDS clients (`PEERCHECK_CDS_CLIENTS`); otherwise the API key, if any.")
router = APIRouter(tags=["cds-hooks"], responses=responses(401), route_class=CheckedRoute)


@router.get(
    "/cds-services",
    response_model=cds.Discovery,
    response_model_exclude_none=True,
    summary="CDS Hooks discovery",
    description="CDS Hooks 2.0 discovery: the services this server offers. One: `peercheck-program-review`, "
    "invoked on the hook of the same name with the program profile in `context.profile`. " + AUTH,
)
def discovery(caller: CdsCaller = Depends(cds_caller)) -> cds.Discovery:
    return cds.DISCOVERY


@router.post(
    f"/cds-services/{cds.SERVICE_ID}",
    response_model=cds.CdsResponse,
    response_model_exclude_none=True,
    summary="CDS Hooks service: review a program",
    description="A CDS Hooks 2.0 service call. Returns cards: open findings (most severe first; indicator: critical → "
    "`critical`, high and medium → `warning`, low and info → `info`) each with a suggestion to plan the change and "
    "`overrideReasons`, one `info` card listing what rules need to know, then acknowledged findings (`info`); at most "
    "`cds_max_cards`, the last then saying how many more there are. Cards link to the full report when the server has "
    "a public address. `extension[\"org.peercheck.decision\"]` carries the decision id. Overrides reported as feedback "
    "become acknowledged risks of the same program (`context.programId`) in later calls. An invalid profile: 422 "
    "problem details with pointers such as `/context/profile/peers/0/fte`. " + AUTH,
    responses=responses(422),
)
async def program_review(
    call: Annotated[cds.CdsRequest, Body(openapi_examples={"review": {
        "summary": "A hook call carrying a profile",
        "value": {"hook": cds.HOOK, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                  "context": {"profile": EXAMPLE, "programId": "program-0042"}},
    }})],
    request: Request,
    caller: CdsCaller = Depends(cds_caller),
    service: Service = Depends(get_service),
) -> cds.CdsResponse:
    if call.hook != cds.HOOK:
        raise RequestValidationError([{"type": "unknown_hook", "loc": ("body", "hook"),
                                       "msg": f"this service answers the {cds.HOOK!r} hook"}])
    submitted = call.context.profile
    check_request_profiles(service.ruleset, profile=(submitted, ("body", "context", "profile")))
    secret = feedback.key_secret(service.settings)
    key = feedback.program_key(secret, caller.client, call.context.programId, submitted)
    try:
        profile, from_feedback = await run_in_threadpool(feedback.with_overrides, service.decision_log, secret, key,
                                                         submitted)
    except LogUnavailable as exc:  # the review goes on without earlier overrides
        log.warning("decision_log_unavailable", store=service.decision_log.name, operation="cds_feedback", error=str(exc))
        profile, from_feedback = submitted, 0
    decision = await run_nearby(profile, service.evaluator.evaluate, profile)
    refs = [CardRef(card_uuid=cds.card_uuid(decision.decision_id, f.finding_id), rule_id=f.rule_id,
                    subject=f.subject.pointer, peer_key=feedback.peer_key(secret, key, f.subject.peer_id), program_key=key)
            for f in decision.findings]
    recorded = await record_async(service, [(decision, profile)], "cds",
                                  [CallerMetadata(external_id=call.context.programId)], cards=refs)
    log.info("evaluated", decision_id=decision.decision_id, ruleset_version=decision.ruleset_version,
             engine=decision.engine, findings=decision.summary.findings, status=decision.summary.status,
             recorded=recorded, via="cds-hooks", acknowledged_from_feedback=from_feedback)
    link = report_link(request, service, decision.decision_id) if service.settings.public_base_url else None
    return cds.response(decision, service.ruleset, profile, recorded,
                        service.settings.cds_max_cards, link, from_feedback)


@router.post(
    "/cds-services/{service_id}/feedback",
    response_model=feedback.FeedbackAnswer,
    summary="CDS Hooks feedback: what the user did with cards",
    description="CDS Hooks 2.0 feedback: `accepted` (the user chose \"Plan to address this\") or `overridden` (dismissed, "
    "optionally with one of the card's `overrideReasons` and a comment), per card `uuid`. Each entry is stored against "
    "the decision its card came from and shown with it (`GET /v1/evaluations/{decision_id}`); a program's standing "
    "overrides become acknowledged risks in its next review. Reporting the same interaction again is harmless. "
    "Unknown cards are listed, not stored. 404 for another service id; 503 without a decision log. " + AUTH,
    responses=responses(404, 422, 503),
)
def record_feedback(
    service_id: Annotated[str, Path(max_length=100, description=f"The service's id: `{cds.SERVICE_ID}`.")],
    body: Annotated[feedback.FeedbackRequest, Body(openapi_examples={"override": {
        "summary": "A card dismissed with one of its override reasons",
        "value": {"feedback": [{"card": "9368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "overridden",
                                "overrideReason": {"reason": {"system": cds.OVERRIDE_SYSTEM, "code": "mitigated"}},
                                "outcomeTimestamp": "2026-01-15T14:30:00Z"}]},
    }})],
    caller: CdsCaller = Depends(cds_caller),
    service: Service = Depends(get_service),
) -> feedback.FeedbackAnswer:
    if service_id != cds.SERVICE_ID:
        raise HTTPException(404, f"no CDS service {service_id!r} here; the service is {cds.SERVICE_ID!r}")
    if service.decision_log is None:
        raise HTTPException(503, "feedback is stored in the decision log, which is disabled on this server")
    keep_comment = service.settings.decision_log_store_profiles
    try:
        recorded, unknown = stored_feedback.record(
            service.decision_log, caller.client, [feedback.to_stored(e, keep_comment) for e in body.feedback])
    except LogUnavailable as exc:
        log.warning("decision_log_unavailable", store=service.decision_log.name, operation="cds_feedback", error=str(exc))
        raise HTTPException(503, "the decision log cannot be written right now; send the feedback again") from None
    log.info("cds_feedback", recorded=len(recorded), unknown=len(unknown),
             overridden=sum(e.outcome == "overridden" for e in body.feedback))
    return feedback.FeedbackAnswer(recorded=len(recorded), unknown_cards=unknown)
