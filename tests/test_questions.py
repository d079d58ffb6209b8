"""Questions, not pointers: the catalog, the value of a question, "don't know", drafts and the next
questions — in process, on both engines where a decision is involved."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.questions import lookup
from conftest import BASE_PROFILE, FIXTURES, fields_of, profile, variant
from engine import SCHEMA_VERSION, Profile
from engine.catalog import TABLE_LABELS
from engine.facts import VOCABULARY
from engine.language import referenced_fields
from engine.questions import SEVERITY_WEIGHTS, Interview, heading, why
from engine.questions.catalog import question_id

PROGRAMS = sorted((FIXTURES / "programs").glob("*.json"))
CASES = {p.stem: json.loads(p.read_text())["profile"] for p in PROGRAMS}
REQUIRED = {"/program/name", "/program/state", "/peers", "/peers/{i}/title"}


@pytest.fixture(scope="module")
def catalog(evaluators):
    return evaluators["interpreter"].questions


@pytest.fixture(scope="module")
def interview(evaluators):
    return Interview(evaluators["interpreter"])


def read_fields(ruleset) -> dict[str, set[str]]:
    """Profile field (template) -> ids of the rules that read it, straight from the rules and VOCABULARY."""
    out: dict[str, set[str]] = {}
    for rule in ruleset.rules:
        names = set(referenced_fields(rule.condition))
        if rule.applies_when:
            names |= set(referenced_fields(rule.applies_when))
        for name in names:
            for source in VOCABULARY[name].sources:
                out.setdefault(source.replace("*", "{i}"), set()).add(rule.id)
    return out


# ---------------------------------------------------------------- the catalog


def test_every_field_a_rule_reads_is_a_question_and_no_other(catalog, ruleset):
    reads = read_fields(ruleset)
    assert set(catalog.by_template) == set(reads) | REQUIRED
    for template, rule_ids in reads.items():
        assert {r.rule_id for r in catalog.by_template[template].rules} == rule_ids, template
    assert {q.pointer for q in catalog.questions if q.required} == REQUIRED


def test_questions_come_from_the_schema(catalog):
    schema = Profile.model_json_schema()
    peer = schema["$defs"]["Peer"]["properties"]
    caseload = catalog.by_template["/peers/{i}/active_caseload"]
    assert caseload.id == "peers.active_caseload" and caseload.per_peer and caseload.section == "peers"
    assert caseload.label == peer["active_caseload"]["title"] == "Active caseload"
    assert caseload.text == peer["active_caseload"]["x-question"]
    assert (caseload.answer.type, caseload.answer.integer, caseload.answer.minimum, caseload.answer.maximum) == (
        "number", True, 0, 10000)
    fte = catalog.by_template["/peers/{i}/fte"]
    assert (fte.answer.integer, fte.answer.minimum, fte.answer.maximum) == (False, 0.01, 1)
    transport = catalog.by_template["/peers/{i}/employer_policies/transport_allowed"]
    assert transport.id == "peers.employer_policies.transport_allowed" and transport.answer.type == "yes_no"
    host = catalog.by_template["/program/host_agency"]
    enum = schema["$defs"]["HostAgency"]
    assert [(o.value, o.label) for o in host.answer.options] == [(v, enum["x-enum-labels"][v]) for v in enum["enum"]]
    assert catalog.by_template["/program/funding"].answer.type == "several_of"
    assert catalog.by_template["/peers"].answer.type == "peer_list"
    assert [q.id for q in catalog.questions][:3] == ["program.name", "program.state", "program.host_agency"]


def test_every_question_is_asked_in_plain_words(catalog):
    for q in catalog.questions:
        assert q.text.endswith("?") and q.text[0].isupper(), q.id
        assert "`" not in q.text and "/" not in q.text.replace("and/or", ""), q.id  # no code, no pointers
        assert q.help is None or ("`" not in q.help and "Since 1." not in q.help), q.id
        if q.answer.type in ("one_of", "several_of"):
            assert q.answer.options and all(o.label and o.label != o.value for o in q.answer.options), q.id


def test_every_question_has_its_own_wording_in_the_schema(catalog):
    """The catalog falls back to the field's title when a field has no ``x-question``; every field
    a rule reads must have real question text in engine/profile.py."""
    schema = json.dumps(Profile.model_json_schema())
    for q in catalog.questions:
        assert json.dumps(q.text) in schema, f"{q.id}: write its question with _ask() in engine/profile.py"


def test_duties_are_the_activity_catalog_by_table(catalog, ruleset):
    duties = catalog.by_template["/peers/{i}/duties"].answer
    assert [(o.value, o.label) for o in duties.options] == sorted(
        ((a.code, a.label) for a in ruleset.activities.activities),
        key=lambda pair: [g.id for g in duties.option_groups].index(
            next(a.table for a in ruleset.activities.activities if a.code == pair[0])))
    assert {g.id: g.label for g in duties.option_groups} == {t: TABLE_LABELS[t] for t in TABLE_LABELS}
    assert {o.group for o in duties.options} == set(TABLE_LABELS)


def test_question_ids_are_the_field_paths():
    assert question_id("/peers/{i}/employer_policies/transport_allowed") == "peers.employer_policies.transport_allowed"
    assert question_id("/policies/consent_protocol") == "policies.consent_protocol"
    assert question_id("/peers") == "peers"


def test_locate(catalog):
    question, peer = catalog.locate("/peers/3/duties")
    assert question.id == "peers.duties" and peer == 3
    assert catalog.locate("/program/state") == (catalog.by_template["/program/state"], None)
    for nowhere in ("/peers/03/duties", "/peers/500/duties", "/peers/x/duties", "/program/intercepts", "/peers/{i}/fte",
                    "/policies", "", "/policies/consent_protocol/x"):
        assert catalog.locate(nowhere) is None, nowhere


# ---------------------------------------------------------------- value, grouping, settling


def expected_values(decision) -> dict[str, float]:
    """Each rule waiting on a subject counts its severity's weight, shared among the questions it
    waits on: the needs information, and findings that rest on an empty field (outcome "fired")."""
    values: dict[str, float] = {}
    for need in decision.needs_information:
        for pointer in need.missing:
            values[pointer] = values.get(pointer, 0) + SEVERITY_WEIGHTS[need.severity] / len(need.missing)
    assumptions: dict[tuple, list[str]] = {}
    for q in decision.questions:
        for w in q.waiting:
            if w.outcome == "fired":
                assumptions.setdefault((w.rule_id, w.severity, q.peer, tuple(w.peers or ())), []).append(q.pointer)
    for (_, severity, _, _), pointers in assumptions.items():
        for pointer in pointers:
            values[pointer] = values.get(pointer, 0) + SEVERITY_WEIGHTS[severity] / len(pointers)
    return values


@pytest.mark.parametrize("name", sorted(CASES))
def test_questions_group_the_needs_exactly(evaluator, ruleset, name):
    decision = evaluator.evaluate(profile(CASES[name]))
    by_pointer = {q.pointer: q for q in decision.questions}
    assert len(by_pointer) == len(decision.questions)
    for need in decision.needs_information:
        for pointer in need.missing:
            waiting = [w for w in by_pointer[pointer].waiting if w.rule_id == need.rule_id]
            assert waiting and waiting[0].outcome == "needs_information", (pointer, need.rule_id)
            if need.subject.kind == "peer" and by_pointer[pointer].peer is None:
                assert need.subject.peer_index + 1 in waiting[0].peers
    values = expected_values(decision)
    for q in decision.questions:
        assert q.value == pytest.approx(values[q.pointer], abs=1e-3), q.pointer
        assert not q.dont_know and q.label and q.text.endswith("?")
        assert [w.severity for w in q.waiting] == sorted((w.severity for w in q.waiting), key=list(SEVERITY_WEIGHTS).index)
    order = [(-q.value, evaluator.questions.position[q.question_id], q.peer or 0) for q in decision.questions]
    assert order == sorted(order)
    needed = {p for n in decision.needs_information for p in n.missing}
    assert all(q.pointer in needed or any(w.outcome == "fired" for w in q.waiting) for q in decision.questions)


def test_peers_are_counted_from_one(evaluator):
    decision = evaluator.evaluate(profile(CASES["adams-county-oh"]))
    duties = [q for q in decision.questions if q.question_id == "peers.duties"]
    assert [(q.pointer, q.peer, q.peer_id) for q in duties] == [
        (f"/peers/{i}/duties", i + 1, f"p{i + 1}") for i in range(4)]
    assert heading(duties[1]) == "Peer 2 (p2) › Duties"
    consent = next(q for q in decision.questions if q.pointer == "/policies/consent_protocol")
    assert heading(consent) == "Policies › Consent and release-of-information protocol"
    assert "for Peers 1, 2, 3 and 4)" in why(consent) and "peer 1" not in why(consent)


def test_a_complete_profile_has_no_questions(evaluator):
    decision = evaluator.evaluate(profile(BASE_PROFILE))
    assert decision.needs_information == [] and decision.questions == []


def answers(question, ruleset) -> list:
    """Every answer to a question with a finite set of answers, and telling ones otherwise."""
    spec = question.answer
    if spec.type == "yes_no":
        return [True, False]
    if spec.type == "one_of":
        return [o.value for o in spec.options]
    if spec.type == "several_of":
        return [[]] + [[o.value] for o in spec.options] + [[o.value for o in spec.options][: spec.max_items]]
    if spec.type == "number":
        thresholds = {v for r in question.rules for v in ruleset.rule(r.rule_id).params.values()
                      if isinstance(v, (int, float)) and not isinstance(v, bool)}
        values = {spec.minimum, spec.maximum, *thresholds, *(t + 1 for t in thresholds), *(t - 1 for t in thresholds)}
        values = {v for v in values if spec.minimum <= v <= spec.maximum}
        return sorted(int(v) if spec.integer else v for v in values)
    return []


def put(data: dict, pointer: str, value) -> dict:
    """``data`` with the answer at ``pointer``, declared in the current schema version (whose
    questions these are: a profile of an older version may not carry a newer field)."""
    data = copy.deepcopy(data)
    data["schema_version"] = SCHEMA_VERSION
    parts = pointer.split("/")[1:]
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[parts[-1]] = value
    return data


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_question_that_settles_a_rule_decides_it_whatever_the_answer(evaluators, ruleset, name):
    """``settles``: once the question is answered — any answer but "don't know" — the rule is no
    longer waiting for information on the subjects it waited for. Every answer is tried for yes/no
    and one-of questions; for lists each option alone, none and all; for numbers the bounds and
    the rules' thresholds."""
    evaluator = evaluators["interpreter"]
    data = CASES[name]
    decision = evaluator.evaluate(profile(data))
    tried = 0
    for q in decision.questions:
        settled = [w for w in q.waiting if w.settles and w.outcome == "needs_information"]
        if not settled:
            continue
        definition, _ = evaluator.questions.locate(q.pointer)
        for value in answers(definition, ruleset):
            after = evaluator.evaluate(profile(put(data, q.pointer, value)))
            waiting = {(n.rule_id, n.subject.pointer) for n in after.needs_information}
            for w in settled:
                scope = ruleset.rule(w.rule_id).spec.scope
                if scope == "program":
                    subjects = [""]
                elif q.peer is not None:
                    subjects = [f"/peers/{q.peer - 1}"]
                else:
                    subjects = [f"/peers/{p - 1}" for p in w.peers]
                for subject in subjects:
                    assert (w.rule_id, subject) not in waiting, (q.pointer, value, w.rule_id, subject)
            tried += 1
    assert tried > 0


