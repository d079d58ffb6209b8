"""Reference data the rules lean on: the Appendix C activity catalog and the state table.

All live as YAML under ``rules/catalog/`` and are validated here with ``extra="forbid"``
models, so a typo in a data file stops start-up with the file and field named. The state table
has two parts: ``states.yaml``, the rows the bundled sources support (quoted, ``guidance``), and
``state_requirements.yaml``, researched facts from state boards and statutes — every fact typed,
tied to a source with its address, date and basis, and never a figure without one.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
ACTIVITIES_FILE = RULES_DIR / "catalog" / "activities.yaml"
STATES_FILE = RULES_DIR / "catalog" / "states.yaml"
REQUIREMENTS_FILE_NAME = "state_requirements.yaml"


class LoadError(RuntimeError):
    """Rule or catalog data that cannot be used; the message names the file and the problem."""


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Data):
    source: str = Field(description="Source document id, e.g. `lappa-2023`.")
    section: str = Field(min_length=1, description="Section or table of the document the quote sits under.")
    quote: str = Field(min_length=10, description="Verbatim passage (whitespace-normalised match in the stored text).")


class Classification(StrEnum):
    peer = "peer"
    conflict = "conflict"
    other_staff = "other_staff"
    agency_decision = "agency_decision"


# The tables of Appendix C (and Table 2's transport example), as a form groups the activities.
TABLE_LABELS = {
    "participant_engagement": "Participant engagement",
    "participant_services": "Participant services",
    "agency_responsibilities": "Agency responsibilities",
    "table_2": "Transport",
}


class Activity(_Data):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    label: str
    table: Literal["participant_engagement", "participant_services", "agency_responsibilities", "table_2"]
    classification: Classification
    unlawful: bool = False
    condition: str | None = None
    judged_by: str | None = Field(default=None, description="Id of a dedicated rule that judges this activity instead of the generic classification rule.")
    conflict_group: Literal["clinical", "supervision_task"] | None = Field(
        default=None,
        description="While the activity is classified `conflict`, a dedicated rule judges it with the passage that fits it: "
                    "`clinical` (clinical work, PC-ROLE-012) or `supervision_task` (a community-supervision task, PC-ROLE-013). "
                    "An operator who reclassifies the activity moves it to the rule of its new class.",
    )
    group_activity: bool = Field(
        default=False,
        description="Led for a group rather than done with one participant: does not make a peer's caseload one of individual contact.",
    )
    reason: str
    citations: list[Citation] = Field(min_length=1)


class ActivityCatalog(_Data):
    activities: list[Activity] = Field(min_length=1)


class RecoveryRequirement(StrEnum):
    not_required = "not_required"
    recommended = "recommended"
    required_no_length = "required_no_length"
    self_directed = "self_directed"


class StateRow(_Data):
    name: str
    recovery_requirement: RecoveryRequirement
    summary: str
    basis: Literal["source", "secondary", "operator"] = "source"
    as_of: str
    citation: Citation | None = None
    source_note: str | None = None


class StateDefault(_Data):
    summary: str
    citation: Citation


# --- researched facts (state_requirements.yaml) -------------------------------------------------

Day = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
StatedDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=600)]


class SourceBasis(StrEnum):
    primary = "primary"  # the certifying body's or the state's own text
    secondary = "secondary"  # a third party's compilation


class StateSource(_Data):
    """Where a fact comes from: an address as stored, who published it, and its dates."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")] = Field(description="The address as stored.")
    publisher: Text = Field(description="Who published it (for a secondary source: whose compilation).")
    title: Text
    basis: SourceBasis
    stated: StatedDate | None = Field(default=None, description="The date the source itself gives (YYYY, YYYY-MM or YYYY-MM-DD).")
    consulted: Day = Field(description="The day the stored copy was read.")
    note: Text | None = Field(default=None, description="E.g. that the text is a copy hosted elsewhere.")

    @property
    def as_of(self) -> str:
        """The date a reader should see: the source's own date, else the day it was consulted."""
        return self.stated or self.consulted


class _Fact(_Data):
    source: str = Field(description="Key of the row's source this fact comes from.")
    note: Text | None = Field(default=None, description="The fact in a few words of PeerCheck's own.")


class Requirement(StrEnum):
    months = "months"
    required_no_length = "required_no_length"
    not_required = "not_required"
    recommended = "recommended"
    self_directed = "self_directed"


class RecoveryFact(_Fact):
    requirement: Requirement
    months: int | None = Field(default=None, ge=1, le=120, description="Minimum months in recovery; only with `months`.")
    disagreeing: list[str] = Field(default_factory=list, description="Keys of sources that state something else (the note says what).")

    @model_validator(mode="after")
    def months_iff_months(self) -> "RecoveryFact":
        if (self.requirement == Requirement.months) != (self.months is not None):
            raise ValueError("give `months` exactly when the requirement is `months`")
        return self


class HoursFact(_Fact):
    hours: int = Field(ge=1, le=10000)


class RequiredFact(_Fact):
    required: bool


class CredentialKind(StrEnum):
    substance_use = "substance_use"
    mental_health = "mental_health"
    integrated = "integrated"


