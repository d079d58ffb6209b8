"""evaluate()'s hot path against the plain definitions it specialises.

``evaluate`` reports through each scope's compiled report (engine.interpreter.compile_report) and
builds result models without ``model_construct``; ``outcomes`` judges every rule on every subject
with ``engine.evaluate.judge``. Both must say the same thing."""

from hypothesis import HealthCheck, given, settings

from conftest import profile
from engine.spec import Severity
from engine.evaluate import (
    Decision, EngineError, EvidenceItem, Finding, NeedsInformation, Subject, Summary, _built,
)
from strategies import profiles
from test_engine_differential import FIXTURE_PROFILES


def reported(decision) -> set[tuple]:
    return ({(f.rule_id, f.subject.pointer, "fired", ()) for f in decision.findings}
            | {(n.rule_id, n.subject.pointer, "needs_information", tuple(n.missing)) for n in decision.needs_information})


def judged(evaluator, p) -> set[tuple]:
    return {(o.rule_id, o.subject.pointer, o.outcome, tuple(o.missing)) for o in evaluator.outcomes(p)
            if o.outcome in ("fired", "needs_information")}


def test_fixtures_report_what_judge_says(evaluator):
    for _, data in FIXTURE_PROFILES:
        p = profile(data)
        assert reported(evaluator.evaluate(p)) == judged(evaluator, p)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=profiles)
def test_generated_profiles_report_what_judge_says(evaluator, data):
    p = profile(data)
    decision = evaluator.evaluate(p)
    assert reported(decision) == judged(evaluator, p)
    # rule order, then subject order, as outcomes() lists them
    order = [(n.rule_id, n.subject.pointer) for n in decision.needs_information]
    expected = [(o.rule_id, o.subject.pointer) for o in evaluator.outcomes(p) if o.outcome == "needs_information"]
    assert order == expected


def test_needs_information_is_reported_in_the_corpus(evaluator):
    """Guard against a vacuous comparison: the fixtures do produce needs-information results."""
    assert any(evaluator.evaluate(profile(data)).needs_information for _, data in FIXTURE_PROFILES)


def test_built_models_equal_model_construct():
    subject = Subject.model_construct(kind="peer", pointer="/peers/0", peer_index=0, peer_id="a")
    examples = {
        Subject: {"kind": "peer", "pointer": "/peers/0", "peer_index": 0, "peer_id": "a"},
        EvidenceItem: {"field": "fte", "value": 0.5, "pointers": ["/peers/0/fte"]},
        NeedsInformation: {"rule_id": "PC-X-001", "title": "t", "severity": Severity.high, "subject": subject, "missing": ["/a"]},
        EngineError: {"rule_id": "PC-X-001", "subject": subject, "error": "boom"},
        Summary: {"status": "pass", "findings": 0, "by_severity": {}, "acknowledged": 0, "needs_information": 0,
                  "rules_evaluated": 1, "engine_errors": 0},
    }
    for model, values in examples.items():
        assert set(values) == set(model.model_fields), model  # every field given, as _built requires
        fast, slow = _built(model, dict(values)), model.model_construct(**values)
        assert fast == slow and fast.model_fields_set == slow.model_fields_set
        assert fast.model_dump_json() == slow.model_dump_json()
        assert _built(model, dict(values)).model_fields_set is not fast.model_fields_set  # each its own


def test_needs_information_shared_between_decisions_is_immutable(evaluator):
    """The program's needs-information results are memoised and shared: they must not be changeable."""
    import pydantic
    import pytest

    data = next(d for _, d in FIXTURE_PROFILES if any(
        n.subject.kind == "program" for n in evaluator.evaluate(profile(d)).needs_information))
    first, second = evaluator.evaluate(profile(data)), evaluator.evaluate(profile(data))
    assert first.needs_information == second.needs_information
    need = next(n for n in first.needs_information if n.subject.kind == "program")
    with pytest.raises(pydantic.ValidationError):
        need.missing = []
    with pytest.raises(pydantic.ValidationError):
        need.subject.pointer = "/peers/0"


def test_built_covers_every_field_of_findings_and_decisions(evaluator):
    """_built is given every field; a field added to a model without adding it there must fail here."""
    for _, data in FIXTURE_PROFILES[:50]:
        decision = evaluator.evaluate(profile(data))
        assert set(decision.__dict__) == set(Decision.model_fields)
        for finding in decision.findings:
            assert set(finding.__dict__) == set(Finding.model_fields)
        Decision.model_validate(decision.model_dump())  # what it holds is valid


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=profiles)
def test_kept_findings_are_what_the_rule_would_write_now(evaluators, data):
    """Findings are kept by rule, subject and the values they read, and copied into later
    decisions: each must equal the finding made afresh from this profile's facts."""
    from engine.evaluate import _Subjects

    evaluator = evaluators["interpreter"]
    for _, known in FIXTURE_PROFILES[:30]:  # warm the kept findings with other profiles first
        evaluator.evaluate(profile(known))
    p = profile(data)
    facts, subjects = evaluator.ruleset.facts.build(p), _Subjects(p)
    for finding in evaluator.evaluate(p).findings:
        fact = facts[0] if finding.subject.peer_index is None else facts[finding.subject.peer_index + 1]
        fresh = evaluator._rendered(evaluator.ruleset.rule(finding.rule_id), fact, subjects.of(fact))
        assert finding.model_dump(exclude={"acknowledged"}) == fresh.model_dump(exclude={"acknowledged"})
        assert finding.model_dump_json(exclude={"acknowledged"}) == fresh.model_dump_json(exclude={"acknowledged"})


def test_an_acknowledgement_belongs_to_one_decision(evaluators):
    """A kept finding is copied: acknowledging it in one decision leaves the next one's open."""
    evaluator = evaluators["interpreter"]
    data = next(d for _, d in FIXTURE_PROFILES if evaluator.evaluate(profile(d)).findings)
    rule_id = evaluator.evaluate(profile(data)).findings[0].rule_id
    acknowledged = evaluator.evaluate(profile({**data, "acknowledged": [{"rule_id": rule_id, "reason": "Known."}]}))
    assert any(f.acknowledged == "Known." for f in acknowledged.findings)
    plain = evaluator.evaluate(profile({k: v for k, v in data.items() if k != "acknowledged"}))
    assert all(f.acknowledged is None for f in plain.findings if f.rule_id == rule_id)


def test_kept_findings_name_this_decisions_peers(evaluators):
    """The same peer under another caller's id: the finding's id, subject and wording follow the id."""
    evaluator = evaluators["interpreter"]
    data = next(d for _, d in FIXTURE_PROFILES
                if any(f.subject.kind == "peer" for f in evaluator.evaluate(profile(d)).findings))
    for peer_id in ("first-id", "second-id", None):
        peers = [{**peer, "id": f"{peer_id}-{i}"} if peer_id else {k: v for k, v in peer.items() if k != "id"}
                 for i, peer in enumerate(data["peers"])]
        for finding in evaluator.evaluate(profile({**data, "peers": peers})).findings:
            if finding.subject.kind == "peer":
                expected = peers[finding.subject.peer_index].get("id")
                assert finding.subject.peer_id == expected
                if "{peer_label}" in evaluator.ruleset.rule(finding.rule_id).spec.message:
                    assert (f"({expected}, " in finding.message) == (expected is not None)
