"""Checking a profile beyond its schema, the same way for every endpoint that takes one.

The schema (pydantic) catches shape and values; what it cannot know is the loaded ruleset, so
an acknowledgement naming a rule that does not exist is caught here — a typo in a waiver must
not silently leave a risk open — and so is a "don't know" for a field no rule reads.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.problems import FieldProblem, field_problems
from engine import Profile, Ruleset
from engine.questions.catalog import dont_know_problems


def acknowledgement_errors(profile: Profile, ruleset: Ruleset, loc: tuple = ()) -> list[dict[str, Any]]:
    """Pydantic-style errors (``loc`` prefixed) for acknowledgements of unknown rules, and for
    "don't know" answers to fields that are not questions of this ruleset."""
    return [
        {"type": "unknown_rule", "loc": (*loc, "acknowledged", i, "rule_id"),
         "msg": f"no rule with id {ack.rule_id!r} in ruleset {ruleset.version}"}
        for i, ack in enumerate(profile.acknowledged or ())
        if ruleset.rule(ack.rule_id) is None
    ] + [
        {"type": "not_a_question", "loc": (*loc, "dont_know", i), "msg": msg}
        for i, msg in dont_know_problems(profile.dont_know, ruleset)
    ]


def check_request_profiles(ruleset: Ruleset, **profiles: tuple[Profile, tuple]) -> None:
    """For profiles FastAPI already validated: raise the 422 for unknown acknowledged rules.
    ``profiles`` maps a label to (profile, location of the profile in the request)."""
    errors = [e for profile, loc in profiles.values() for e in acknowledgement_errors(profile, ruleset, loc)]
    if errors:
        raise RequestValidationError(errors)


def validate_item(data: Any, ruleset: Ruleset) -> Profile | list[FieldProblem]:
    """A batch item: the profile, or its problems (pointers relative to the item itself)."""
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        return field_problems(exc.errors(include_input=False, include_url=False))
    errors = acknowledgement_errors(profile, ruleset)
    return field_problems(errors) if errors else profile
