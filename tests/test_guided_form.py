"""The guided form's logic without HTTP (api/guided/): the state the form carries, the questions a
step shows and in which order, and reading posted answers into the profile with plain errors."""

from __future__ import annotations

import json

import pytest

from api.guided import build_step, decode, encode, read_answers, read_state
from api.guided.form import DONT_KNOW, NONE, PAGE_SIZE, field_id
from api.guided.state import MAX_FORM_PEERS, add_peer, remove_peer
from engine.questions.draft import set_answer
from engine.questions import Interview

START = {"program": {"name": "County Peer Program", "state": "OH"}}
TWO_PEERS = {"program": {"name": "County Peer Program", "state": "OH", "host_agency": "court"},
             "peers": [{"title": "Peer Recovery Specialist"}, {"title": "Peer Navigator", "active_caseload": 12}]}


@pytest.fixture(scope="module")
def interview(evaluators):
    return Interview(evaluators["interpreter"])


def state_of(interview, doc):
    return read_state(doc, interview.catalog)


# ---------------------------------------------------------------- the state


def test_the_state_holds_only_valid_answers_and_no_stand_ins(interview):
    empty = state_of(interview, {})
    assert empty.doc["program"] == {} and empty.doc["peers"] == []  # no "Program in progress", no "AL"
    untitled = state_of(interview, {**START, "peers": [{}]})
    assert untitled.doc["peers"] == [{}]  # the peer stays, its title unanswered (no stand-in "Peer")
    assert untitled.draft.unanswered_required == ("/peers/0/title",)


def test_invalid_parts_are_left_out_and_named(interview):
    state = state_of(interview, {**TWO_PEERS, "peers": [{"title": "A", "fte": 3}], "program": {**START["program"], "state": "ZZ"}})
    assert {p.pointer for p in state.problems} == {"/peers/0/fte", "/program/state"}
    assert "fte" not in state.doc["peers"][0] and "state" not in state.doc["program"]


def test_the_hidden_field_round_trips_and_bad_text_is_a_problem_not_an_error(interview):
    state = state_of(interview, {**TWO_PEERS, "dont_know": ["/peers/0/fte"]})
    raw, problems = decode(encode(state))
    assert problems == [] and state_of(interview, raw).doc == state.doc
    raw, problems = decode("{not json")
    assert raw == {} and "could not be read" in problems[0].detail
    raw, problems = decode("")
    assert raw == {} and problems == []


def test_removing_a_peer_moves_later_peers_dont_know_answers_up(interview):
    doc = {**TWO_PEERS, "peers": [{"title": "A"}, {"title": "B"}, {"title": "C"}],
           "dont_know": ["/peers/0/fte", "/peers/1/fte", "/peers/2/benefits", "/supervision/frequency"]}
    remove_peer(doc, 1)
    assert [p["title"] for p in doc["peers"]] == ["A", "C"]
    assert doc["dont_know"] == ["/peers/0/fte", "/peers/1/benefits", "/supervision/frequency"]
    remove_peer(doc, 7)  # no such peer: nothing happens
    assert len(doc["peers"]) == 2


def test_removing_a_peer_keeps_each_acknowledgement_with_its_peer(interview):
    program_wide = {"rule_id": "PC-SUP-001", "reason": "Reviewed by the board"}
    doc = {**TWO_PEERS, "peers": [{"title": "A"}, {"title": "B"}, {"title": "C"}],
           "acknowledged": [program_wide, {"rule_id": "PC-ROLE-001", "reason": "Only for A", "subject": "/peers/0"},
                            {"rule_id": "PC-ROLE-002", "reason": "Only for C", "subject": "/peers/2"},
                            {"rule_id": "PC-ROLE-003", "reason": "The program itself", "subject": ""}]}
    remove_peer(doc, 0)
    assert doc["acknowledged"] == [program_wide, {"rule_id": "PC-ROLE-002", "reason": "Only for C", "subject": "/peers/1"},
                                   {"rule_id": "PC-ROLE-003", "reason": "The program itself", "subject": ""}]
    state = state_of(interview, doc)
    assert state.problems == () and state.doc["acknowledged"] == doc["acknowledged"]  # still a valid draft
    remove_peer(doc, 1)  # C goes, and its acknowledgement with it; the others stay
    assert [a["reason"] for a in doc["acknowledged"]] == ["Reviewed by the board", "The program itself"]


