"""What the loaded ruleset knows, shaped for the catalog endpoints: the Appendix C activities,
the state table, and the ruleset itself (version, counts, where it was loaded from, overrides).

Everything here reads the loaded ``Ruleset`` — after operator overrides — so the catalog shows
what evaluations actually use.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from engine import Ruleset
from engine.catalog import RULES_DIR, Activity, RecoveryRequirement, ResearchedRow, SourceBasis
from engine.evaluate import CitationOut
from engine.jurisdictions import fact_lines, recovery_summary


class ActivityOut(Activity):
    operator_override: bool = Field(description="The classification and reason come from the operator's overrides file.")


class ActivityList(BaseModel):
    ruleset_version: str
    count: int
    activities: list[ActivityOut]


class StateSourceOut(BaseModel):
    url: str = Field(description="The source's address, as stored.")
    publisher: str
    title: str
    basis: SourceBasis = Field(description="`primary`: the certifying body's or the state's own text; `secondary`: a third party's compilation.")
    stated: str | None = Field(description="The date the source itself gives, if any.")
    consulted: str = Field(description="The day the stored copy was read.")
    as_of: str = Field(description="`stated` if given, else `consulted`.")
    note: str | None


class StateFactOut(BaseModel):
    credential: str | None = Field(description="The credential the fact is about (null for Medicaid and certification facts).")
    fact: Literal["recovery", "training_hours", "supervised_hours", "exam", "lived_experience_attestation",
                  "required_to_practise", "medicaid", "certification"]
    value: str = Field(description="The fact in words, e.g. 'at least 18 months in recovery', '78 hours'.")
    note: str | None = Field(description="A short paraphrase (PeerCheck's own words, never copied text).")
    source: StateSourceOut


class Jurisdiction(BaseModel):
    state: str = Field(description="USPS code.")
    known: bool = Field(description="The tool kit's state table (or an operator's row) has a row for this state.")
    name: str | None = Field(default=None, description="Jurisdiction name, when any row names it.")
    recovery_requirement: RecoveryRequirement | None = Field(
        default=None, description="What the tool kit's (or operator's) row says about time in recovery; null without such a row."
    )
    summary: str = Field(description="What is known — the tool kit's row, else the researched requirements with their sources — or the default advice when nothing is (verify with the state board).")
    basis: Literal["source", "secondary", "operator", "researched", "default"] = Field(
        description="`source`: a row from the cited sources; `secondary` / `operator`: from an operator's file; "
        "`researched`: only the researched state table has facts; `default`: nothing is known about this state."
    )
    as_of: str = Field(description="Date of the row (for `researched`: the latest date among its recovery facts' sources).")
    citation: CitationOut | None = Field(default=None, description="The passage the row (or the default advice) rests on.")
    source_note: str | None = Field(default=None, description="Where an operator-supplied row comes from.")
    researched_requirement: bool = Field(description="The researched state table cites a recovery requirement for this jurisdiction.")
    facts: list[StateFactOut] = Field(description="Every researched fact, each with its source, basis and date (empty when none was found).")
    research: ResearchedRow | None = Field(default=None, description="The researched row as stored: credentials, Medicaid, certification, sources by key.")
    conflict_with_guidance: str | None = Field(default=None, description="How a newer source disagrees with the tool kit's row; both are shown.")
    searched: list[str] = Field(description="Where PeerCheck looked for what it did not find (recovery requirement, or the whole row).")
    ruleset_version: str


class SourceOut(BaseModel):
    id: str
    title: str
    publisher: str
    year: str


class OverridesOut(BaseModel):
    file: str | None = Field(description="Name of the operator's overrides file (its folder is not shown).")
    description: str
    parameters: dict[str, dict[str, int | float | str | bool]] = Field(description="rule id → parameter → value in force.")
    states: list[str] = Field(description="State rows (shaped like the tool kit's) added or replaced.")
    state_requirements: list[str] = Field(description="Researched state rows added or replaced.")
    activities: list[str] = Field(description="Activity codes reclassified.")


class RulesetInfo(BaseModel):
    version: str = Field(description="Content hash of all rule data after overrides; part of every decision.")
    engine: str
    rules: int
    rules_by_category: dict[str, int]
    rules_by_severity: dict[str, int]
    activities: int
    activities_by_classification: dict[str, int]
    states_in_table: list[str] = Field(description="USPS codes with a row in the tool kit's state table (or an operator's).")
    states_researched: list[str] = Field(description="USPS codes for which the researched state table cites a recovery requirement.")
    sources: list[SourceOut]
    loaded_from: list[str] = Field(
        description="Rules folder, activity catalog, state table, sources folder and (last, if any) the overrides file: "
        "bundled parts as `rules/…`, others by file or folder name only — the server's own paths are not shown."
    )
    overrides: OverridesOut | None = Field(description="The operator's overrides, if a file is configured.")


def activities(ruleset: Ruleset, classification: str | None, table: str | None) -> ActivityList:
    overridden = set(ruleset.overrides.activities) if ruleset.overrides else set()
    items = [
        ActivityOut(**a.model_dump(), operator_override=a.code in overridden)
        for a in ruleset.activities.activities
        if (classification is None or a.classification == classification) and (table is None or a.table == table)
    ]
    return ActivityList(ruleset_version=ruleset.version, count=len(items), activities=items)


def _cited(ruleset: Ruleset, citation) -> CitationOut | None:
    if citation is None:
        return None
    return CitationOut(**citation.model_dump(), title=ruleset.sources.info[citation.source].title)


def _facts(research: ResearchedRow | None) -> list[StateFactOut]:
    if research is None:
        return []
    return [
        StateFactOut(credential=line.credential, fact=line.fact, value=line.value, note=line.note,
                     source=StateSourceOut(**line.source.model_dump(), as_of=line.source.as_of))
        for line in fact_lines(research)
    ]


def jurisdiction(ruleset: Ruleset, state: str) -> Jurisdiction:
    table = ruleset.states
    row = table.states.get(state)
    research = table.researched.get(state)
    cited = bool(research and research.recovery_facts())
    searched = list(research.searched) if research else (
        [table.not_researched[state]] if state in table.not_researched else [])
    extra = {"researched_requirement": cited, "facts": _facts(research), "research": research,
             "conflict_with_guidance": research.conflict_with_guidance if research else None,
             "searched": searched, "ruleset_version": ruleset.version}
    if row is not None:
        return Jurisdiction(state=state, known=True, name=row.name, recovery_requirement=row.recovery_requirement,
                            summary=row.summary, basis=row.basis, as_of=row.as_of, citation=_cited(ruleset, row.citation),
                            source_note=row.source_note, **extra)
    if cited:
        dates = [research.sources[fact.source].as_of for _, fact in research.recovery_facts()]
        return Jurisdiction(state=state, known=False, name=research.name, summary=recovery_summary(research),
                            basis="researched", as_of=max(dates), **extra)
    return Jurisdiction(state=state, known=False, name=research.name if research else None,
                        summary=table.default.summary, basis="default", as_of=table.as_of_default,
                        citation=_cited(ruleset, table.default.citation), **extra)


def shown_path(path: str) -> str:
    """A path as the API may show it: relative to the bundled rules folder's parent when it lies
    inside (``rules/catalog/states.yaml``), else its last part — never where the server keeps it."""
    resolved = Path(path).resolve()
    if resolved.is_relative_to(RULES_DIR.parent):
        return resolved.relative_to(RULES_DIR.parent).as_posix()
    return resolved.name


def ruleset_info(ruleset: Ruleset, engine: str) -> RulesetInfo:
    overrides = None
    if ruleset.overrides is not None:
        o = ruleset.overrides
        overrides = OverridesOut(file=shown_path(ruleset.overrides_file) if ruleset.overrides_file else None,
                                 description=o.description,
                                 parameters={k: dict(v) for k, v in o.parameters.items()},
                                 states=sorted(o.states), state_requirements=sorted(o.state_requirements),
                                 activities=sorted(o.activities))
    return RulesetInfo(
        version=ruleset.version,
        engine=engine,
        rules=len(ruleset.rules),
        rules_by_category=dict(sorted(Counter(r.spec.category for r in ruleset.rules).items())),
        rules_by_severity=dict(Counter(r.spec.severity.value for r in ruleset.rules)),
        activities=len(ruleset.activities.activities),
        activities_by_classification=dict(Counter(a.classification.value for a in ruleset.activities.activities)),
        states_in_table=sorted(ruleset.states.states),
        states_researched=sorted(c for c, r in ruleset.states.researched.items() if r.recovery_facts()),
        sources=[SourceOut(id=k, title=v.title, publisher=v.publisher, year=v.year) for k, v in ruleset.sources.info.items()],
        loaded_from=[shown_path(p) for p in ruleset.loaded_from],
        overrides=overrides,
    )
