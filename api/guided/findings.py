"""What the answers so far already show, for every step of the guided form: the findings, worst
first, and the questions that matter most — the report's own views (report/context.py), so the
page and the report never disagree. Nothing is recorded: a step is not a decision."""

from __future__ import annotations

from typing import Any

from api.guided.state import FormState
from report import build


def so_far(service: Any, state: FormState):
    """The report context of the profile so far, or None while a required answer (program name,
    state, a peer's job title) is missing: until then a stand-in would decide rules."""
    if state.draft.unanswered_required:
        return None
    profile = state.draft.profile
    decision = service.evaluator.evaluate(profile)
    return build(decision, service.ruleset, profile)
