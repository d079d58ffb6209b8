"""Building result models from trusted values, fast.

Decisions and open questions are made from data PeerCheck has just computed from a validated
profile; validating it again is wasted work on the hot path of every evaluation.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_set = object.__setattr__


def built(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """An instance of ``model`` from trusted values naming every field: what ``model_construct``
    makes (tests/test_evaluate.py holds them equal) without its per-field alias and default
    handling, which was a quarter of an evaluation's time."""
    made = model.__new__(model)
    _set(made, "__dict__", values)
    _set(made, "__pydantic_fields_set__", set(values))
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made