def test_a_finding_that_rests_on_an_empty_field_asks_for_it(evaluators):
    """PC-STAFFING-001 flags a lone peer when nothing says they meet an outside network: the
    network question is asked, to confirm or clear the finding; once answered it is not."""
    one_peer = variant({"/peers": [BASE_PROFILE["peers"][0]], "/supervision/peer_network_contact": None})
    for evaluator in evaluators.values():
        decision = evaluator.evaluate(profile(one_peer))
        assert "PC-STAFFING-001" in {f.rule_id for f in decision.findings}
        network = next(q for q in decision.questions if q.pointer == "/supervision/peer_network_contact")
        staffing = next(w for w in network.waiting if w.rule_id == "PC-STAFFING-001")
        assert staffing.outcome == "fired" and staffing.settles
        answered = evaluator.evaluate(profile(put(one_peer, "/supervision/peer_network_contact", "weekly")))
        assert answered.questions == [] and "PC-STAFFING-001" not in {f.rule_id for f in answered.findings}


# ---------------------------------------------------------------- "don't know"


def test_schema_1_2_accepts_every_earlier_profile():
    """An earlier profile — one with only its version's fields — is valid declared as itself and
    as 1.2; a profile may not carry fields newer than the version it declares."""
    assert SCHEMA_VERSION == "1.2"
    for version in ("1.0", "1.1", "1.2"):
        earlier = fields_of(version, BASE_PROFILE)
        Profile.model_validate(earlier)
        Profile.model_validate({**earlier, "schema_version": "1.2"})
    for data in CASES.values():
        Profile.model_validate(data)


