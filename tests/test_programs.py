"""The eleven case-study programs from the tool kit, each with its expected findings and
needs-information rule ids (exact sets), on both engines."""

import json
import re

import pytest

from conftest import FIXTURES, ROOT, profile

PROGRAMS = sorted((FIXTURES / "programs").glob("*.json"))
SOURCES = ROOT / "rules" / "sources"


def test_all_eleven_case_studies_are_there():
    assert len(PROGRAMS) == 11, [p.stem for p in PROGRAMS]


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_case_study(evaluator, path):
    case = json.loads(path.read_text())
    decision = evaluator.evaluate(profile(case["profile"]))
    assert sorted({f.rule_id for f in decision.findings}) == sorted(case["expected"]["findings"])
    assert sorted({n.rule_id for n in decision.needs_information}) == sorted(case["expected"]["needs_information"])
    assert sorted(case["expected"]["reasons"]) == sorted(case["expected"]["findings"]), "every expected finding says why"


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_case_study_quote_is_in_the_tool_kit(path):
    source = json.loads(path.read_text())["source"]
    assert source["source"] == "lappa-2023"
    text = re.sub(r"\s+", " ", (SOURCES / "lappa-2023-peer-support-justice-toolkit.txt").read_text())
    assert re.sub(r"\s+", " ", source["quote"]).strip() in text
