"""The generated fact builder: facts built for some fields agree with the full facts on them.

``FactBuilder`` writes out only the recipes of the fields a ruleset reads (a recipe may build a few
neighbours too, e.g. a list and its count). Whatever the choice of fields, every fact must hold
each chosen field exactly as the full builder does (present with the same value, or absent), and
nothing the full builder would not — on every fixture and on generated profiles — and a ruleset's
builder must cover every field its rules read."""

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import profile
from engine.facts import ALWAYS, VOCABULARY, FactBuilder
from engine.language import referenced_fields
from engine.ruleset import fields_read
from strategies import profiles
from test_engine_differential import FIXTURE_PROFILES

FIELDS = sorted(VOCABULARY)
INTERNAL = {"kind", "peer_index"}


def cut(facts: list[dict], fields: frozenset[str]) -> list[dict]:
    return [{k: v for k, v in f.items() if k in fields or k in INTERNAL} for f in facts]


def agrees(part: list[dict], full: list[dict], fields: frozenset[str]) -> bool:
    """``part`` holds the chosen fields as ``full`` does, and nothing ``full`` does not hold."""
    return (cut(part, fields) == cut(full, fields)
            and all(f.items() <= g.items() for f, g in zip(part, full)) and len(part) == len(full))


def test_full_builder_builds_the_vocabulary(ruleset):
    full = FactBuilder(ruleset.activities, ruleset.states)
    seen = set()
    for _, data in FIXTURE_PROFILES:
        for fact in full.build(profile(data)):
            seen.update(fact)
            assert set(fact) - INTERNAL <= set(VOCABULARY)
            assert None not in fact.values(), "an unknown value is left out, never None"
    assert seen - INTERNAL == set(VOCABULARY), "some vocabulary field is never built on any fixture"


def test_field_subsets_on_fixtures(ruleset):
    full = FactBuilder(ruleset.activities, ruleset.states)
    rng = random.Random(15)
    for size in (0, 1, 3, 10, 40, len(FIELDS)):
        fields = frozenset(rng.sample(FIELDS, size))
        part = FactBuilder(ruleset.activities, ruleset.states, fields)
        for _, data in FIXTURE_PROFILES:
            p = profile(data)
            assert agrees(part.build(p), full.build(p), fields | ALWAYS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=profiles, fields=st.sets(st.sampled_from(FIELDS)))
def test_field_subsets_on_generated_profiles(ruleset, data, fields):
    full = FactBuilder(ruleset.activities, ruleset.states)
    part = FactBuilder(ruleset.activities, ruleset.states, frozenset(fields))
    p = profile(data)
    assert agrees(part.build(p), full.build(p), frozenset(fields) | ALWAYS)


def test_ruleset_builds_every_field_its_rules_read(ruleset):
    built = ruleset.facts.fields
    for rule in ruleset.rules:
        read = set(referenced_fields(rule.condition)) | set(rule.evidence)
        if rule.applies_when is not None:
            read |= set(referenced_fields(rule.applies_when))
        assert read <= built, rule.id
    assert fields_read(ruleset.rules) | ALWAYS == built


def test_subset_ruleset_builds_fewer_fields(ruleset):
    small = ruleset.only(["PC-CASELOAD-001", "PC-VOLUNTARY-001"])
    assert [r.id for r in small.rules] == ["PC-CASELOAD-001", "PC-VOLUNTARY-001"]
    assert small.facts.fields == fields_read(small.rules) | ALWAYS
    assert {"referral_mandated", "active_caseload"} <= small.facts.fields
    assert len(small.facts.fields) < len(ruleset.facts.fields) / 3
    built = set().union(*small.facts.build(next(profile(d) for _, d in FIXTURE_PROFILES)))
    assert "policy_consent_protocol" not in built and "supervision_frequency" not in built
    assert small.version != ruleset.version
    assert small.rule("PC-ROLE-001") is None and small.rule("PC-CASELOAD-001") is not None
