"""Each rule's own cases (fixtures/rules/<category>/<id>.yaml), on both engines: every rule has a
case that fires it and one that does not, and every case gets exactly the outcome it expects."""

from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, profile, variant

ROOT = Path(__file__).resolve().parent.parent
CASE_FILES = sorted((FIXTURES / "rules").glob("*/*.yaml"))
CASES = [
    (path.stem, case)
    for path in CASE_FILES
    for case in yaml.safe_load(path.read_text())["cases"]
]


def rule_paths():
    return sorted(p for p in (ROOT / "rules").glob("*/*.yaml") if p.parent.name not in ("catalog", "sources"))


def test_every_rule_has_a_firing_and_a_non_firing_case():
    for path in rule_paths():
        cases_path = FIXTURES / "rules" / path.parent.name / path.name
        assert cases_path.exists(), f"no cases for {path.stem} at {cases_path}"
        data = yaml.safe_load(cases_path.read_text())
        assert data["rule"] == path.stem
        expects = {c["expect"] for c in data["cases"]}
        assert "fired" in expects, f"{path.stem}: no firing case"
        assert expects & {"passed", "not_applicable"}, f"{path.stem}: no non-firing case"


def test_base_profile_is_clean(evaluator):
    decision = evaluator.evaluate(profile(variant(None)))
    assert decision.findings == [] and decision.needs_information == []
    assert decision.summary.status == "pass"


@pytest.mark.parametrize("rule_id,case", CASES, ids=[f"{r}: {c['name']}" for r, c in CASES])
def test_case(evaluator, rule_id, case):
    p = profile(variant(case.get("set")))
    subject = case.get("subject", "")
    outcomes = [o for o in evaluator.outcomes(p) if o.rule_id == rule_id and o.subject.pointer == subject]
    assert len(outcomes) == 1, f"{rule_id} has no single outcome for subject {subject!r}"
    assert outcomes[0].outcome == case["expect"], case["name"]
    decision = evaluator.evaluate(p)
    fired = [f for f in decision.findings if f.rule_id == rule_id and f.subject.pointer == subject]
    assert bool(fired) == (case["expect"] == "fired")
    if fired:
        finding = fired[0]
        assert finding.citations and finding.remediation and finding.evidence
        assert "unknown" not in finding.message or case.get("allow_unknown")
        assert all(e.pointers for e in finding.evidence)
    needs = [n for n in decision.needs_information if n.rule_id == rule_id and n.subject.pointer == subject]
    assert bool(needs) == (case["expect"] == "needs_information")
    if needs:
        assert needs[0].missing and all(m.startswith("/") for m in needs[0].missing)