def test_an_invalid_acknowledgement_is_left_out_alone(interview):
    kept = [{"rule_id": "PC-SUP-001", "reason": "Reviewed by the board"},
            {"rule_id": "PC-ROLE-002", "reason": "Only for B", "subject": "/peers/1"}]
    doc = {**TWO_PEERS, "acknowledged": [kept[0], {"rule_id": "PC-ROLE-001", "reason": "No such peer", "subject": "/peers/5"},
                                         {"rule_id": "nope", "reason": "x"}, kept[1]]}
    sent = json.dumps(doc)
    state = state_of(interview, doc)
    assert state.doc["acknowledged"] == kept
    assert {p.pointer for p in state.problems} == {"/acknowledged/1/subject", "/acknowledged/2/rule_id", "/acknowledged/2/reason"}
    assert json.dumps(doc) == sent  # the caller's document is not changed
    only_bad = state_of(interview, {**TWO_PEERS, "acknowledged": [{"rule_id": "PC-ROLE-001", "reason": "x y", "subject": "/peers/9"}]})
    assert "acknowledged" not in only_bad.doc and [p.pointer for p in only_bad.problems] == ["/acknowledged/0/subject"]


def test_peers_are_added_up_to_the_forms_limit():
    doc: dict = {}
    assert all(add_peer(doc) for _ in range(MAX_FORM_PEERS))
    assert not add_peer(doc) and len(doc["peers"]) == MAX_FORM_PEERS


def test_clearing_a_nested_answer_leaves_no_empty_object():
    doc = {"peers": [{"title": "A", "employer_policies": {"transport_allowed": True}}]}
    set_answer(doc, "/peers/0/employer_policies/transport_allowed", None)
    assert doc["peers"][0] == {"title": "A"}


# ---------------------------------------------------------------- which questions a step shows


def test_the_first_step_asks_name_and_state_first(interview):
    view = build_step(interview, state_of(interview, {}), "program")
    assert [f.pointer for f in view.fields][:2] == ["/program/name", "/program/state"]
    assert not view.fields[0].dont_know_allowed and view.fields[0].required
    assert view.fields[1].control == "select" and len(view.fields[1].choices) == 56


def test_a_step_shows_its_open_questions_in_the_rankings_order(interview):
    state = state_of(interview, TWO_PEERS)
    ranked = [q.pointer for q in interview.next(state.doc, limit=200).questions if q.section == "policies"]
    view = build_step(interview, state, "policies")
    assert len(view.fields) == min(PAGE_SIZE, len(ranked))
    assert [f.pointer for f in view.fields] == ranked[:PAGE_SIZE]
    assert view.more == len(ranked) - len(view.fields)
    assert all(f.why for f in view.fields)  # each says why we ask
    shown_again = build_step(interview, state, "policies", skip=frozenset(f.pointer for f in view.fields))
    assert [f.pointer for f in shown_again.fields] == ranked[PAGE_SIZE:2 * PAGE_SIZE]


def test_the_peers_step_names_each_peer_with_its_title_and_its_own_questions(interview):
    view = build_step(interview, state_of(interview, TWO_PEERS), "peers")
    assert [(b.name, b.title) for b in view.peers] == [("Peer 1", "Peer Recovery Specialist"), ("Peer 2", "Peer Navigator")]
    second = view.peers[1]
    assert second.fields[0].pointer == "/peers/1/title"
    assert all(f.pointer.startswith("/peers/1/") for f in second.fields + second.answered)
    assert [f.pointer for f in second.answered] == ["/peers/1/active_caseload"]
    assert second.answered[0].value == "12"
    assert second.fields[1].heading.startswith("Peer 2 › ")


def test_a_program_without_peers_is_asked_for_the_first_one(interview):
    view = build_step(interview, state_of(interview, START), "peers")
    assert [b.name for b in view.peers] == ["Peer 1"] and [f.pointer for f in view.peers[0].fields] == ["/peers/0/title"]


