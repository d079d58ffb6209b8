"""Checking a profile beyond its schema, the same way for every endpoint that takes one.

The schema (pydantic, engine/profile.py) catches shape, values and what fields say about each
other; what it cannot know is the loaded ruleset, so an acknowledgement naming a rule that does
not exist is caught here — a typo in a waiver must not silently leave a risk open — and so is a
"don't know" for a field no rule reads.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError

from engine import Profile, Ruleset
from engine.validation import MAX_PROBLEMS, InvalidDocument, describe_errors, unknown_rules, validate
from engine.fields import root


def check_request_profiles(ruleset: Ruleset, **profiles: tuple[Profile, tuple]) -> None:
    """For profiles FastAPI already validated: raise the 422 for unknown acknowledged rules.
    ``profiles`` maps a label to (profile, location of the profile in the request)."""
    errors = [e for profile, loc in profiles.values() for e in unknown_rules(profile, ruleset, loc)]
    if errors:
        raise RequestValidationError(errors)


def validate_item(data: Any, ruleset: Ruleset, limit: int = MAX_PROBLEMS) -> Profile | InvalidDocument:
    """A batch item: the profile, or its problems (pointers relative to the item itself)."""
    try:
        profile = validate(data, Profile, limit=limit)
    except InvalidDocument as exc:
        return exc
    errors = unknown_rules(profile, ruleset)
    return describe_errors(errors, root(Profile), limit) if errors else profile
