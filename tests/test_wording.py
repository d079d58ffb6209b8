"""What people read says things in words: codes by their labels, states by name, peers by number
(from 1, the caller's id in brackets), no unfilled ``{placeholder}`` anywhere a rule's text is served —
findings, the rule catalog (API and CLI), SARIF."""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pytest

from conftest import FIXTURES, variant
from engine import Evaluator, Profile, make_engine
from engine.evaluate import CODE_LABELS, general_text, in_sentence
from engine.profile import Labelled
from report import render_sarif

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(:[^{}]*)?\}")


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}/{index}")


def assert_no_placeholder(document: Any) -> None:
    left = [(where, text) for where, text in strings(document) if PLACEHOLDER.search(text)]
    assert not left, left[:3]


@pytest.fixture(scope="module")
def interpreter(ruleset):
    return Evaluator(ruleset, make_engine("interpreter", ruleset))


@pytest.fixture(scope="module")
def profiles(interpreter) -> list[dict]:
    """The base profile, the case studies and the many-findings program."""
    from many_findings import many_findings_profile

    out = [variant(None), many_findings_profile(interpreter)]
    out += [json.loads(p.read_text())["profile"] for p in sorted((FIXTURES / "programs").glob("*.json"))]
    return out


def test_the_rule_catalog_fills_every_placeholder(client, ruleset):
    body = client.get("/v1/rules").json()
    assert body["count"] == len(ruleset.rules)
    assert_no_placeholder({k: v for k, v in body.items()})
    for rule in body["rules"]:
        one = client.get(f"/v1/rules/{rule['id']}").json()
        assert_no_placeholder(one)
        assert one["severity_class"] == ruleset.rule(rule["id"]).spec.severity_class.value
    caseload = client.get("/v1/rules/PC-CASELOAD-001").json()
    assert "toward 30 per full-time peer" in caseload["remediation"]  # the parameter, filled in
    assert "[peer]" in caseload["message"] and "20–30 range" in caseload["message"]
    assert "[state]" in client.get("/v1/rules/PC-CERT-002").json()["message"]
    assert "[state]" in client.get("/v1/rules/PC-CERT-006").json()["remediation"]


def test_every_rule_text_in_general_words_has_no_placeholder(ruleset):
    for rule in ruleset.rules:
        for template in (rule.spec.message, rule.spec.remediation):
            assert not PLACEHOLDER.search(general_text(template, rule.params)), rule.id


