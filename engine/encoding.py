"""A decision as JSON bytes, byte for byte what pydantic writes, at a fraction of the cost.

Most of a decision's JSON is made of values shared between decisions: open questions (the
question ranker hands out the same immutable ``OpenQuestion`` whenever the same field waits on
the same rules) and needs-information results (memoised by the evaluator per rule and subject). Their
JSON never changes, so it is written once and kept; each decision's own parts (its header and
findings) are written by pydantic's serialiser as usual, and the pieces are joined in the
decision's field order. tests/test_encoding.py holds the result equal to ``model_dump_json``.

``decision_json(decision, rules=False)`` leaves out the per-rule ``needs_information`` list —
the machine answer's default, where ``questions`` carries the same needs grouped by field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from engine.evaluate import Decision, EngineError, Finding, NeedsInformation
from engine.questions.models import OpenQuestion

# The decision's own fields before the lists, in the model's order: written by pydantic.
_LISTS = ("findings", "needs_information", "questions", "engine_errors")
assert tuple(Decision.model_fields)[-len(_LISTS):] == _LISTS, "the lists must close the decision"
_HEAD = {name for name in Decision.model_fields if name not in _LISTS}

_decision_head = Decision.__pydantic_serializer__.to_json
_findings = TypeAdapter(list[Finding]).dump_json
_errors = TypeAdapter(list[EngineError]).dump_json
_question = OpenQuestion.__pydantic_serializer__.to_json
_need = NeedsInformation.__pydantic_serializer__.to_json


class _Written:
    """id(value) -> (value, its JSON) for immutable shared values. The value is held so its id is
    not reused while the entry lives; bounded, cleared when full (values are rebuilt cheaply)."""

    def __init__(self, write: Any, size: int = 16384):
        self._write, self._size = write, size
        self._kept: dict[int, tuple[Any, bytes]] = {}

    def __call__(self, value: Any) -> bytes:
        kept = self._kept.get(id(value))
        if kept is not None and kept[0] is value:
            return kept[1]
        written = self._write(value)
        if len(self._kept) >= self._size:
            self._kept.clear()
        self._kept[id(value)] = (value, written)
        return written


_questions = _Written(_question)
_needs = _Written(_need)


def decision_json(decision: Decision, rules: bool = True, tail: bytes = b"") -> bytes:
    """``decision`` as JSON (``decision.model_dump_json()`` as bytes); without the per-rule
    ``needs_information`` when ``rules`` is false. ``tail``: more members for the same object, as
    ``,"name":value…`` (an answer's echo of the request), written after the decision's own."""
    head = _decision_head(decision, include=_HEAD)
    parts = [head[:-1], b',"findings":', _findings(decision.findings)]
    if rules:
        parts.append(b',"needs_information":[')
        parts.append(b",".join([_needs(n) for n in decision.needs_information]))
        parts.append(b"]")
    parts.append(b',"questions":[')
    parts.append(b",".join([_questions(q) for q in decision.questions]))
    parts.append(b'],"engine_errors":')
    parts.append(_errors(decision.engine_errors))
    parts.append(tail)
    parts.append(b"}")
    return b"".join(parts)


def members(model: BaseModel, include: set[str] | frozenset[str]) -> bytes:
    """The ``include`` members of ``model`` as ``,"name":value…`` in the model's field order (for
    ``decision_json``'s ``tail``)."""
    written = model.__pydantic_serializer__.to_json(model, include=set(include))
    return b"," + written[1:-1] if len(written) > 2 else b""
