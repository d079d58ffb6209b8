from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from api.bodies import CheckedRoute
from api.deps import Service, get_service
from api.problems import Problem
from engine.evaluate import CitationOut, general_text
from engine.spec import FiveP, Severity, SeverityClass

router = APIRouter(prefix="/v1", tags=["rules"], route_class=CheckedRoute)


class RuleOut(BaseModel):
    id: str
    title: str
    severity: Severity
    severity_class: SeverityClass = Field(
        description="The severity policy's class that sets the severity: what the sources say and what the risk does "
        "(`unlawful` and `federal_condition`: critical; `must`, `well_beyond`: high; `should`, `contradiction`, "
        "`definition`: medium; `consider`, `practice`: low; `verify`: info).")
    category: str
    five_p: FiveP
    scope: str
    basis: str
    confidence: str
    parameters: dict[str, object] = Field(description="Thresholds in force, by name.")
    applies_when: dict | None
    condition: dict = Field(description="The condition, parameters substituted (durable_rules JSON syntax).")
    message: str = Field(description="The message a finding gives, in general words: parameters filled in, and what an "
                         "evaluation fills in from the profile named in brackets (`[peer]`, `[active caseload]`).")
    remediation: str = Field(description="What to do, in the same general words.")
    rationale: str
    citations: list[CitationOut]


class RuleList(BaseModel):
    ruleset_version: str
    count: int
    rules: list[RuleOut]


def _out(service: Service, rule) -> RuleOut:
    spec = rule.spec
    return RuleOut(
        id=spec.id, title=spec.title, severity=spec.severity, severity_class=spec.severity_class,
        category=spec.category, five_p=spec.five_p,
        scope=spec.scope, basis=spec.basis, confidence=spec.confidence, parameters=rule.params,
        applies_when=rule.applies_when, condition=rule.condition, message=general_text(spec.message, rule.params),
        remediation=general_text(spec.remediation, rule.params), rationale=spec.rationale,
        citations=[CitationOut(**c.model_dump(), title=service.ruleset.sources.info[c.source].title) for c in spec.citations],
    )


@router.get("/rules", response_model=RuleList, summary="The rule catalog")
def list_rules(
    category: str | None = Query(default=None, max_length=40, description="Only this category."),
    severity: Severity | None = Query(default=None, description="Only this severity."),
    five_p: FiveP | None = Query(default=None, description="Only this of the five Ps."),
    service: Service = Depends(get_service),
) -> RuleList:
    rules = [
        _out(service, r) for r in service.ruleset.rules
        if (category is None or r.spec.category == category)
        and (severity is None or r.spec.severity == severity)
        and (five_p is None or r.spec.five_p == five_p)
    ]
    return RuleList(ruleset_version=service.ruleset.version, count=len(rules), rules=rules)


@router.get("/rules/{rule_id}", response_model=RuleOut, summary="One rule",
            responses={404: {"model": Problem, "description": "No rule has this id."}})
def get_rule(rule_id: str, service: Service = Depends(get_service)) -> RuleOut:
    rule = service.ruleset.rule(rule_id)
    if rule is None:
        raise HTTPException(404, f"no rule with id {rule_id!r}")
    return _out(service, rule)
