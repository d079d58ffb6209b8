"""Bad rule data stops start-up with one message naming the file; nothing half-loads."""

import shutil
from pathlib import Path

import pytest
import yaml

from engine import LoadError, load_ruleset

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def load(rules_dir: Path):
    return load_ruleset(rules_dir, rules_dir / "catalog/activities.yaml", rules_dir / "catalog/states.yaml", rules_dir / "sources")


def edit(path: Path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


CASELOAD = "caseload/PC-CASELOAD-001.yaml"


def test_the_shipped_rules_load(rules_copy):
    ruleset = load(rules_copy)
    assert len(ruleset.rules) >= 20
    assert ruleset.version.startswith("rs-")


@pytest.mark.parametrize("change,problem", [
    (lambda d: d.update(severity="urgent"), "severity"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d.update(condition={"$gt": {"caseload": 30}}), "unknown fact field 'caseload'"),
    (lambda d: d.update(condition={"$gt": {"caseload_per_fte": {"$param": "nope"}}}), "unknown parameter"),
    (lambda d: d["citations"][0].update(source="made-up-2024"), "unknown source 'made-up-2024'"),
    (lambda d: d["citations"][0].update(quote="Caseloads must never exceed twelve participants per peer."), "quote not found"),
    (lambda d: d.update(message="{peer_label} has {no_such_value}"), "unknown name"),
    (lambda d: d.update(citations=[]), "citations"),
    (lambda d: d.update(remediation=None), "remediation"),
])
def test_a_broken_rule_names_its_file(rules_copy, change, problem):
    edit(rules_copy / CASELOAD, change)
    with pytest.raises(LoadError) as info:
        load(rules_copy)
    assert "PC-CASELOAD-001.yaml" in str(info.value)
    assert problem in str(info.value)


def test_invalid_yaml(rules_copy):
    (rules_copy / CASELOAD).write_text("id: [unclosed\n")
    with pytest.raises(LoadError, match="PC-CASELOAD-001.yaml: not valid YAML"):
        load(rules_copy)


def test_duplicate_rule_id(rules_copy):
    shutil.copy(rules_copy / CASELOAD, rules_copy / "staffing" / "PC-CASELOAD-001.yaml")
    with pytest.raises(LoadError, match="PC-CASELOAD-001"):
        load(rules_copy)


def test_file_name_must_match_the_id(rules_copy):
    (rules_copy / CASELOAD).rename(rules_copy / "caseload" / "PC-CASELOAD-099.yaml")
    with pytest.raises(LoadError, match="file name must be the rule id"):
        load(rules_copy)


def test_bad_activity_catalog(rules_copy):
    edit(rules_copy / "catalog/activities.yaml", lambda d: d["activities"][0].update(classification="maybe"))
    with pytest.raises(LoadError, match="activities.yaml"):
        load(rules_copy)


def test_bad_state_table(rules_copy):
    edit(rules_copy / "catalog/states.yaml", lambda d: d["states"]["NY"]["citation"].update(quote="New York requires 36 months of sobriety."))
    with pytest.raises(LoadError, match="states.yaml: quote not found"):
        load(rules_copy)


def test_the_app_does_not_start_on_bad_rules(rules_copy):
    from api.main import create_app
    from api.settings import Settings

    edit(rules_copy / CASELOAD, lambda d: d.update(severity="urgent"))
    with pytest.raises(LoadError, match="PC-CASELOAD-001.yaml"):
        create_app(Settings(rules_dir=rules_copy))


def test_version_changes_with_a_threshold(rules_copy):
    before = load(rules_copy).version
    edit(rules_copy / CASELOAD, lambda d: d["parameters"]["caseload_max"].update(value=25))
    assert load(rules_copy).version != before


OVERRIDE = """
description: Stricter county caseload policy and a verified state row
parameters:
  PC-CASELOAD-001: {caseload_max: 20}
states:
  FL: {name: Florida, recovery_requirement: required_no_length, summary: Verified with the board., basis: operator, as_of: "2026-11", source_note: Letter from the Florida Certification Board}
activities:
  cigarette: {classification: conflict, reason: The county's smoke-free policy.}
"""


def test_overrides_change_thresholds_states_and_version(rules_copy, tmp_path):
    from conftest import profile, variant
    from engine import Evaluator, make_engine

    path = tmp_path / "overrides.yaml"
    path.write_text(OVERRIDE)
    base, custom = load(rules_copy), load_ruleset(
        rules_copy, rules_copy / "catalog/activities.yaml", rules_copy / "catalog/states.yaml", rules_copy / "sources",
        overrides_file=path)
    assert custom.version != base.version and custom.loaded_from[-1] == str(path)
    p = profile(variant({"/peers/0/active_caseload": 25, "/program/state": "FL", "/peers/1/duties": ["cigarette"]}))
    for ruleset in (base, custom):
        fired = {f.rule_id for f in Evaluator(ruleset, make_engine("interpreter", ruleset)).evaluate(p).findings}
        if ruleset is base:
            assert "PC-CASELOAD-001" not in fired and "PC-CERT-012" in fired and "PC-ROLE-002" not in fired
        else:  # the operator's verified row is the state table's row now: PC-CERT-002, not the researched summary
            assert {"PC-CASELOAD-001", "PC-CERT-002", "PC-ROLE-002"} <= fired and "PC-CERT-012" not in fired


def test_reclassifying_a_clinical_activity_moves_it_to_its_new_rule(rules_copy, tmp_path):
    """Clinical work has its own rule only while it is classified a conflict: an operator's
    reclassification moves it to the rule of its new class."""
    from conftest import profile, variant
    from engine import Evaluator, make_engine

    path = tmp_path / "overrides.yaml"
    path.write_text("description: Licensed peer clinicians\n"
                    "activities:\n  therapy_session: {classification: agency_decision, reason: Our peers are licensed counsellors.}\n")
    custom = load_ruleset(rules_copy, rules_copy / "catalog/activities.yaml", rules_copy / "catalog/states.yaml",
                          rules_copy / "sources", overrides_file=path)
    p = profile(variant({"/peers/0/duties": ["therapy_session"], "/policies/written_job_description": False}))
    for ruleset, clinical, undecided in ((load(rules_copy), True, False), (custom, False, True)):
        fired = {(f.rule_id, f.subject.pointer) for f in Evaluator(ruleset, make_engine("interpreter", ruleset)).evaluate(p).findings}
        assert (("PC-ROLE-012", "/peers/0") in fired) is clinical
        assert (("PC-ROLE-010", "/peers/0") in fired) is undecided
        assert ("PC-ROLE-002", "/peers/0") not in fired


@pytest.mark.parametrize("text,problem", [
    ("description: test file\nparameters: {PC-NOPE-001: {a: 1}}\n", "unknown rule"),
    ("description: test file\nparameters: {PC-CASELOAD-001: {nope: 1}}\n", "has no parameter 'nope'"),
    ("description: test file\nparameters: {PC-CASELOAD-001: {caseload_max: 'thirty'}}\n", "expected a value like 30"),
    ("description: test file\nactivities: {flying: {classification: peer, reason: because}}\n", "unknown activity"),
    ("description: test file\nstates: {ZZ: {name: Z, recovery_requirement: not_required, summary: s, basis: operator, as_of: '2026', source_note: n}}\n", "USPS"),
    ("description: test file\nstates: {FL: {name: F, recovery_requirement: not_required, summary: s, basis: operator, as_of: '2026'}}\n", "source_note"),
    ("description: test file\ncolour: red\n", "colour"),
])
def test_bad_override_files_name_the_file(rules_copy, tmp_path, text, problem):
    path = tmp_path / "ops.yaml"
    path.write_text(text)
    with pytest.raises(LoadError) as info:
        load_ruleset(rules_copy, rules_copy / "catalog/activities.yaml", rules_copy / "catalog/states.yaml",
                     rules_copy / "sources", overrides_file=path)
    assert "ops.yaml" in str(info.value) and problem in str(info.value)
