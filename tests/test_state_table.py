"""The state table: the tool kit's ten rows unchanged, and researched facts that are typed, dated,
sourced and never a figure without a source; coverage of the 51 jurisdictions; the loader's checks."""

import shutil
from pathlib import Path

import pytest
import yaml

from engine import LoadError, load_ruleset
from engine.catalog import SourceBasis, load_states
from engine.jurisdictions import fact_lines, figure
from engine.profile import USState

ROOT = Path(__file__).resolve().parent.parent
RESEARCH = ROOT / "rules/catalog/state_requirements.yaml"
STATES_AND_DC = [s.value for s in USState if s.value not in ("PR", "GU", "VI", "AS", "MP")]
# The jurisdictions where no cited recovery requirement was found; each says what was searched.
WITHOUT_A_CITED_REQUIREMENT = {"NH", "NJ", "SD", "VA", "VT"}


@pytest.fixture(scope="module")
def table():
    return load_states()


def test_the_ten_tool_kit_rows_are_unchanged(table):
    expected = {
        "NY": "not_required", "IA": "not_required", "CT": "not_required",
        "RI": "recommended", "OR": "recommended",
        "AK": "required_no_length", "AZ": "required_no_length", "DE": "required_no_length", "OH": "required_no_length",
        "TX": "self_directed",
    }
    assert {code: row.recovery_requirement.value for code, row in table.states.items()} == expected
    for code, row in table.states.items():
        assert row.basis == "source" and row.as_of == "2020" and row.citation.source == "lappa-2023"


def test_every_jurisdiction_is_researched_or_says_why_not(table):
    for state in USState:
        assert state.value in table.researched or state.value in table.not_researched, state.value


def test_at_least_45_of_51_have_a_cited_recovery_requirement(table):
    cited = {code for code in STATES_AND_DC if code in table.states or table.researched[code].recovery_facts()}
    assert len(STATES_AND_DC) == 51 and len(cited) >= 45
    assert set(STATES_AND_DC) - cited == WITHOUT_A_CITED_REQUIREMENT
    for code in WITHOUT_A_CITED_REQUIREMENT:
        assert table.researched[code].searched, f"{code}: say what was searched"


def test_no_figure_without_a_source_in_the_file():
    """Read as plain YAML, not through the model: every number of months or hours sits in a fact
    that names a source of its own row, and every source has an address, a basis and a date."""
    data = yaml.safe_load(RESEARCH.read_text())

    def walk(node, sources, where):
        if isinstance(node, dict):
            if "months" in node or "hours" in node:
                assert node.get("source") in sources, f"{where}: a figure without a source of this row"
            for key, value in node.items():
                walk(value, sources, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, sources, f"{where}[{i}]")

    for code, row in data["jurisdictions"].items():
        sources = row["sources"]
        for key, source in sources.items():
            assert source["url"].startswith(("http://", "https://")), f"{code}.{key}"
            assert source["basis"] in ("primary", "secondary") and source["consulted"], f"{code}.{key}"
        walk(row.get("credentials", []), sources, f"{code}.credentials")
        walk(row.get("medicaid", {}), sources, f"{code}.medicaid")


def test_every_fact_is_typed_dated_and_sourced(table):
    kinds = {"recovery", "training_hours", "supervised_hours", "exam", "lived_experience_attestation",
             "required_to_practise", "medicaid", "certification"}
    count = 0
    for code, row in table.researched.items():
        for line in fact_lines(row):
            count += 1
            assert line.fact in kinds and line.value
            assert line.source.url and line.source.basis in (SourceBasis.primary, SourceBasis.secondary)
            assert line.source.as_of >= "2012", f"{code}: {line.fact} has no usable date"
    assert count > 150


def test_secondary_sources_name_their_compiler(table):
    for code, row in table.researched.items():
        for key, source in row.sources.items():
            if source.basis == SourceBasis.secondary:
                assert source.publisher and len(source.publisher) > 5, f"{code}.{key}"


def test_newer_sources_that_disagree_with_the_tool_kit_are_flagged(table):
    """For the tool kit's ten states, a researched recovery fact on a recovery-coach kind of
    credential (substance-use or integrated) that says something else must be flagged, not hidden."""
    for code, guidance in table.states.items():
        research = table.researched.get(code)
        facts = research.recovery_facts() if research else []
        differing = [c.name for c, f in facts if c.kind.value != "mental_health"
                     and f.requirement.value != guidance.recovery_requirement.value]
        assert bool(differing) == bool(research and research.conflict_with_guidance), code
    assert table.researched["OR"].conflict_with_guidance


