"""A program with many findings, built from the rule fixtures: the report's worst case for print.

Start from the base profile (fixtures/base.json) and walk the rule fixtures (fixtures/rules/*/*.yaml)
in file order; for each rule take its first ``fired`` case whose changes apply to the profile so far
and raise the number of open findings, and keep it; stop at ``target`` findings. The same fixtures
give the same profile (62 findings on two peers with today's rules).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonpatch
import yaml
from pydantic import ValidationError

from conftest import BASE_PROFILE, FIXTURES
from engine import Evaluator, Profile

TARGET = 62


def _count(evaluator: Evaluator, doc: dict[str, Any]) -> int:
    try:
        return evaluator.evaluate(Profile.model_validate(doc)).summary.findings
    except ValidationError:
        return -1


def many_findings_profile(evaluator: Evaluator, target: int = TARGET) -> dict[str, Any]:
    doc = copy.deepcopy(BASE_PROFILE)
    found = _count(evaluator, doc)
    for path in sorted(Path(FIXTURES / "rules").glob("*/*.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            if case["expect"] != "fired":
                continue
            ops = [{"op": "remove", "path": p} if v is None else {"op": "add", "path": p, "value": v}
                   for p, v in case["set"].items()]
            try:
                candidate = jsonpatch.apply_patch(doc, ops)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
                continue
            more = _count(evaluator, candidate)
            if more > found:
                doc, found = candidate, more
                break
        if found >= target:
            break
    return doc