class StateCredential(_Data):
    name: Text
    body: Text = Field(description="The certifying body.")
    source: str | None = Field(default=None, description="Key of a source naming the credential and its body, where no fact below does.")
    kind: CredentialKind
    recovery: RecoveryFact | None = None
    training_hours: HoursFact | None = None
    supervised_hours: HoursFact | None = Field(default=None, description="Supervised or documented work hours.")
    exam: RequiredFact | None = None
    lived_experience_attestation: RequiredFact | None = None
    required_to_practise: RequiredFact | None = Field(default=None, description="Paid peer work needs this credential (a licence or certificate law).")
    note: Text | None = None

    def facts(self) -> list[tuple[str, _Fact]]:
        named = ("recovery", "training_hours", "supervised_hours", "exam", "lived_experience_attestation", "required_to_practise")
        return [(name, fact) for name in named if (fact := getattr(self, name)) is not None]


class MedicaidFact(_Fact):
    pays: bool = Field(description="The state's Medicaid pays for peer services (per the source).")
    covers: list[Literal["mental_health", "substance_use"]] | None = Field(default=None, description="Which peer services it pays for, where the source says.")
    clinical_setting_only: bool = Field(default=False, description="The source ties Medicaid-paid peer services to clinical programs or licensed providers.")


class CertificationFact(_Fact):
    exists: bool


class ResearchedRow(_Data):
    """What was found for one jurisdiction beyond the bundled sources."""

    name: Text
    sources: dict[str, StateSource] = Field(min_length=1)
    credentials: list[StateCredential] = Field(default_factory=list)
    medicaid: MedicaidFact | None = None
    certification: CertificationFact | None = None
    conflict_with_guidance: Text | None = Field(default=None, description="How a newer source disagrees with the tool kit's row.")
    searched: list[Text] = Field(default_factory=list, description="Where PeerCheck looked when a fact was not found.")
    consulted_only: list[str] = Field(default_factory=list, description="Keys of sources read for context (a search, a proposal) that give no fact.")

    @model_validator(mode="after")
    def facts_have_sources(self) -> "ResearchedRow":
        if not self.recovery_facts() and not self.searched:
            raise ValueError("a row without a recovery fact must say what was searched (`searched`)")
        for i, credential in enumerate(self.credentials):
            if not credential.facts() and credential.source is None:
                raise ValueError(f"credentials[{i}] ({credential.name}): name a source for it (`source`) or give a fact")
        facts = [(f"credentials[{i}].{name}", fact) for i, c in enumerate(self.credentials) for name, fact in c.facts()]
        facts += [(name, fact) for name in ("medicaid", "certification") if (fact := getattr(self, name)) is not None]
        for where, fact in facts:
            if fact.source not in self.sources:
                raise ValueError(f"{where}: source {fact.source!r} is not among this row's sources {sorted(self.sources)}")
        used = {fact.source for _, fact in facts} | set(self.consulted_only)
        used |= {c.source for c in self.credentials if c.source} | {k for c in self.credentials if c.recovery for k in c.recovery.disagreeing}
        unknown = sorted(used - set(self.sources))
        if unknown:
            raise ValueError(f"unknown source keys {unknown} (known: {sorted(self.sources)})")
        unused = sorted(set(self.sources) - used)
        if unused:
            raise ValueError(f"sources never used by a fact: {unused}")
        return self

    def recovery_facts(self) -> list[tuple[StateCredential, RecoveryFact]]:
        return [(c, c.recovery) for c in self.credentials if c.recovery is not None]


class ResearchTable(_Data):
    consulted_default: Day
    not_researched: dict[str, Text] = Field(default_factory=dict, description="Jurisdictions with no row, and why.")
    jurisdictions: dict[str, ResearchedRow]


class StateTable(_Data):
    as_of_default: str
    default: StateDefault
    states: dict[str, StateRow]
    researched: dict[str, ResearchedRow] = Field(default_factory=dict)
    not_researched: dict[str, str] = Field(default_factory=dict)


# libyaml's safe loader (C) where PyYAML was built with it, as its wheels are: the pure-Python
# loader was over 90% of start-up. Both build the same data from the same text.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except OSError as exc:
        raise LoadError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise LoadError(f"{path}: not valid YAML: {exc}") from exc


def parse(model: type[BaseModel], data: object, path: Path):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise LoadError(f"{path}: {problems}") from exc


def load_activities(path: Path = ACTIVITIES_FILE) -> ActivityCatalog:
    catalog: ActivityCatalog = parse(ActivityCatalog, read_yaml(path), path)
    codes = [a.code for a in catalog.activities]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise LoadError(f"{path}: duplicate activity codes {duplicates}")
    return catalog


def load_states(path: Path = STATES_FILE, requirements: Path | None = None) -> StateTable:
    """The guidance rows, plus the researched facts of ``state_requirements.yaml`` beside them
    (a rules folder without that file simply has no researched rows)."""
    table: StateTable = parse(StateTable, read_yaml(path), path)
    requirements = requirements or path.parent / REQUIREMENTS_FILE_NAME
    if not requirements.exists():
        return table
    research: ResearchTable = parse(ResearchTable, read_yaml(requirements), requirements)
    return table.model_copy(update={"researched": research.jurisdictions, "not_researched": research.not_researched})


@lru_cache(maxsize=1)
def activity_codes() -> tuple[str, ...]:
    """The activity codes a profile may use: the profile schema's vocabulary of duties."""
    return tuple(a.code for a in load_activities().activities)
