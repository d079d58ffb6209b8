"""Every rule's severity follows the written policy (rules/SEVERITY.md): the rule names its class,
the class sets the severity, and the rule's first citation — the passage that carries its claim —
has wording at least as strong as the class needs."""

import re
from pathlib import Path

import pytest
import yaml

from engine.language import referenced_fields
from engine.spec import SEVERITY_OF_CLASS, RuleSpec, SeverityClass

ROOT = Path(__file__).resolve().parent.parent
RULE_FILES = sorted(p for p in (ROOT / "rules").glob("*/PC-*.yaml"))
RULES = [RuleSpec.model_validate(yaml.safe_load(p.read_text())) for p in RULE_FILES]
POLICY = (ROOT / "rules" / "SEVERITY.md").read_text()

# Wording of the sources, weakest accepted first. A class may rank a rule below what its wording
# supports (the harm is indirect), never above it.
LAW = r"\blaw\b|prohibit|illegal|unlawful"
MUST = (r"\bmust\b|should not|\bavoid|\bnever\b|not appropriate|inappropriate|not a replacement|goes against"
        r"|prohibit|\bdo not\b|careful not|\bcritical\b|at a minimum|requirement|\brequired\b|imperative|obligation")
SHOULD = MUST + r"|\bshould\b|essential|important|importance|crucial|necessary|\bkey\b"
# The tool kit's Appendix B lists what a ready organisation has in place: each item is an expectation.
CHECKLIST = "Appendix B: Organizational Readiness Checklist"
DEFINING = r"What is a Peer Support Worker|Differentiating|Defining|Table 3|Introduction|Appendix A"
EMPLOYER_POLICY_FIELDS = {"transport_allowed", "solo_home_visits_allowed"}


def _says(pattern: str, text: str) -> bool:
    return re.search(pattern, re.sub(r"\s+", " ", text), re.IGNORECASE) is not None


def _should_level(citation) -> bool:
    return _says(SHOULD, citation.quote) or citation.section.startswith(CHECKLIST)


def _fields(rule: RuleSpec) -> set[str]:
    found = set(referenced_fields(rule.condition))
    if rule.applies_when:
        found |= set(referenced_fields(rule.applies_when))
    return found


def _uses_threshold(rule: RuleSpec) -> bool:
    text = repr(rule.condition)
    return any(f"'$gt': {{'caseload_per_fte': {{'$param': '{name}'}}}}" in text for name in rule.parameters)


def wording_problem(rule: RuleSpec) -> str | None:
    """Why the first citation does not justify the rule's class, or None."""
    first = rule.citations[0]
    cls = rule.severity_class
    if cls == SeverityClass.unlawful and not _says(LAW, first.quote):
        return "an 'unlawful' rule's first citation must say what the law forbids"
    if cls == SeverityClass.federal_condition and not (
        _says(r"\bmust\b", first.quote) and _says("Medicaid|Medicare", first.section + " " + first.quote)
    ):
        return "a 'federal_condition' rule's first citation must be a federal 'must' (the CMS Medicaid conditions)"
    if cls == SeverityClass.must and not _says(MUST, first.quote):
        return "a 'must' rule's first citation must say must / should not / avoid / never / … "
    if cls == SeverityClass.well_beyond and not (_should_level(first) and _uses_threshold(rule)):
        return "a 'well_beyond' rule needs a should-level figure in its first citation and a threshold parameter"
    if cls == SeverityClass.should and not _should_level(first):
        return "a 'should' rule's first citation must say should / essential / important / … (or be a readiness-checklist item)"
    if cls == SeverityClass.contradiction and not (
        _fields(rule) & EMPLOYER_POLICY_FIELDS and _says(r"polic|not allowed|not able", first.quote)
    ):
        return "a 'contradiction' rule reads an employer policy and cites a passage on employer policy"
    if cls == SeverityClass.definition and not re.search(DEFINING, first.section):
        return "a 'definition' rule's first citation must come from where the sources define or distinguish the role"
    if cls == SeverityClass.practice and rule.basis != "practice":
        return "a 'practice' rule has basis 'practice'"
    if cls == SeverityClass.consider and rule.basis != "guidance":
        return "a 'consider' rule rests on guidance (basis 'guidance'); described practice is class 'practice'"
    if cls == SeverityClass.verify and not _says(r"verify|confirm|check", rule.message + " " + rule.remediation):
        return "a 'verify' rule must ask the program to verify, confirm or check"
    return None


def test_there_are_rules():
    assert len(RULES) >= 75


def test_every_class_is_explained_in_the_policy():
    for cls in SeverityClass:
        assert f"`{cls.value}`" in POLICY, f"rules/SEVERITY.md does not explain class {cls.value!r}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_severity_is_the_one_its_class_allows(rule):
    assert rule.severity == SEVERITY_OF_CLASS[rule.severity_class]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_first_citation_justifies_the_class(rule):
    assert wording_problem(rule) is None, f"{rule.id}: {wording_problem(rule)}: {rule.citations[0].quote!r}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_the_policy_lists_the_rule(rule):
    assert re.search(rf"^\| {rule.id} \|", POLICY, re.MULTILINE), f"{rule.id} is missing from rules/SEVERITY.md's table"


def test_the_wording_check_can_fail():
    """The check rejects a rule whose quote is weaker than its class."""
    weak = RULES[0].model_copy(update={
        "severity_class": SeverityClass.must, "severity": SEVERITY_OF_CLASS[SeverityClass.must],
        "citations": [RULES[0].citations[0].model_copy(update={"quote": "Peer workers benefit from connecting with others in similar roles."})],
    })
    assert wording_problem(weak) is not None
    assert wording_problem(weak.model_copy(update={"citations": [weak.citations[0].model_copy(
        update={"quote": "It is important that the program supervisor avoid taking on the role of therapist"})]})) is None


def test_loading_rejects_a_severity_its_class_does_not_allow():
    data = yaml.safe_load(RULE_FILES[0].read_text())
    data["severity_class"] = "verify"
    with pytest.raises(ValueError, match="does not match severity_class"):
        RuleSpec.model_validate(data)


def test_the_policy_states_the_current_distribution():
    from collections import Counter

    row = next(line for line in POLICY.splitlines() if line.startswith("| the ruleset now"))
    counts = [int(cell) for cell in row.strip("|").split("|")[1:]]
    by_severity = Counter(r.severity.value for r in RULES)
    assert counts == [by_severity[s] for s in ("critical", "high", "medium", "low", "info")] + [len(RULES)], (
        "rules/SEVERITY.md's distribution is out of date")
