"""What-if: the same program before and after a change, and which findings that change moves.

Findings are matched by ``finding_id`` (rule + subject; a peer is identified by its ``id`` when
given, else by its position), so give peers ids if the change reorders, adds or removes peers.
Acknowledged findings count as findings here: acknowledging a risk does not resolve it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from engine import Decision, Finding, Profile
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
    resolved: list[Finding] = Field(description="Findings of `before` that `after` no longer has (as they were before).")
    remaining: list[Finding] = Field(description="Findings in both (as they are after: the message may have changed).")
    new: list[Finding] = Field(description="Findings `after` has and `before` did not.")
    recorded: bool = Field(description="Both decisions were stored in the decision log.")


def brief(decision: Decision) -> DecisionBrief:
    return DecisionBrief(decision_id=decision.decision_id, ruleset_version=decision.ruleset_version,
                         profile_digest=decision.profile_digest, summary=decision.summary)


def compare(before: Decision, after: Decision) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(resolved, remaining, new), each in decision order (severity first)."""
    before_ids = {f.finding_id for f in before.findings}
    after_ids = {f.finding_id for f in after.findings}
    resolved = [f for f in before.findings if f.finding_id not in after_ids]
    remaining = [f for f in after.findings if f.finding_id in before_ids]
    new = [f for f in after.findings if f.finding_id not in before_ids]
    return resolved, remaining, new
