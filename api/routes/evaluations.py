from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi.exceptions import RequestValidationError

from api.deps import Service, get_service
from api.logs import log
from api.problems import Problem
from engine import Decision, Profile

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


def unknown_acknowledgements(profile: Profile, service: Service) -> None:
    """An acknowledgement of a rule that does not exist is a mistake the caller should hear about."""
    errors = [
        {"type": "unknown_rule", "loc": ("body", "acknowledged", i, "rule_id"),
         "msg": f"no rule with id {ack.rule_id!r} in ruleset {service.ruleset.version}"}
        for i, ack in enumerate(profile.acknowledged or ())
        if service.ruleset.rule(ack.rule_id) is None
    ]
    if errors:
        raise RequestValidationError(errors)


@router.post(
    "/evaluations",
    response_model=Decision,
    summary="Evaluate a program profile",
    description="Checks one program profile against every rule and returns the decision: findings with "
    "evidence, remediation and citations, rules that need more information, and a summary.",
    responses={422: {"model": Problem, "description": "The profile is invalid; `errors` names each field."}},
)
def evaluate(
    profile: Annotated[Profile, Body(openapi_examples={"mixed": {"summary": "A program with several risks", "value": EXAMPLE}})],
    service: Service = Depends(get_service),
) -> Decision:
    unknown_acknowledgements(profile, service)
    decision = service.evaluator.evaluate(profile)
    log.info("evaluated", decision_id=decision.decision_id, ruleset_version=decision.ruleset_version,
             engine=decision.engine, findings=decision.summary.findings,
             needs_information=decision.summary.needs_information, status=decision.summary.status)
    return decision
