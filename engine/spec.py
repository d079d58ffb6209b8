"""What a rule file must say. Validated at load with ``extra="forbid"``: a misspelt key is an
error, not a silently ignored setting."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.catalog import Citation


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


SEVERITY_RANK = {s.value: rank for rank, s in enumerate(Severity)}  # critical = 0


class SeverityClass(StrEnum):
    """Why a rule has its severity: the severity policy's classes (rules/SEVERITY.md). Each class
    allows exactly one severity, so a rule's severity follows from what the sources say and
    what the risk does, never from taste."""

    unlawful = "unlawful"
    federal_condition = "federal_condition"
    must = "must"
    well_beyond = "well_beyond"
    should = "should"
    contradiction = "contradiction"
    definition = "definition"
    consider = "consider"
    practice = "practice"
    verify = "verify"


SEVERITY_OF_CLASS: dict[SeverityClass, Severity] = {
    SeverityClass.unlawful: Severity.critical,
    SeverityClass.federal_condition: Severity.critical,
    SeverityClass.must: Severity.high,
    SeverityClass.well_beyond: Severity.high,
    SeverityClass.should: Severity.medium,
    SeverityClass.contradiction: Severity.medium,
    SeverityClass.definition: Severity.medium,
    SeverityClass.consider: Severity.low,
    SeverityClass.practice: Severity.low,
    SeverityClass.verify: Severity.info,
}


class FiveP(StrEnum):
    """COSSAP's five steps, a second axis across the categories."""

    promote = "promote"
    prepare = "prepare"
    plan = "plan"
    produce_policies = "produce_policies"
    provide_supervision = "provide_supervision"


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: int | float | str | bool
    description: str = Field(min_length=1)


class RuleSpec(BaseModel):
    """One rule, as written in ``rules/<category>/<id>.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^PC-[A-Z]+-[0-9]{3}$", description="Stable id; never reused for another meaning.")
    title: str = Field(min_length=5, max_length=120)
    severity: Severity
    severity_class: SeverityClass = Field(
        description="The severity policy's class that sets the severity (rules/SEVERITY.md): what the sources say and what the risk does."
    )
    category: str = Field(pattern=r"^[a-z][a-z_]+$")
    five_p: FiveP
    scope: Literal["program", "peer"] = Field(description="Evaluated once per program, or once per peer.")
    basis: Literal["guidance", "practice"] = Field(
        description="`guidance`: the sources recommend it explicitly; `practice`: they describe it as practice."
    )
    confidence: Literal["high", "medium", "low"] = Field(
        description="How directly the cited text supports the rule as written."
    )
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    applies_when: dict[str, Any] | None = Field(
        default=None, description="Condition under which the rule applies at all; otherwise 'not applicable'."
    )
    condition: dict[str, Any] = Field(description="When the risk is present (durable_rules JSON syntax).")
    optional_inputs: list[str] = Field(
        default_factory=list, description="Fields the condition reads whose absence does not make the rule 'needs information'."
    )
    evidence: list[str] = Field(default_factory=list, description="Extra fact fields to show as evidence.")
    message: str = Field(min_length=10, description="Template over fact fields and parameters.")
    remediation: str = Field(min_length=10)
    rationale: str = Field(min_length=10)
    citations: list[Citation] = Field(min_length=1)

    @model_validator(mode="after")
    def severity_follows_class(self) -> "RuleSpec":
        expected = SEVERITY_OF_CLASS[self.severity_class]
        if self.severity != expected:
            raise ValueError(
                f"severity {self.severity.value!r} does not match severity_class {self.severity_class.value!r}, "
                f"which sets {expected.value!r} (rules/SEVERITY.md)"
            )
        if self.basis == "practice" and self.severity_class not in (SeverityClass.practice, SeverityClass.contradiction,
                                                                    SeverityClass.verify):
            raise ValueError(
                f"a rule on described practice (basis 'practice') cannot have severity_class {self.severity_class.value!r}: "
                "use 'practice', 'contradiction' or 'verify' (rules/SEVERITY.md)"
            )
        if self.severity_class == SeverityClass.practice and self.basis != "practice":
            raise ValueError("severity_class 'practice' is for rules on described practice (basis 'practice')")
        return self
