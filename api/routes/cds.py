"""CDS Hooks 2.0 routes: discovery and the PeerCheck program-review service (see api/cds.py).

The service call evaluates like ``POST /v1/evaluations``: small profiles on the event loop, large
ones in the thread pool (api/evaluating.py)."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi.exceptions import RequestValidationError

from api import cds
from api.bodies import CheckedRoute
from api.deps import Service, get_service
from api.evaluating import run_nearby
from api.logs import log
from api.problems import responses
from api.profiles import check_request_profiles
from api.recording import record_async
from api.routes.evaluations import EXAMPLE

router = APIRouter(tags=["cds-hooks"], route_class=CheckedRoute)


@router.get(
    "/cds-services",
    response_model=cds.Discovery,
    response_model_exclude_none=True,
    summary="CDS Hooks discovery",
    description="CDS Hooks 2.0 discovery: the services this server offers. One: `peercheck-program-review`, "
    "invoked on the hook of the same name with the program profile in `context.profile`.",
)
def discovery() -> cds.Discovery:
    return cds.DISCOVERY


@router.post(
    f"/cds-services/{cds.SERVICE_ID}",
    response_model=cds.CdsResponse,
    response_model_exclude_none=True,
    summary="CDS Hooks service: review a program",
    description="A CDS Hooks 2.0 service call. Returns one card per finding (most severe first; indicator: "
    "critical → `critical`, high and medium → `warning`, low and info → `info`; acknowledged findings → `info`) and "
    "one `info` card listing fields to fill in when rules need information. `extension.peercheck` carries the "
    "decision id. An invalid profile: 422 problem details with pointers such as `/context/profile/peers/0/fte`.",
    responses=responses(422),
)
async def program_review(
    call: Annotated[cds.CdsRequest, Body(openapi_examples={"review": {
        "summary": "A hook call carrying a profile",
        "value": {"hook": cds.HOOK, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "context": {"profile": EXAMPLE}},
    }})],
    service: Service = Depends(get_service),
) -> cds.CdsResponse:
    if call.hook != cds.HOOK:
        raise RequestValidationError([{"type": "unknown_hook", "loc": ("body", "hook"),
                                       "msg": f"this service answers the {cds.HOOK!r} hook"}])
    profile = call.context.profile
    check_request_profiles(service.ruleset, profile=(profile, ("body", "context", "profile")))
    decision = await run_nearby(profile, service.evaluator.evaluate, profile)
    recorded = await record_async(service, [(decision, profile)], "cds")
    log.info("evaluated", decision_id=decision.decision_id, ruleset_version=decision.ruleset_version,
             engine=decision.engine, findings=decision.summary.findings, status=decision.summary.status,
             recorded=recorded, via="cds-hooks")
    return cds.response(decision, cds.source_labels(service.ruleset.sources.info), recorded)
