"""Faults inside one rule, in the decision log, and in the process: contained, visible, never a
lost answer."""

from conftest import profile, variant
from engine import Evaluator, make_engine


def test_a_rule_that_raises_is_reported_and_the_rest_still_answer(ruleset, monkeypatch):
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    real_build = ruleset.facts.build

    def poisoned(p):
        facts = real_build(p)
        facts[1]["active_caseload"] = {"not": "a number"}  # compares with 30 -> TypeError
        return facts

    monkeypatch.setattr(ruleset.facts, "build", poisoned)
    decision = evaluator.evaluate(profile(variant({"/program/referral_pathways": ["court_ordered"]})))
    # both caseload rules compare the poisoned value; each is reported, for this peer only
    assert [(e.rule_id, e.subject.pointer) for e in decision.engine_errors] == [
        ("PC-CASELOAD-001", "/peers/0"), ("PC-CASELOAD-002", "/peers/0")]
    assert all("TypeError" in e.error for e in decision.engine_errors)
    assert decision.summary.engine_errors == 2
    assert {f.rule_id for f in decision.findings} == {"PC-VOLUNTARY-001"}  # the other rules still answered
    outcomes = {(o.rule_id, o.subject.pointer): o for o in evaluator.outcomes(profile(variant(None)))}
    assert outcomes[("PC-CASELOAD-001", "/peers/0")].outcome == "error"
    assert outcomes[("PC-CASELOAD-001", "/peers/1")].outcome == "passed"


def test_engine_errors_reach_the_api_and_the_log(client, monkeypatch, capfd):
    ruleset = client.app.state.service.ruleset
    real_build = ruleset.facts.build

    def poisoned(p):
        facts = real_build(p)
        facts[0]["peer_count"] = object()
        return facts

    monkeypatch.setattr(ruleset.facts, "build", poisoned)
    response = client.post("/v1/evaluations", json=variant(None))
    assert response.status_code == 200
    body = response.json()
    assert body["summary"]["engine_errors"] >= 1 and body["summary"]["status"] == "incomplete"
    assert all(e["subject"]["pointer"] == "" and e["error"] for e in body["engine_errors"])
    assert '"event": "engine_errors"' in capfd.readouterr().err
