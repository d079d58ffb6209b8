"""Loading the rule data: every rule file, the catalogs and the sources, checked as a whole.

Loading is all-or-nothing. Any problem — bad YAML, an unknown key, a condition outside the
language, a field not in the fact vocabulary, an unknown parameter, a duplicate id, a citation
to an unknown source or a quote not in its source — raises ``LoadError`` naming the file, so
the service never starts half-loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from engine.catalog import (
    ACTIVITIES_FILE,
    Classification,
    ResearchedRow,
    StateRow,
    RULES_DIR,
    STATES_FILE,
    ActivityCatalog,
    LoadError,
    StateTable,
    load_activities,
    load_states,
    parse,
    read_yaml,
)
from engine.facts import FIELD_TYPES, VOCABULARY, FactBuilder
from engine.interpreter import compile_certainly_false, compile_condition
from engine.jurisdictions import TEMPLATE_NAMES as STATE_TEMPLATE_NAMES
from engine.profile import USState
from engine.language import ConditionError, check, referenced_fields, substitute_params
from engine.sources import SOURCES_DIR, SourceLibrary
from engine.spec import RuleSpec

# Names a message template may use besides fact fields and parameters.
TEMPLATE_EXTRAS = {"peer_label", "state_name"} | STATE_TEMPLATE_NAMES
LABELLED_LISTS = {name for name in VOCABULARY if name.startswith("duties")} - {
    n for n in VOCABULARY if n.endswith("_count")
}


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    condition: dict[str, Any]  # parameters substituted
    applies_when: dict[str, Any] | None
    required: tuple[str, ...]  # fields whose absence makes the rule "needs information"
    applies_required: tuple[str, ...]
    evidence: tuple[str, ...]  # fields shown as evidence, in order
    params: dict[str, Any]
    required_set: frozenset[str] = frozenset()
    # Interpreter predicates used to tell a certain miss from one that needs information;
    # the same code for both engines, so their answers stay identical.
    holds: Callable[[dict[str, Any]], bool] = field(default=lambda fact: False, repr=False)
    certainly_false: Callable[[dict[str, Any]], bool] = field(default=lambda fact: False, repr=False)
    applies_certainly_false: Callable[[dict[str, Any]], bool] = field(default=lambda fact: False, repr=False)

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Ruleset:
    rules: tuple[CompiledRule, ...]
    activities: ActivityCatalog
    states: StateTable
    sources: SourceLibrary
    version: str
    loaded_from: tuple[str, ...]
    facts: FactBuilder = field(repr=False)
    overrides_file: str | None = None
    overrides: "Overrides | None" = None
    _by_id: dict[str, CompiledRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rules})

    def rule(self, rule_id: str) -> CompiledRule | None:
        """The rule with this id, or None: a dict lookup (acknowledgements check every id they name)."""
        return self._by_id.get(rule_id)

    def only(self, rule_ids) -> "Ruleset":
        """This ruleset cut down to the given rules (in their order here), with facts built for
        those rules alone and its own version hash — for benchmarks that compare a rule subset."""
        wanted = set(rule_ids)
        missing = wanted - set(self._by_id)
        if missing:
            raise KeyError(f"no such rules: {sorted(missing)}")
        rules = tuple(r for r in self.rules if r.id in wanted)
        return dataclasses.replace(
            self, rules=rules, facts=FactBuilder(self.activities, self.states, fields_read(rules)),
            version=_version(list(rules), self.activities, self.states, self.sources))

    def engine_rules(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(engine rule id, scope, condition) for both engines: each rule, plus its applicability test."""
        out = []
        for rule in self.rules:
            scope = rule.spec.scope
            if rule.applies_when is not None:
                out.append((rule.id + "/applies", scope, rule.applies_when))
                out.append((rule.id, scope, {"$and": [rule.applies_when, rule.condition]}))
            else:
                out.append((rule.id, scope, rule.condition))
        return out


def fields_read(rules) -> frozenset[str]:
    """Every fact field the rules read: in conditions and applicability tests, as evidence, and in
    message and remediation templates (a duty list for its ``<list>_labels``, the credential for
    the state's values). Facts are built with these fields only."""
    out: set[str] = set()
    for rule in rules:
        out.update(referenced_fields(rule.condition))
        if rule.applies_when is not None:
            out.update(referenced_fields(rule.applies_when))
        out.update(rule.evidence)
        for template in (rule.spec.message, rule.spec.remediation):
            for name in _template_names(template):
                if name in VOCABULARY:
                    out.add(name)
                elif name.endswith("_labels") and name[: -len("_labels")] in LABELLED_LISTS:
                    out.add(name[: -len("_labels")])
                elif name in STATE_TEMPLATE_NAMES:  # the state's values for the peer's credential
                    out.add("credential_kind")
    return frozenset(out)


def rule_files(rules_dir: Path) -> list[Path]:
    """Rule files: ``rules/<category>/<id>.yaml`` (catalog/ and sources/ hold data, not rules)."""
    return sorted(
        p for p in rules_dir.glob("*/*.yaml") if p.parent.name not in ("catalog", "sources")
    )


class ActivityOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    classification: Classification
    reason: str = Field(min_length=3, description="Why this agency classifies the activity differently.")


class Overrides(BaseModel):
    """An operator's file: stricter thresholds, verified state rows, local activity classifications."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=3, description="What this file is for, e.g. 'Ohio DRC caseload policy, 2026'.")
    parameters: dict[str, dict[str, int | float | str | bool]] = Field(default_factory=dict, description="rule id -> parameter -> value")
    states: dict[str, StateRow] = Field(default_factory=dict, description="USPS code -> row (replaces or adds)")
    state_requirements: dict[str, ResearchedRow] = Field(
        default_factory=dict, description="USPS code -> researched row, in the shape of state_requirements.yaml (replaces or adds)")
    activities: dict[str, ActivityOverride] = Field(default_factory=dict, description="activity code -> classification")


def load_ruleset(
    rules_dir: Path = RULES_DIR,
    activities_file: Path | None = None,
    states_file: Path | None = None,
    sources_dir: Path | None = None,
    overrides_file: Path | None = None,
) -> Ruleset:
    """Load and check everything; raise LoadError on the first problem, naming its file.
    The catalog and sources default to ``catalog/`` and ``sources/`` inside ``rules_dir``."""
    rules_dir = Path(rules_dir)
    activities_file = activities_file or rules_dir / ACTIVITIES_FILE.relative_to(RULES_DIR)
    states_file = states_file or rules_dir / STATES_FILE.relative_to(RULES_DIR)
    sources_dir = sources_dir or rules_dir / SOURCES_DIR.relative_to(RULES_DIR)
    sources = SourceLibrary.load(sources_dir)
    activities = load_activities(activities_file)
    states = load_states(states_file)
    overrides: Overrides | None = None
    if overrides_file is not None:
        overrides = parse(Overrides, read_yaml(overrides_file), overrides_file)
    _check_citations(activities_file, [c for a in activities.activities for c in a.citations], sources)
    _check_citations(
        states_file,
        [states.default.citation] + [r.citation for r in states.states.values() if r.citation],
        sources,
    )
    _check_codes(states_file.parent / "state_requirements.yaml", [*states.researched, *states.not_researched])

    compiled: list[CompiledRule] = []
    seen: dict[str, Path] = {}
    files = rule_files(rules_dir)
    if not files:
        raise LoadError(f"{rules_dir}: no rule files found")
    param_overrides = dict(overrides.parameters) if overrides else {}
    for path in files:
        rule = _compile(path, sources, param_overrides.pop(path.stem, None), overrides_file)
        if rule.id in seen:
            raise LoadError(f"{path}: duplicate rule id {rule.id} (also in {seen[rule.id]})")
        seen[rule.id] = path
        compiled.append(rule)

    if param_overrides:
        raise LoadError(f"{overrides_file}: parameters for unknown rule(s) {sorted(param_overrides)}")
    if overrides is not None:
        activities, states = _apply_overrides(overrides, overrides_file, activities, states, sources)
    for activity in activities.activities:
        if activity.judged_by is not None and activity.judged_by not in seen:
            raise LoadError(f"{activities_file}: {activity.code}: judged_by names unknown rule {activity.judged_by}")
    builder = FactBuilder(activities, states, fields_read(compiled))
    version = _version(compiled, activities, states, sources)
    loaded_from = tuple(str(p) for p in (rules_dir, activities_file, states_file, sources_dir))
    if overrides_file is not None:
        loaded_from += (str(overrides_file),)
    return Ruleset(tuple(compiled), activities, states, sources, version, loaded_from, builder,
                   str(overrides_file) if overrides_file else None, overrides)


def _apply_overrides(overrides: "Overrides", path: Path, activities: ActivityCatalog, states: StateTable,
                     sources: SourceLibrary) -> tuple[ActivityCatalog, StateTable]:
    codes = {a.code for a in activities.activities}
    unknown = sorted(set(overrides.activities) - codes)
    if unknown:
        raise LoadError(f"{path}: unknown activity code(s) {unknown}")
    _check_codes(path, overrides.state_requirements)
    for code, row in overrides.states.items():
        if code not in USState.__members__:
            raise LoadError(f"{path}: states: {code!r} is not a USPS state code")
        if row.basis == "source" and row.citation is None:
            raise LoadError(f"{path}: states.{code}: a row with basis 'source' needs a citation")
        if row.basis != "source" and not row.source_note:
            raise LoadError(f"{path}: states.{code}: say where the requirement comes from (source_note)")
        if row.citation is not None and (problem := sources.problem(row.citation)):
            raise LoadError(f"{path}: states.{code}: {problem}")
    new_activities = ActivityCatalog(activities=[
        a.model_copy(update={"classification": o.classification, "reason": o.reason})
        if (o := overrides.activities.get(a.code)) else a
        for a in activities.activities
    ])
    new_states = states.model_copy(update={"states": {**states.states, **overrides.states},
                                           "researched": {**states.researched, **overrides.state_requirements}})
    return new_activities, new_states


def _check_codes(path: Path, codes) -> None:
    unknown = sorted(code for code in codes if code not in USState.__members__)
    if unknown:
        raise LoadError(f"{path}: {unknown} are not USPS state codes")


def _check_citations(path: Path, citations, sources: SourceLibrary) -> None:
    for citation in citations:
        problem = sources.problem(citation)
        if problem:
            raise LoadError(f"{path}: {problem}")


def _compile(path: Path, sources: SourceLibrary, param_values: dict | None = None,
             overrides_file: Path | None = None) -> CompiledRule:
    spec: RuleSpec = parse(RuleSpec, read_yaml(path), path)
    if param_values:
        spec = _override_parameters(spec, param_values, overrides_file)
    if path.stem != spec.id:
        raise LoadError(f"{path}: file name must be the rule id ({spec.id}.yaml)")
    if path.parent.name != spec.category:
        raise LoadError(f"{path}: rule category {spec.category!r} differs from its folder {path.parent.name!r}")
    _check_citations(path, spec.citations, sources)
    params = {name: p.value for name, p in spec.parameters.items()}
    vocab = FIELD_TYPES[spec.scope]
    try:
        condition = substitute_params(spec.condition, params)
        check(condition, vocab)
        applies = None
        if spec.applies_when is not None:
            applies = substitute_params(spec.applies_when, params)
            check(applies, vocab)
    except ConditionError as exc:
        raise LoadError(f"{path}: {exc}") from exc

    cond_fields = list(dict.fromkeys(referenced_fields(condition)))
    applies_fields = list(dict.fromkeys(referenced_fields(applies))) if applies else []
    for name in spec.optional_inputs + spec.evidence:
        if name not in vocab:
            raise LoadError(f"{path}: unknown fact field {name!r} in optional_inputs/evidence")
    absent_ok = set(spec.optional_inputs) | _nex_fields(condition)
    required = tuple(f for f in cond_fields if f not in absent_ok)
    evidence = tuple(dict.fromkeys(applies_fields + cond_fields + spec.evidence))
    _check_template(path, spec, vocab, params)
    unused = (set(params) - _param_names(spec.condition) - _param_names(spec.applies_when)
              - _template_names(spec.message) - _template_names(spec.remediation))
    if unused:
        raise LoadError(f"{path}: parameters never used: {sorted(unused)}")
    return CompiledRule(
        spec, condition, applies, required, tuple(applies_fields), evidence, params, frozenset(required),
        compile_condition(condition), compile_certainly_false(condition),
        compile_certainly_false(applies) if applies else (lambda fact: False),
    )


def _override_parameters(spec: RuleSpec, values: dict, path: Path | None) -> RuleSpec:
    params = dict(spec.parameters)
    for name, value in values.items():
        if name not in params:
            raise LoadError(f"{path}: {spec.id} has no parameter {name!r} (has: {sorted(params) or 'none'})")
        old = params[name].value
        numeric = (int, float)
        same_kind = (isinstance(old, bool) == isinstance(value, bool)) and (
            isinstance(value, numeric) if isinstance(old, numeric) else type(value) is type(old)
        )
        if not same_kind:
            raise LoadError(f"{path}: {spec.id}.{name}: expected a value like {old!r}, got {value!r}")
        params[name] = params[name].model_copy(update={"value": value})
    return spec.model_copy(update={"parameters": params})


def _nex_fields(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$nex":
                found.update(value)
            else:
                found |= _nex_fields(value)
    elif isinstance(node, list):
        for item in node:
            found |= _nex_fields(item)
    return found


def _param_names(node: Any) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"$param"}:
            return {node["$param"]}
        return set().union(*(_param_names(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_param_names(v) for v in node)) if node else set()
    return set()


def _template_names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check_template(path: Path, spec: RuleSpec, vocab: dict, params: dict) -> None:
    """Message and remediation are templates over fact fields, parameters and a few extras."""
    allowed = set(vocab) | set(params) | TEMPLATE_EXTRAS | {f"{n}_labels" for n in LABELLED_LISTS}
    for part in ("message", "remediation"):
        try:
            names = _template_names(getattr(spec, part))
        except ValueError as exc:
            raise LoadError(f"{path}: {part} template: {exc}") from exc
        for name in names:
            if name not in allowed:
                raise LoadError(f"{path}: {part} uses unknown name {{{name}}}")


def _version(rules: list[CompiledRule], activities: ActivityCatalog, states: StateTable, sources: SourceLibrary) -> str:
    """Content hash of everything that can change an answer."""
    payload = {
        "rules": [r.spec.model_dump(mode="json") for r in rules],
        "activities": activities.model_dump(mode="json"),
        "states": states.model_dump(mode="json"),
        "sources": sorted(sources.info),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"rs-{digest[:12]}"
