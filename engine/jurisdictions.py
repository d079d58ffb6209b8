"""What the state table says about one jurisdiction, in the shapes its readers need.

One place decides which of a state's researched credentials apply to a peer, which time-in-recovery
figure holds, and how a fact is named with its source and date — so the fact builder (what the
rules match), the finding messages, the jurisdiction endpoint and docs/states.md never disagree.

Which credentials apply: a peer who holds or seeks a ``substance_use`` credential is matched with
the state's substance-use and integrated credentials, ``mental_health`` likewise; ``integrated``
only with integrated ones; a peer whose credential is not given, with all of them. A figure holds
only when every matched credential states a length in months: the lowest of them is the bar (a
shortfall against it is a shortfall against all). If any matched credential has no length, or its
requirement is unknown, PeerCheck states no figure.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import (
    CredentialKind,
    RecoveryFact,
    Requirement,
    ResearchedRow,
    SourceBasis,
    StateCredential,
    StateSource,
    StateTable,
)

_MATCHES: dict[str | None, frozenset[str]] = {
    None: frozenset(k.value for k in CredentialKind),
    CredentialKind.substance_use.value: frozenset({"substance_use", "integrated"}),
    CredentialKind.mental_health.value: frozenset({"mental_health", "integrated"}),
    CredentialKind.integrated.value: frozenset({"integrated"}),
}

REQUIREMENT_TEXT = {
    Requirement.months: "at least {months} months in recovery",
    Requirement.required_no_length: "recovery required, no length stated",
    Requirement.not_required: "recovery not required",
    Requirement.recommended: "recovery recommended, not required",
    Requirement.self_directed: "self-directed recovery, no length stated",
}


@dataclass(frozen=True)
class Figure:
    """The time-in-recovery bar for a peer: months, the credential it comes from, its source."""

    months: int
    credential: StateCredential
    fact: RecoveryFact
    source: StateSource


def matching(row: ResearchedRow, kind: str | None) -> list[StateCredential]:
    wanted = _MATCHES[kind]
    return [c for c in row.credentials if c.kind.value in wanted]


def figure(row: ResearchedRow | None, kind: str | None) -> Figure | None:
    """The lowest stated months among the credentials that apply, if every one of them states months."""
    if row is None:
        return None
    candidates = matching(row, kind)
    if not candidates or any(c.recovery is None or c.recovery.months is None for c in candidates):
        return None
    lowest = min(candidates, key=lambda c: (c.recovery.months, row.sources[c.recovery.source].basis != SourceBasis.primary))
    return Figure(lowest.recovery.months, lowest, lowest.recovery, row.sources[lowest.recovery.source])


def offered(row: ResearchedRow | None, kind: str | None) -> bool | None:
    """Whether the state's researched credentials include one of this kind (None: nothing to compare)."""
    if row is None or kind is None or not row.credentials:
        return None
    return bool(matching(row, kind))


KIND_LABELS = {
    "substance_use": "substance-use",
    "mental_health": "mental-health",
    "integrated": "integrated (substance use and mental health)",
}


def requirement_text(fact: RecoveryFact) -> str:
    return REQUIREMENT_TEXT[fact.requirement].format(months=fact.months)


def cite(source: StateSource) -> str:
    """A source in one line: publisher, basis, date, address."""
    kind = "primary source" if source.basis == SourceBasis.primary else "secondary compilation"
    dated = f"dated {source.stated}" if source.stated else f"consulted {source.consulted}"
    return f"{source.publisher} ({kind}, {dated}): {source.url}"


def cite_short(source: StateSource) -> str:
    """A source in a few words, where the body is already named: its basis and address."""
    if source.basis == SourceBasis.primary:
        return f"primary source: {source.url}"
    return f"secondary compilation by {source.publisher}: {source.url}"


def recovery_summary(row: ResearchedRow) -> str:
    """Every researched credential's recovery requirement, with its body, date and source."""
    parts = []
    for credential, fact in row.recovery_facts():
        source = row.sources[fact.source]
        parts.append(f"{credential.name} — {requirement_text(fact)}, per {credential.body} (as of {source.as_of}; {cite_short(source)})")
    return "; ".join(parts)


def template_values(table: StateTable, state: str, kind: str | None) -> dict[str, str]:
    """The names a rule's message may use about the program's state and the peer's credential."""
    row = table.researched.get(state)
    values: dict[str, str] = {}
    if row is None:
        return values
    values["state_recovery_summary"] = recovery_summary(row) or "no recovery requirement found"
    found = figure(row, kind)
    if found is not None:
        values.update({
            "state_credential": found.credential.name,
            "state_body": found.credential.body,
            "state_as_of": found.source.as_of,
            "state_source": cite(found.source),
        })
    if kind is not None:
        values["credential_label"] = KIND_LABELS[kind]
        values["credential_kinds_offered"] = ", ".join(KIND_LABELS[k] for k in sorted({c.kind.value for c in row.credentials})) or "none"
    if row.medicaid is not None:
        source = row.sources[row.medicaid.source]
        values.update({
            "state_medicaid_note": row.medicaid.note or "",
            "state_medicaid_as_of": source.as_of,
            "state_medicaid_source": cite(source),
        })
    if row.conflict_with_guidance:
        values["state_conflict"] = row.conflict_with_guidance
    return values


TEMPLATE_NAMES = frozenset({
    "state_recovery_summary", "state_credential", "state_body", "state_as_of", "state_source",
    "credential_label", "credential_kinds_offered", "state_medicaid_note", "state_medicaid_as_of", "state_medicaid_source",
    "state_conflict",
})


@dataclass(frozen=True)
class FactLine:
    """One researched fact as a reader sees it: what it is about, its value in words, its source."""

    credential: str | None
    fact: str
    value: str
    note: str | None
    source: StateSource


def fact_lines(row: ResearchedRow) -> list[FactLine]:
    """Every fact of a researched row, credential by credential, then Medicaid and certification."""
    lines = []
    for credential in row.credentials:
        for name, fact in credential.facts():
            lines.append(FactLine(credential.name, name, _value_text(name, fact), fact.note, row.sources[fact.source]))
    if row.medicaid is not None:
        m = row.medicaid
        covers = f" ({', '.join(KIND_LABELS[c] for c in m.covers)} peer services)" if m.covers else ""
        value = ("pays for peer services" + covers) if m.pays else "does not pay for peer services"
        if m.clinical_setting_only:
            value += "; tied to clinical programs or licensed providers"
        lines.append(FactLine(None, "medicaid", value, m.note, row.sources[m.source]))
    if row.certification is not None:
        c = row.certification
        value = "a state peer certification exists" if c.exists else "no state peer certification in force"
        lines.append(FactLine(None, "certification", value, c.note, row.sources[c.source]))
    return lines


def _value_text(name: str, fact) -> str:
    if name == "recovery":
        return requirement_text(fact)
    if name in ("training_hours", "supervised_hours"):
        return f"{fact.hours} hours"
    return "required" if fact.required else "not required"
