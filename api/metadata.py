"""The caller's own metadata on an evaluation: an ``external_id`` (a grant portal's application id,
a case-management system's program id) and ``labels`` (``cycle: 2025``, ``region: north``).

Both are echoed in the answer, stored with the decision and searchable with ``GET /v1/evaluations``,
so a portal never has to match results by position. They are the caller's words about its own
records — not personal data: callers are asked (in the API description) not to put names in them.

Labels follow the shape Kubernetes made familiar: at most ``MAX_LABELS`` pairs; keys lower-case
letters, digits, ``-``, ``_`` and ``.``; values up to 200 printable characters. In a query string a
label is written ``key:value`` (``?label=cycle:2025``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_LABELS = 20
LABEL_KEY_PATTERN = r"^[a-z0-9](?:[a-z0-9_.-]{0,61}[a-z0-9])?$"
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY_PATTERN)]
LabelValue = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=MAX_LABELS)]

EXTERNAL_ID_DOC = ("The caller's own id for what is evaluated (an application or program id): echoed in the answer, "
                   "stored with the decision, searchable with `GET /v1/evaluations?external_id=`. Not a person's name.")
LABELS_DOC = (f"The caller's labels (at most {MAX_LABELS}; keys `a-z 0-9 - _ .`, values up to 200 characters): echoed, "
              "stored with the decision, searchable with `GET /v1/evaluations?label=key:value`. No personal data.")
LABEL_QUERY_DOC = "A label as `key:value`; repeat for several."


class CallerMetadata(BaseModel):
    """What a caller may attach to one evaluation."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId | None = Field(default=None, description=EXTERNAL_ID_DOC)
    labels: Labels | None = Field(default=None, description=LABELS_DOC)

    def merged_over(self, defaults: dict[str, str] | None) -> "CallerMetadata":
        """These labels over ``defaults`` (a batch's labels under each item's own)."""
        if not defaults:
            return self
        return CallerMetadata(external_id=self.external_id, labels={**defaults, **(self.labels or {})})

    def labels_json(self) -> str | None:
        return json.dumps(self.labels, ensure_ascii=False, sort_keys=True) if self.labels else None


NONE = CallerMetadata()


def from_query(external_id: str | None, labels: list[str], parameter: str = "label") -> CallerMetadata:
    """Metadata from query parameters; a 422 naming the parameter when a label is malformed."""
    pairs: dict[str, str] = {}
    errors: list[dict[str, Any]] = []
    for text in labels:
        key, sep, value = text.partition(":")
        if not sep:
            errors.append({"type": "label", "loc": ("query", parameter),
                           "msg": f"write a label as key:value (got {text[:40]!r})"})
            continue
        pairs[key.strip()] = value.strip()
    if errors:
        raise RequestValidationError(errors)
    try:
        return CallerMetadata(external_id=external_id, labels=pairs or None)
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError, reported per parameter
        raise RequestValidationError([
            {"type": e["type"], "loc": ("query", "external_id" if e["loc"][0] == "external_id" else parameter),
             "msg": e["msg"] + (f" ({e['loc'][1]!r})" if len(e["loc"]) > 1 else "")}
            for e in exc.errors(include_url=False)  # type: ignore[attr-defined]
        ]) from None


def label_pairs(labels: list[str]) -> tuple[tuple[str, str], ...]:
    """``key:value`` filters from a query (validated like labels)."""
    return tuple(sorted((from_query(None, labels).labels or {}).items()))
