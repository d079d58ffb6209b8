"""Plain-text wording shared by every renderer (Markdown, HTML, SARIF, the terminal).

One place decides how a value, a severity, one of the five Ps or a subject reads, so the
report, the CLI table and the SARIF log never describe the same finding in different words.
"""

from __future__ import annotations

import json
from typing import Any

from engine.questions import peer_name
from engine.spec import FiveP, Severity

SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)  # critical first

SEVERITY_LABELS = {s: s.capitalize() for s in SEVERITIES}

FIVE_P_LABELS = {
    FiveP.promote.value: "Promote",
    FiveP.prepare.value: "Prepare",
    FiveP.plan.value: "Plan",
    FiveP.produce_policies.value: "Produce policies",
    FiveP.provide_supervision.value: "Provide supervision",
}

STATUS_LABELS = {
    "needs_attention": "Needs attention",
    "incomplete": "Incomplete",
    "pass": "Pass",
}

STATUS_EXPLAINED = {
    "needs_attention": "At least one open finding of medium severity or above.",
    "incomplete": "No open finding of medium severity or above, but some rules need more information.",
    "pass": "No open finding of medium severity or above, and every rule could be judged.",
}


# Codes whose words are not simply the code with spaces (acronyms, names).
SPECIAL_LABELS = {
    "cossap": "COSSAP",
    "sor": "SOR (State Opioid Response)",
    "medicaid": "Medicaid",
    "barc_10": "BARC-10",
    "ras": "RAS",
    "rpi": "RPI",
}


def humanise(code: str) -> str:
    """``treatment_court`` -> ``Treatment court``: enum codes as words (acronyms kept)."""
    return SPECIAL_LABELS.get(code) or code.replace("_", " ").capitalize()


def value_text(value: Any) -> str:
    """A profile or fact value as a reader sees it: unknowns say so, lists read as lists."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value) if value else "none"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def at_least(threshold: str | None) -> set[str]:
    """The severities at or above ``threshold`` (none when it is None)."""
    if threshold is None:
        return set()
    return set(SEVERITIES[: SEVERITIES.index(threshold) + 1])


def failing_rules(decision: Any, threshold: str | None) -> list[str]:
    """Rules with an open (not acknowledged) finding at or above ``threshold``, sorted: why a
    decision fails a pass/fail gate (``--fail-on`` in the CLI, ``fail_on`` in the API)."""
    levels = at_least(threshold)
    return sorted({f.rule_id for f in decision.findings if f.severity in levels and f.acknowledged is None})


def subject_name(subject: Any) -> str:
    """Who a finding is about, as people say it: 'Program', or 'Peer 2 (peer-b)' counted from 1."""
    if subject.kind == "program" or subject.peer_index is None:
        return "Program"
    return peer_name(subject.peer_index + 1, subject.peer_id)


def open_first(findings: list[Any]) -> list[Any]:
    """Findings with the open ones first and the acknowledged ones after, each in the order given."""
    return [f for f in findings if f.acknowledged is None] + [f for f in findings if f.acknowledged is not None]


def counted(findings: list[Any]) -> str:
    """'5' or '5, 1 of them acknowledged': a group of findings counted the way people weigh it."""
    acknowledged = sum(f.acknowledged is not None for f in findings)
    return f"{len(findings)}, {acknowledged} of them acknowledged" if acknowledged else str(len(findings))


def dont_know(question: Any) -> bool:
    """Whether an open question (an OpenQuestion, its JSON, or a report's view of one) was answered "don't know"."""
    if isinstance(question, dict):
        return bool(question.get("dont_know"))
    return bool(getattr(getattr(question, "question", question), "dont_know", False))


def questions_text(questions: list[Any]) -> str:
    """The open questions counted the one way every output counts them: those still to answer, and
    apart from them those answered "don't know" (their rules stay undecided, but nobody is asked
    again): '14 questions to answer', '70 questions to answer, 2 answered “don't know”'."""
    unknown = sum(dont_know(q) for q in questions)
    asked = len(questions) - unknown
    text = f"{asked} question{'s' * (asked != 1)} to answer"
    return text + (f", {unknown} answered “don't know”" if unknown else "")
