"""What the answers so far already show, for every step of the guided form: the findings, worst
first, and the questions that matter most — the report's own views (report/context.py), so the
page and the report never disagree. Nothing is recorded: a step is not a decision."""

from __future__ import annotations

from typing import Any

from api.guided.state import FormState
from engine.questions import peer_name
from report import build


def so_far(service: Any, state: FormState):
    """The report context of the profile so far, or None while a required answer (program name,
    state, a peer's job title) is missing: until then a stand-in would decide rules."""
    if state.draft.unanswered_required:
        return None
    profile = state.draft.profile
    decision = service.evaluator.evaluate(profile)
    return build(decision, service.ruleset, profile)


def still_needed(state: FormState) -> str:
    """What the findings wait for, in words: "the program's state and Peer 2's job title" ('' when
    nothing). Names each untitled peer, so a peer just added is not mistaken for no peer at all."""
    words = []
    for pointer in state.draft.unanswered_required:
        parts = pointer.split("/")[1:]
        if pointer == "/program/name":
            words.append("the program's name")
        elif pointer == "/program/state":
            words.append("the program's state")
        elif pointer == "/peers":
            words.append("at least one peer's job title")
        elif len(parts) == 3 and parts[0] == "peers" and parts[1].isdigit():
            words.append(f"{peer_name(int(parts[1]) + 1)}'s job title")
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