@pytest.mark.parametrize("pointer,problem", [
    ("/peers/0/fte", "answered and also listed"),
    ("/peers/7/months_in_recovery", "names peer 8, but the profile lists 2"),
    ("/peers/0/title", "not an optional field"),
    ("/peers/0/id", "not an optional field"),
    ("/peers/0/employer_policies", "not an optional field"),
    ("/program/nickname", "not an optional field"),
    ("peers/0/fte", "not a JSON pointer"),
    ("/peers/00/fte", "not a JSON pointer"),
])
def test_dont_know_must_name_an_empty_optional_field(pointer, problem):
    with pytest.raises(ValueError, match=problem):
        Profile.model_validate({**BASE_PROFILE, "dont_know": [pointer]})


def test_dont_know_keeps_rules_waiting_and_says_so(evaluators, interview):
    data = CASES["duluth-mn"]
    pointer = next(q.pointer for q in evaluators["interpreter"].evaluate(profile(data)).questions if q.peer == 1)
    said = {**data, "schema_version": "1.2", "dont_know": [pointer]}
    for evaluator in evaluators.values():
        before, after = evaluator.evaluate(profile(data)), evaluator.evaluate(profile(said))
        assert after.needs_information == before.needs_information and after.findings == before.findings
        entry = next(q for q in after.questions if q.pointer == pointer)
        assert entry.dont_know and after.questions[-1] is entry  # after every question still to ask
        assert not next(q for q in before.questions if q.pointer == pointer).dont_know
    result = interview.next(said, limit=100)
    assert pointer not in {q.pointer for q in result.questions} and result.progress.dont_know == 1
    assert result.complete and result.problems == []


