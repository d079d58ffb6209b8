"""What-if over HTTP: the shapes of ``POST /v1/evaluations:compare``. Which findings a change
moves is decided in ``engine.comparison`` (the CLI's ``peercheck compare`` uses it too).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from engine import Decision, Finding, Profile
from engine.comparison import compare
from engine.evaluate import Summary


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before: Profile = Field(description="The program as it is.")
    after: Profile = Field(description="The program with the planned change.")


class DecisionBrief(BaseModel):
    """A decision without its findings (they are sorted into resolved / remaining / new)."""

    decision_id: str
    ruleset_version: str
    profile_digest: str
    summary: Summary


class Comparison(BaseModel):
    before: DecisionBrief
    after: DecisionBrief
    resolved: list[Finding] = Field(description="Findings of `before` whose rule, after the change, passes or no longer applies (as they were before).")
    remaining: list[Finding] = Field(description="Findings in both (as they are after: the message may have changed).")
    new: list[Finding] = Field(description="Findings `after` has and `before` did not.")
    undecided: list[Finding] = Field(description="Findings of `before` whose rule, after the change, needs information on "
                                     "the same subject: an answer it needs was removed or marked \"don't know\". Not "
                                     "resolved: absent data is not compliance (as they were before).")
    recorded: bool = Field(description="Both decisions were stored in the decision log.")


def brief(decision: Decision) -> DecisionBrief:
    return DecisionBrief(decision_id=decision.decision_id, ruleset_version=decision.ruleset_version,
                         profile_digest=decision.profile_digest, summary=decision.summary)


__all__ = ["CompareRequest", "Comparison", "DecisionBrief", "brief", "compare"]