def test_a_figure_holds_only_when_every_matching_credential_states_one(table):
    pa, al, tn = table.researched["PA"], table.researched["AL"], table.researched["TN"]
    assert figure(pa, "substance_use").months == 18
    assert figure(pa, "mental_health") is None and figure(pa, None) is None  # CPS states no length
    assert figure(al, "substance_use").months == 24 and figure(al, None) is None
    assert figure(tn, None).months == 24 and figure(tn, "mental_health").months == 24  # one integrated credential
    ga = table.researched["GA"]
    assert figure(ga, None).months == 12 and figure(ga, "substance_use").months == 24  # the lowest bar when unknown


@pytest.fixture()
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def _edit(path: Path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _pa(data):
    return data["jurisdictions"]["PA"]


@pytest.mark.parametrize("change,problem", [
    (lambda d: _pa(d)["credentials"][0]["recovery"].update(source="nowhere"), "not among this row's sources"),
    (lambda d: _pa(d)["credentials"][0]["recovery"].pop("months"), "exactly when the requirement is `months`"),
    (lambda d: _pa(d)["credentials"][0]["training_hours"].pop("source"), "source"),
    (lambda d: _pa(d)["sources"]["pcb-crs"].pop("consulted"), "consulted"),
    (lambda d: _pa(d)["sources"]["pcb-crs"].update(basis="hearsay"), "basis"),
    (lambda d: _pa(d)["sources"]["pcb-crs"].update(url="pacertboard.org/crs"), "url"),
    (lambda d: _pa(d)["sources"].update(spare={"url": "https://example.org", "publisher": "Someone", "title": "A page",
                                                 "basis": "primary", "consulted": "2026-12-02"}), "never used"),
    (lambda d: _pa(d).update(credentials=[]), "what was searched"),
    (lambda d: d["jurisdictions"].update(ZZ=d["jurisdictions"].pop("PA")), "USPS"),
])
def test_bad_research_rows_stop_loading(rules_copy, change, problem):
    _edit(rules_copy / "catalog/state_requirements.yaml", change)
    with pytest.raises(LoadError) as info:
        load_ruleset(rules_copy)
    assert "state_requirements.yaml" in str(info.value) and problem in str(info.value)


def test_an_operator_can_refresh_a_researched_row(rules_copy, tmp_path):
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import profile, variant
    from engine import Evaluator, make_engine

    row = yaml.safe_load(RESEARCH.read_text())["jurisdictions"]["PA"]
    row["sources"]["letter"] = {"url": "https://www.pacertboard.org/", "publisher": "Pennsylvania Certification Board",
                                "title": "Letter to the county", "basis": "primary", "stated": "2026-11", "consulted": "2026-11-20"}
    row["credentials"][0]["recovery"] = {"requirement": "months", "months": 24, "note": "Confirmed by letter.", "source": "letter"}
    path = tmp_path / "ops.yaml"
    path.write_text(yaml.safe_dump({"description": "Pennsylvania confirmed by letter", "state_requirements": {"PA": row}}))
    ruleset = load_ruleset(rules_copy, overrides_file=path)
    assert ruleset.states.researched["PA"].credentials[0].recovery.months == 24
    p = profile(variant({"/program/state": "PA", "/peers/0/credential": "substance_use", "/peers/0/months_in_recovery": 20}))
    findings = {f.rule_id: f for f in Evaluator(ruleset, make_engine("interpreter", ruleset)).evaluate(p).findings}
    assert "24 months" in findings["PC-CERT-007"].message and "as of 2026-11" in findings["PC-CERT-007"].message


def test_docs_states_md_is_generated_from_the_data():
    from engine.states_doc import render

    committed = (ROOT / "docs/states.md").read_text()
    assert committed == render(load_states()), "docs/states.md is stale: run `python -m engine.states_doc > docs/states.md`"
    assert "46 of 51 states and DC" in committed


def test_the_operator_example_in_the_docs_loads(rules_copy, tmp_path):
    text = (ROOT / "docs/states.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "ops.yaml"
    path.write_text(block)
    ruleset = load_ruleset(rules_copy, overrides_file=path)
    assert ruleset.states.states["FL"].basis == "operator"
    assert ruleset.states.researched["PA"].sources["letter"].as_of == "2026-11"


def test_the_profile_credential_codes_are_the_state_tables_kinds():
    from engine.catalog import CredentialKind
    from engine.profile import Credential

    assert [c.value for c in Credential] == [k.value for k in CredentialKind]
    assert all(c.label for c in Credential)
