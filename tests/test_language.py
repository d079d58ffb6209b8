"""The condition language: durable_rules' semantics the interpreter must mirror, checked on
both engines directly, and conditions the loader must refuse."""

import pytest

from conftest import ENGINE_NAMES, require_engine
from engine.durable_engine import DurableEngine
from engine.facts import FIELD_TYPES
from engine.interpreter import Interpreter
from engine.language import ConditionError, check, substitute_params

CASES = [
    # (condition, fact fields, expected)
    ({"$gt": {"active_caseload": 30}}, {"active_caseload": 31}, True),
    ({"$gt": {"active_caseload": 30}}, {"active_caseload": 30}, False),
    ({"$gt": {"active_caseload": 30}}, {}, False),                      # missing never satisfies
    ({"$neq": {"certification": "certified"}}, {}, False),              # not even $neq
    ({"$neq": {"certification": "certified"}}, {"certification": "in_progress"}, True),
    ({"$lte": {"fte": 0.5}}, {"fte": 0.5}, True),
    ({"benefits": False}, {"benefits": False}, True),
    ({"benefits": False}, {}, False),
    ({"$iany": {"duties": {"$i": "home_visit"}}}, {"duties": ["food_bank", "home_visit"]}, True),
    ({"$iany": {"duties": {"$i": "home_visit"}}}, {"duties": []}, False),
    ({"$iany": {"duties": {"$i": "home_visit"}}}, {}, False),
    ({"$iall": {"duties": {"$neq": {"$i": "home_visit"}}}}, {"duties": []}, False),  # empty $iall is false
    ({"$iall": {"duties": {"$neq": {"$i": "home_visit"}}}}, {"duties": ["food_bank"]}, True),
    ({"$iall": {"duties": {"$or": [{"$i": "a"}, {"$i": "b"}]}}}, {"duties": ["a", "b"]}, True),
    ({"$iall": {"duties": {"$or": [{"$i": "a"}, {"$i": "b"}]}}}, {"duties": ["a", "c"]}, False),
    ({"$or": [{"benefits": True}, {"living_wage": True}]}, {"benefits": True, "living_wage": True}, True),
    ({"$and": [{"benefits": True}, {"$nex": {"living_wage": 1}}]}, {"benefits": True}, True),
    ({"$ex": {"living_wage": 1}}, {"living_wage": False}, True),
    ({"$gt": {"active_caseload": {"$mul": {"$l": {"$m": "fte"}, "$r": 30}}}}, {"active_caseload": 20, "fte": 0.5}, True),
    ({"$gt": {"active_caseload": {"$mul": {"$l": {"$m": "fte"}, "$r": 30}}}}, {"active_caseload": 20}, False),
    ({"$lt": {"months_in_recovery": {"$add": {"$l": {"$m": "fte"}, "$r": 1}}}}, {"months_in_recovery": 1, "fte": 0.5}, True),
]


@pytest.fixture(params=ENGINE_NAMES)
def engine_class(request):
    """Each engine's class in turn (durable_rules skips where it cannot run)."""
    require_engine(request.param)
    return {"interpreter": Interpreter, "durable_rules": DurableEngine}[request.param]


@pytest.mark.parametrize("condition,fields,expected", CASES)
def test_both_engines_agree_with_the_documented_semantics(engine_class, condition, fields, expected):
    check(condition, FIELD_TYPES["peer"])
    rules = [("r", "peer", condition)]
    fact = {"kind": "peer", "state": "NY", **fields}
    assert (("r", 0) in engine_class(rules).hits([fact])) is expected


def test_or_with_two_true_branches_is_one_hit(engine_class):
    rules = [("r", "peer", {"$or": [{"benefits": True}, {"living_wage": True}]})]
    fact = {"kind": "peer", "benefits": True, "living_wage": True}
    assert engine_class(rules).hits([fact]) == {("r", 0)}


def test_scope_separates_program_and_peer_facts(engine_class):
    rules = [("prog", "program", {"peer_count": 1}), ("peer", "peer", {"peer_count": 1})]
    facts = [{"kind": "program", "peer_count": 1}, {"kind": "peer", "peer_count": 1}]
    assert engine_class(rules).hits(facts) == {("prog", 0), ("peer", 1)}


@pytest.mark.parametrize("condition,problem", [
    ({"$div": {"$l": 1, "$r": 0}}, "not supported"),
    ({"$gt": {"active_caseload": {"$div": {"$l": {"$m": "fte"}, "$r": 0}}}}, "not supported"),
    ({"$mt": {"peer_title": "x.*"}}, "not supported"),
    ({"$gt": {"active_caseload": "30"}}, "type"),            # durable would coerce '30'
    ({"$lt": {"certification": "b"}}, "number field"),
    ({"no_such_field": 1}, "unknown fact field"),
    ({"duties": "home_visit"}, "list"),
    ({"$and": []}, "non-empty"),
    ({"a": 1, "b": 2}, "exactly one key"),
    ({"$iany": {"duties": {"$gt": {"$i": 1}}}}, "only $i"),
    ({"$gt": {"active_caseload": None}}, "type"),
])
def test_loader_refuses(condition, problem):
    with pytest.raises(ConditionError, match=problem.replace("$", r"\$")):
        check(condition, FIELD_TYPES["peer"])


def test_program_rules_cannot_read_peer_fields():
    with pytest.raises(ConditionError, match="unknown fact field"):
        check({"$gt": {"active_caseload": 1}}, FIELD_TYPES["program"])


def test_parameters_are_substituted_and_unknown_ones_refused():
    assert substitute_params({"$gt": {"x": {"$param": "m"}}}, {"m": 30}) == {"$gt": {"x": 30}}
    with pytest.raises(ConditionError, match="unknown parameter"):
        substitute_params({"$gt": {"x": {"$param": "n"}}}, {"m": 30})