# ---------------------------------------------------------------- drafts and next questions


def test_from_a_name_and_a_state_the_peers_come_first(interview):
    result = interview.next({"program": {"name": "Jail Reentry Peers", "state": "OH"}}, limit=10)
    assert not result.complete and result.problems == []
    first = result.questions[0]
    assert (first.pointer, first.required, first.answer.type) == ("/peers", True, "peer_list")
    assert not any(q.pointer.startswith("/peers/") for q in result.questions)  # no peer to ask about yet
    assert [q.value for q in result.questions[1:]] == sorted((q.value for q in result.questions[1:]), reverse=True)
    progress = result.progress
    assert not progress.peers_listed and progress.answered == 2
    assert progress.total == len(interview.catalog.program_questions) + len(interview.catalog.peer_questions)
    assert progress.answered + progress.remaining + progress.not_needed == progress.total
    assert 0 < progress.remaining_critical_high < progress.remaining


def test_a_missing_state_is_asked_and_never_guessed(interview):
    result = interview.next({"peers": [{"title": "Peer"}]}, limit=3)
    name, state = result.questions[:2]
    assert (name.pointer, name.required, name.waiting) == ("/program/name", True, [])
    assert state.pointer == "/program/state" and state.required
    assert {w.rule_id for w in state.waiting} >= {"PC-CERT-001", "PC-CERT-002", "PC-CERT-003"}  # waiting, not judged


def test_required_questions_come_first_then_value(interview):
    draft = {"program": {"name": "X", "state": "NY"}, "peers": [{"title": "Peer"}, {"id": "b"}]}
    result = interview.next(draft, limit=4)
    assert [q.pointer for q in result.questions][:1] == ["/peers/1/title"]
    assert heading(result.questions[0]) == "Peer 2 (b) › Job title"
    rest = result.questions[1:]
    assert all(not q.required for q in rest) and rest[0].value >= rest[-1].value


def test_answered_and_dont_know_questions_are_not_asked_again(interview):
    draft = {"program": {"name": "X", "state": "NY", "funding": ["county"]},
             "peers": [{"title": "Peer", "duties": ["attend_court"]}],
             "policies": {"relapse_shared_without_consent": False},
             "dont_know": ["/hiring/interview_asks_diagnosis", "/peers/0/lived_experience"]}
    result = interview.next(draft, limit=100)
    asked = {q.pointer for q in result.questions}
    assert not asked & {"/program/funding", "/peers/0/duties", "/policies/relapse_shared_without_consent",
                        "/hiring/interview_asks_diagnosis", "/peers/0/lived_experience"}
    assert result.progress.dont_know == 2 and result.progress.remaining == len(result.questions)


