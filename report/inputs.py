"""Reading a profile document the way people hand one over: a bare profile, or a fixture file
that wraps it under a ``"profile"`` key (as ``fixtures/programs/*.json`` do).

Shared by the CLI and the web page, which both turn a document into a report; it lives here
because ``report`` is the one package both may import (``report`` never imports ``api``).

Problems are reported as JSON pointers into the *document* (``/profile/peers/0/fte`` inside a
wrapper) with the reason, and never with the offending value: it may be sensitive, and the
person who sent it has it. Parsing is strict like the API's: duplicate keys and NaN/Infinity
are errors, not silently resolved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine import Profile, Ruleset
from engine.questions.catalog import dont_know_problems

WRAPPER_KEY = "profile"


@dataclass(frozen=True)
class InputProblem:
    pointer: str  # JSON pointer into the document; "" = the document itself
    detail: str

    def __str__(self) -> str:
        return f"{self.pointer or '(document)'}: {self.detail}"


class InvalidInput(ValueError):
    """The document is not a valid profile; ``problems`` names each bad field."""

    def __init__(self, problems: list[InputProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class LoadedProfile:
    profile: Profile
    base_pointer: str  # where the profile sits in the document: "" or "/profile"


class _Strict(ValueError):
    pass


class DuplicateKey(_Strict):
    """A JSON object names the same key twice (json.loads would silently keep the last)."""


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for json.loads: raise DuplicateKey instead of dropping a value.
    Also used by the HTTP guard (api/guards.py), so files and requests are read alike."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"duplicate key {key!r} in a JSON object")
        seen[key] = value
    return seen


def _no_constants(name: str) -> Any:
    raise _Strict(f"{name} is not a JSON number")


def parse_json(data: str | bytes) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity. Raises InvalidInput."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput([InputProblem("", f"not valid UTF-8 (byte {exc.start})")]) from None
    if not data.strip():
        raise InvalidInput([InputProblem("", "empty document: expected a JSON profile")])
    try:
        return json.loads(data, object_pairs_hook=reject_duplicate_keys, parse_constant=_no_constants)
    except _Strict as exc:
        raise InvalidInput([InputProblem("", str(exc))]) from None
    except RecursionError:
        raise InvalidInput([InputProblem("", "JSON nested too deeply")]) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput([InputProblem("", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]) from None


def escape_segment(segment: object) -> str:
    return str(segment).replace("~", "~0").replace("/", "~1")


def pointer(base: str, loc: tuple | list) -> str:
    return base + "".join("/" + escape_segment(p) for p in loc)


def profile_from_document(doc: Any) -> LoadedProfile:
    """Validate a parsed document (bare profile or wrapper) as a Profile. Raises InvalidInput."""
    base = ""
    if isinstance(doc, dict) and WRAPPER_KEY in doc:
        doc, base = doc[WRAPPER_KEY], "/" + WRAPPER_KEY
    if not isinstance(doc, dict):
        raise InvalidInput([InputProblem(base, 'expected a JSON object: a profile, or a fixture with a "profile" key')])
    try:
        return LoadedProfile(Profile.model_validate(doc), base)
    except ValidationError as exc:
        raise InvalidInput([InputProblem(pointer(base, err["loc"]), err["msg"]) for err in exc.errors()]) from None


def load_profile(data: str | bytes) -> LoadedProfile:
    """Text or bytes of a document -> a validated profile. Raises InvalidInput."""
    return profile_from_document(parse_json(data))


def unknown_acknowledgements(loaded: LoadedProfile, ruleset: Ruleset) -> list[InputProblem]:
    """What only the loaded ruleset can tell, reported as the API does: acknowledgements of rules
    that do not exist, and "don't know" answers to fields that no rule reads."""
    profile = loaded.profile
    return [
        InputProblem(pointer(loaded.base_pointer, ("acknowledged", i, "rule_id")),
                     f"no rule with id {ack.rule_id!r} in ruleset {ruleset.version}")
        for i, ack in enumerate(profile.acknowledged or ())
        if ruleset.rule(ack.rule_id) is None
    ] + [
        InputProblem(pointer(loaded.base_pointer, ("dont_know", i)), msg)
        for i, msg in dont_know_problems(profile.dont_know, ruleset)
    ]