def test_options_are_labelled_and_every_optional_question_can_be_dont_know(interview):
    state = state_of(interview, TWO_PEERS)
    everything = [f for step in ("program", "supervision", "policies", "hiring")
                  for f in build_step(interview, state, step).fields]
    everything += [f for b in build_step(interview, state, "peers").peers for f in b.fields]
    assert everything
    for f in everything:
        assert f.dont_know_allowed != f.required
        assert all(c.label and c.label != c.value or c.value in ("yes", "no") for c in f.choices)
    duties = next(f for f in everything if f.pointer == "/peers/0/duties")
    assert duties.groups and sum(len(c) for _, c in duties.groups) == 56  # Appendix C, by table
    assert field_id("/peers/1/active_caseload") == "f-peers-1-active_caseload"


# ---------------------------------------------------------------- reading answers


def answer(interview, doc, shown, form):
    return read_answers(interview, state_of(interview, doc), shown, form)


def test_answers_of_every_kind_are_read(interview):
    shown = ["/program/host_agency", "/program/secure_funding", "/program/funding", "/peers/1/fte",
             "/peers/1/months_in_recovery", "/peers/0/benefits"]
    doc, errors = answer(interview, TWO_PEERS, shown, {
        "/program/host_agency": ["jail"], "/program/secure_funding": ["no"], "/program/funding": [NONE],
        "/peers/1/fte": ["0.5"], "/peers/1/months_in_recovery__dont_know__": ["1"], "/peers/0/benefits": [DONT_KNOW]})
    assert errors == {}
    assert doc["program"]["host_agency"] == "jail" and doc["program"]["secure_funding"] is False
    assert doc["program"]["funding"] == [] and doc["peers"][1]["fte"] == 0.5
    assert doc["dont_know"] == ["/peers/1/months_in_recovery", "/peers/0/benefits"]


def test_a_blank_answer_clears_the_earlier_one_and_its_dont_know(interview):
    before = {**TWO_PEERS, "dont_know": ["/peers/0/fte"]}
    doc, errors = answer(interview, before, ["/peers/1/active_caseload", "/peers/0/fte"], {})
    assert errors == {} and "active_caseload" not in doc["peers"][1] and "dont_know" not in doc


@pytest.mark.parametrize("shown,form,expected", [
    ("/peers/1/active_caseload", {"/peers/1/active_caseload": ["lots"]}, "Peer 2 › Active caseload: enter a number, like 12"),
    ("/peers/1/active_caseload", {"/peers/1/active_caseload": ["2.5"]}, "Peer 2 › Active caseload: enter a whole number"),
    ("/peers/0/fte", {"/peers/0/fte": ["3"]}, "Peer 1 › Full-time equivalent (FTE): enter a number from 0.01 to 1"),
    ("/peers/0/fte", {"/peers/0/fte": ["0.5"], "/peers/0/fte__dont_know__": ["1"]}, "not both"),
    ("/program/name", {"/program/name": [" "]}, "Program › Program name: enter the program name"),
    ("/program/state", {"/program/state": [DONT_KNOW]}, "cannot be “Don't know”"),
    ("/program/host_agency", {"/program/host_agency": ["castle"]}, "choose from the options shown"),
    ("/program/funding", {"/program/funding": ["medicaid", NONE]}, "“None of these”, not both"),
    ("/program/secure_funding", {"/program/secure_funding": ["yes", "no"]}, "choose one answer"),
])
def test_answers_that_do_not_fit_are_named_in_plain_words(interview, shown, form, expected):
    doc, errors = answer(interview, TWO_PEERS, [shown], form)
    assert list(errors) == [shown] and expected in errors[shown]
    assert doc == state_of(interview, TWO_PEERS).doc  # nothing half-applied for that field


def test_a_tampered_list_of_shown_questions_changes_nothing_else(interview):
    doc, errors = answer(interview, TWO_PEERS, ["/program/nope", "/dont_know"], {"/program/nope": ["x"]})
    assert errors == {} and doc == state_of(interview, TWO_PEERS).doc
    assert json.dumps(doc)  # still a JSON document