def test_invalid_parts_are_named_left_out_and_asked_again(interview):
    secret = "SECRET-months-9f2c"
    draft = {"program": {"name": "X", "state": "Ohio", "host_agency": "sheriff"},
             "peers": [{"title": "Peer", "fte": 2, "months_in_recovery": secret, "duties": ["attend_court", "nap"],
                        "employer_policies": {"transport_allowed": "sometimes"}}, 7],
             "supervision": "weekly", "caseload": 30,
             "dont_know": ["/peers/0/fte", "/nowhere", "/peers/5/duties", "/program/name", "/peers/0/title", 12]}
    result = interview.next(draft, limit=100)
    problems = {p.pointer: p.detail for p in result.problems}
    assert set(problems) == {"/program/state", "/program/host_agency", "/peers/0/fte", "/peers/0/months_in_recovery",
                             "/peers/0/duties/1", "/peers/0/employer_policies/transport_allowed", "/peers/1",
                             "/supervision", "/caseload", "/dont_know/1", "/dont_know/2", "/dont_know/3",
                             "/dont_know/4", "/dont_know/5"}
    assert secret not in json.dumps(result.model_dump(mode="json"))
    asked = {q.pointer for q in result.questions}
    assert {"/program/state", "/program/host_agency", "/peers/0/duties", "/peers/1/title"} <= asked
    assert "/peers/0/fte" not in asked  # rejected, then answered "don't know": that stands
    assert not result.complete


def test_a_complete_profile_is_complete(interview):
    data = CASES["butler-county-oh"]
    result = interview.next(data, limit=3)
    assert result.complete and result.problems == [] and result.progress.peers_listed
    progress = result.progress
    assert progress.answered == sum(1 for _, _, pointer in interview.catalog.instances(len(data["peers"]))
                                    if lookup(data, pointer) is not None)
    assert progress.answered + progress.remaining + progress.not_needed == progress.total


def test_a_draft_of_500_peers(interview):
    draft = {"program": {"name": "X", "state": "OH"}, "peers": [{"title": "Peer"} for _ in range(501)]}
    result = interview.next(draft, limit=10)
    assert [p.pointer for p in result.problems] == ["/peers"]
    assert len(result.questions) == 10 and result.progress.total == (
        len(interview.catalog.program_questions) + 500 * len(interview.catalog.peer_questions))
    values = [q.value for q in result.questions]
    assert values == sorted(values, reverse=True)
    # a program-level field that 500 peers' rules wait on outweighs any one peer's own field
    top = result.questions[0]
    assert top.peer is None and any(w.peers and len(w.peers) == 500 for w in top.waiting)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 2000) | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
                    max_leaves=20)
FIELDS = st.sampled_from(["program", "peers", "supervision", "policies", "hiring", "dont_know", "schema_version",
                          "acknowledged"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.dictionaries(FIELDS, JSON, max_size=5), case=st.sampled_from(sorted(CASES)),
       damage=st.lists(st.tuples(st.sampled_from(["program", "supervision", "policies", "hiring", "peers"]),
                                 st.text(min_size=1, max_size=30), JSON), max_size=4))
def test_any_draft_gets_questions_or_named_problems(interview, junk, case, damage):
    """Whatever a draft holds — junk, or a case study with values broken — reading it never fails,
    every problem points into the draft, and a draft with no problems and no required question
    left is a valid profile."""
    drafts = [junk, copy.deepcopy(CASES[case])]
    for section, key, value in damage:
        target = drafts[1].get(section)
        if isinstance(target, list) and target:
            target = target[0]
        if isinstance(target, dict):
            target[key if key in target or len(target) < 2 else sorted(target)[0]] = value
    for draft in drafts:
        result = interview.next(draft, limit=5)
        for p in result.problems:
            assert p.pointer == "" or p.pointer.split("/")[1] in draft, p
        if result.complete:
            Profile.model_validate(draft)
        assert len(result.questions) <= 5


def test_a_stored_decision_keeps_its_questions(evaluators, ruleset):
    """The decision log keeps questions by reference (field, value, waiting rule ids) and words them
    again when read back; a record written before questions were kept is grouped again from its
    needs information."""
    from engine.audit import audit_record, restore, ruleset_texts
    from engine.evaluate import Decision

    evaluator = evaluators["interpreter"]
    data = CASES["adams-county-oh"]
    pointer = next(q.pointer for q in evaluator.evaluate(profile(data)).questions if q.peer == 2)
    kept = profile({**data, "schema_version": "1.2", "dont_know": [pointer]})
    decision = evaluator.evaluate(kept)
    record = json.loads(json.dumps(audit_record(decision, kept)))
    assert all(set(item) <= {"at", "value", "waiting", "dont_know"} for item in record["questions"])
    texts = json.loads(json.dumps(ruleset_texts(ruleset)))
    restored = Decision.model_validate(restore(record, texts, kept, ranker=evaluator.ranker).decision)
    assert restored.questions == decision.questions
    del record["questions"]
    regrouped = Decision.model_validate(restore(record, texts, kept, ranker=evaluator.ranker).decision).questions
    assert {q.pointer for q in regrouped} == {q.pointer for q in decision.questions}
    assert not any(q.dont_know for q in regrouped)  # what the older record did not keep
