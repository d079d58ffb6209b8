"""Reference data the rules lean on: the Appendix C activity catalog and the state table.

Both live as YAML under ``rules/catalog/`` and are validated here with ``extra="forbid"``
models, so a typo in a data file stops start-up with the file and field named.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
ACTIVITIES_FILE = RULES_DIR / "catalog" / "activities.yaml"
STATES_FILE = RULES_DIR / "catalog" / "states.yaml"


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


class Activity(_Data):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    label: str
    table: Literal["participant_engagement", "participant_services", "agency_responsibilities", "table_2"]
    classification: Classification
    unlawful: bool = False
    condition: str | None = None
    judged_by: str | None = Field(default=None, description="Id of a dedicated rule that judges this activity instead of the generic classification rule.")
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


class StateTable(_Data):
    as_of_default: str
    default: StateDefault
    states: dict[str, StateRow]


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


def load_states(path: Path = STATES_FILE) -> StateTable:
    return parse(StateTable, read_yaml(path), path)


@lru_cache(maxsize=1)
def activity_codes() -> tuple[str, ...]:
    """The activity codes a profile may use: the profile schema's vocabulary of duties."""
    return tuple(a.code for a in load_activities().activities)
