"""engine.encoding writes a decision as pydantic would, from pieces it keeps between decisions."""

import json

import pydantic
import pytest

from conftest import profile
from engine.encoding import decision_json, members
from strategies import profiles
from test_engine_differential import FIXTURE_PROFILES
from hypothesis import HealthCheck, given, settings


def test_fixture_decisions_are_written_as_pydantic_writes_them(evaluator):
    for _, data in FIXTURE_PROFILES:
        decision = evaluator.evaluate(profile(data))
        for _ in range(2):  # the second time from what was kept
            assert decision_json(decision) == decision.model_dump_json().encode()
            assert decision_json(decision, rules=False) == decision.model_dump_json(exclude={"needs_information"}).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=profiles)
def test_generated_decisions_are_written_as_pydantic_writes_them(evaluators, data):
    evaluator = evaluators["interpreter"]
    decision = evaluator.evaluate(profile(data))
    assert decision_json(decision) == decision.model_dump_json().encode()


def test_members_continue_the_object(evaluators):
    from api.routes.evaluations import EvaluationResult

    decision = evaluators["interpreter"].evaluate(profile(FIXTURE_PROFILES[0][1]))
    answer = EvaluationResult.model_construct(**decision.__dict__, recorded=True, explanation=None, external_id="A-1",
                                              labels=None, verdict=None, failing_rules=None)
    tail = members(answer, include={"external_id", "recorded", "explanation"})
    assert tail == b',"external_id":"A-1","recorded":true,"explanation":null'
    written = decision_json(decision, tail=tail)
    assert written == answer.model_dump_json(exclude={"labels", "verdict", "failing_rules"}).encode()
    assert json.loads(written)["recorded"] is True


def test_shared_values_cannot_change_under_their_kept_json(evaluators):
    """What is kept is keyed by the value: only immutable values may be shared."""
    decision = next(d for d in (evaluators["interpreter"].evaluate(profile(data)) for _, data in FIXTURE_PROFILES)
                    if d.questions)
    with pytest.raises(pydantic.ValidationError):
        decision.questions[0].value = 0.0