def test_sarif_fills_every_placeholder(ruleset, interpreter, profiles):
    for data in profiles:
        profile = Profile.model_validate(data)
        log = render_sarif(interpreter.evaluate(profile), ruleset, outcomes=interpreter.outcomes(profile))
        assert_no_placeholder(log)
        help_texts = {r["id"]: r["help"]["text"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
        assert "{caseload_max}" not in help_texts["PC-CASELOAD-001"] and "30" in help_texts["PC-CASELOAD-001"]


def test_cli_rules_json_fills_every_placeholder(capsys):
    from cli.main import main

    assert main(["rules", "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert_no_placeholder(body)
    assert all(r["severity_class"] for r in body["rules"])


def _coded_labels() -> dict[str, str]:
    """Every code of the profile's labelled choices that is not a plain word (``probation_parole``)."""
    found = {}
    for cls in Labelled.__subclasses__():
        for member in cls:
            if "_" in member.value:
                found[member.value] = member.label
    return found


def test_findings_speak_in_labels_and_numbers(interpreter, profiles):
    codes = _coded_labels()
    seen = 0
    for data in profiles:
        decision = interpreter.evaluate(Profile.model_validate(data))
        ids = [p["id"] for p in data["peers"] if p.get("id")]
        for finding in decision.findings:
            for text in (finding.message, finding.remediation):
                seen += 1
                assert not PLACEHOLDER.search(text), (finding.rule_id, text)
                assert "Peer #" not in text and not any(f"Peer {i}" in text for i in ids), (finding.rule_id, text)  # "Peer 2"
                assert not re.search(r"\b[A-Z]{2}'s\b", text), (finding.rule_id, text)  # "Virginia's", never "VA's"
                for code in codes:
                    assert not re.search(rf"\b{code}\b", text), (finding.rule_id, code, text)
    assert seen > 100


def test_a_code_reads_as_its_label_in_a_message(interpreter):
    data = variant({"/program/host_agency": "probation_parole", "/peers/0/employer": "justice_agency",
                    "/peers/0/other_roles": ["case_aide", "van_driver"]})
    decision = interpreter.evaluate(Profile.model_validate(data))
    messages = {f.rule_id: f.message for f in decision.findings}
    assert "(probation / parole)" in messages["PC-EMPLOYMENT-001"]
    assert "case aide, van driver" in messages["PC-ROLE-004"]
    assert messages["PC-ROLE-004"].startswith("Peer 1 (peer-a, ")
    finding = next(f for f in decision.findings if f.rule_id == "PC-ROLE-004")
    assert {"field": "other_roles", "value": ["case_aide", "van_driver"], "pointers": ["/peers/0/other_roles"]} in [
        e.model_dump() for e in finding.evidence]  # machines keep the codes and pointers


def test_a_state_reads_as_its_name(interpreter, ruleset):
    known = set(ruleset.states.states) | {c for c, r in ruleset.states.researched.items() if r.recovery_facts()}
    state = next(code for code in ("NH", "VT", "WY", "SD", "ND", "AK") if code not in known)
    data = variant({"/program/state": state, "/peers/0/months_in_recovery": 3})
    messages = [f.message for f in interpreter.evaluate(Profile.model_validate(data)).findings
                if f.rule_id in ("PC-CERT-001", "PC-CERT-006")]
    assert messages
    name = Profile.model_validate(data).program.state.label
    assert all(name in m and f" {state} " not in m and f"{state}'s" not in m for m in messages)


def test_peers_without_an_id_are_numbered(interpreter):
    data = variant({"/peers/1/id": None, "/peers/1/active_caseload": 25})
    finding = next(f for f in interpreter.evaluate(Profile.model_validate(data)).findings if f.rule_id == "PC-CASELOAD-002")
    assert finding.message.startswith("Peer 2 (Peer Recovery Specialist) carries 25")


@pytest.mark.parametrize("label,expected", [
    ("Probation / parole", "probation / parole"), ("Case aide", "case aide"), ("A clinical professional", "a clinical professional"),
    ("Recovery Assessment Scale (RAS)", "Recovery Assessment Scale (RAS)"), ("BARC-10", "BARC-10"),
    ("Medicaid billing for peer services", "Medicaid billing for peer services"), ("COSSAP grant", "COSSAP grant"),
])
def test_labels_in_a_sentence(label, expected):
    assert in_sentence(label) == expected


def test_code_labels_cover_the_enum_fields_templates_name(ruleset):
    from engine.evaluate import template_names

    named = set().union(*(template_names(r.spec.message, r.spec.remediation) for r in ruleset.rules))
    for field in ("host_agency", "supervision_provided_by", "peer_network_contact", "certification", "other_roles",
                  "supervision_frequency", "mandated_pathways", "supervision_functions_missing", "state"):
        assert field in named and field in CODE_LABELS


def test_messages_name_a_peer_without_an_id_that_only_repeats_its_number(interpreter):
    """The guided form numbers its peers peer-1, peer-2…: messages say 'Peer 2 (Peer Recovery
    Specialist)' as every other output does, and keep a caller's own id ('Peer 2 (peer-b, …)')."""
    for peer_id, expected in (("peer-2", "Peer 2 (Peer Recovery Specialist)"),
                              ("peer-b", "Peer 2 (peer-b, Peer Recovery Specialist)")):
        profile = Profile.model_validate(variant({"/peers/1/id": peer_id, "/peers/1/active_caseload": 25,
                                                  "/peers/1/title": "Peer Recovery Specialist"}))
        (finding,) = [f for f in interpreter.evaluate(profile).findings if f.rule_id == "PC-CASELOAD-002"]
        assert finding.message.startswith(expected + " carries"), finding.message
