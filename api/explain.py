"""``explain=true``: every rule's outcome on every subject, with a short reason in words.

A TA provider should see what was checked, not only what failed. The outcomes come from the
engine (``Evaluator.outcomes``); this module only puts them into words. The words are generated
from the rule's own condition, so they say exactly what the rule tests, in its field names —
plain, not polished.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from engine import Decision, Profile
from engine.evaluate import Evaluator, Outcome, Subject
from engine.language import referenced_fields
from engine.spec import Severity

SYMBOLS = {"$lt": "<", "$lte": "≤", "$gt": ">", "$gte": "≥", "$neq": "is not"}
ARITHMETIC = {"$add": "+", "$sub": "−", "$mul": "×"}


class Explanation(BaseModel):
    """One rule on one subject: what was checked and what came of it."""

    rule_id: str
    title: str
    severity: Severity
    subject: Subject
    outcome: Outcome = Field(description="`fired` (risk present), `passed` (checked, not present), `not_applicable`, `needs_information`, `error` (the rule failed to evaluate).")
    missing: list[str] = Field(description="For `needs_information`: JSON pointers of the profile fields to fill in.")
    reason: str = Field(description="Why, in words generated from the rule's condition.")


def explain(evaluator: Evaluator, profile: Profile, decision: Decision) -> list[Explanation]:
    """Every rule × subject in the rule's scope (program rules once, peer rules once per peer)."""
    ruleset = evaluator.ruleset
    findings = {(f.rule_id, f.subject.pointer): f for f in decision.findings}
    facts = {(_pointer(f)): f for f in ruleset.facts.build(profile)}
    out = []
    for outcome in evaluator.outcomes(profile):
        rule = ruleset.rule(outcome.rule_id)
        fact = facts[outcome.subject.pointer]
        if outcome.outcome == "fired":
            finding = findings.get((rule.id, outcome.subject.pointer))
            reason = finding.message if finding else "The risk is present."
            if finding is not None and finding.acknowledged is not None:
                reason += f" Acknowledged by the program: {finding.acknowledged}"
        elif outcome.outcome == "passed":
            reason = f"Checked: the rule fires when {describe(rule.condition)}; that does not hold here."
        elif outcome.outcome == "needs_information":
            reason = "Cannot be judged until these profile fields are filled in: " + ", ".join(outcome.missing) + "."
        elif outcome.outcome == "error":
            reason = f"The rule could not be evaluated ({outcome.error}); every other rule was."
        else:
            reason = f"Applies only when {describe(rule.applies_when)}; here {_values(rule.applies_when, fact)}."
        out.append(Explanation(rule_id=rule.id, title=rule.spec.title, severity=rule.spec.severity,
                               subject=outcome.subject, outcome=outcome.outcome, missing=outcome.missing,
                               reason=reason))
    return out


def _pointer(fact: dict[str, Any]) -> str:
    return "" if fact["kind"] == "program" else f"/peers/{fact['peer_index']}"


def describe(node: dict[str, Any]) -> str:
    """A condition in words: ``{"peer_count": 1}`` → ``peer_count is 1``."""
    op, arg = next(iter(node.items()))
    if op in ("$and", "$or"):
        parts = [describe(sub) for sub in arg]
        parts = [f"({p})" if (" and " in p or " or " in p) else p for p in parts]
        return (" and " if op == "$and" else " or ").join(parts)
    if op == "$ex":
        return f"{next(iter(arg))} is given"
    if op == "$nex":
        return f"{next(iter(arg))} is not given"
    if op in ("$iany", "$iall"):
        field, item = next(iter(arg.items()))
        quantifier = "includes" if op == "$iany" else "has only items that are"
        return f"{field} {quantifier} {_item(item)}"
    if op in SYMBOLS:
        field, value = next(iter(arg.items()))
        return f"{field} {SYMBOLS[op]} {_value(value)}"
    return f"{op} is {_value(arg)}"


def _item(node: dict[str, Any]) -> str:
    op, arg = next(iter(node.items()))
    if op == "$i":
        return _value(arg)
    if op == "$neq":
        return f"not {_value(next(iter(arg.values())))}"
    if op in ("$and", "$or"):
        return (" and " if op == "$and" else " or ").join(_item(sub) for sub in arg)
    return json.dumps(node)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        op, arg = next(iter(value.items()))
        if op == "$m":
            return str(arg)
        if op in ARITHMETIC:
            return f"({_value(arg['$l'])} {ARITHMETIC[op]} {_value(arg['$r'])})"
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values(condition: dict[str, Any], fact: dict[str, Any]) -> str:
    """The subject's values of the fields a condition reads: ``peer_count is 2``."""
    fields = list(dict.fromkeys(referenced_fields(condition)))
    return ", ".join(
        f"{name} is {'unknown' if fact.get(name) is None else _shown(fact[name])}" for name in fields
    )


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "empty"
    return _value(value)
