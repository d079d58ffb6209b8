"""docs/states.md, generated from the state table: ``python -m engine.states_doc > docs/states.md``.

The page is written from the loaded data (states.yaml and state_requirements.yaml), never by hand,
and a test holds the committed file equal to what this module writes.
"""

from __future__ import annotations

import sys

from engine.catalog import ResearchedRow, SourceBasis, StateSource, StateTable, load_states
from engine.jurisdictions import KIND_LABELS, fact_lines, requirement_text
from engine.profile import USState

_TERRITORIES = ("PR", "GU", "VI", "AS", "MP")

_GUIDANCE_TEXT = {
    "not_required": "recovery not required",
    "recommended": "recovery recommended, not required",
    "required_no_length": "recovery required, no length stated",
    "self_directed": "self-directed recovery, no length stated",
}

_HEAD = """# State certification and recovery requirements

*Generated from `rules/catalog/states.yaml` and `rules/catalog/state_requirements.yaml` by
`python -m engine.states_doc > docs/states.md`; a test keeps this page equal to the data. Do not
edit it by hand.*

PeerCheck's state table has two parts. **The tool kit's rows** (LAPPA 2023, from SAMHSA's 2020
directory) cover ten states and are quoted from the bundled source. **Researched facts** cover the
other jurisdictions and add detail to the ten: each fact names its source's address, whether that
source is the certifying body's or state's own text (**primary**) or a third party's compilation
(**secondary**, named), and its date — the date the source gives, else the day the stored copy was
consulted. Facts are paraphrased, never copied. Where a newer source disagrees with the tool kit,
both are kept and the row is flagged. Where nothing was found, PeerCheck keeps its advice to verify
with the state board (most states require one to two years in recovery) and says what was searched.

Requirements change: every figure here is something to verify with the board, which is how the
findings built on it are worded. Findings built on a secondary source are never above medium
severity.

"""

_OPERATOR = """## Refreshing a row (operators)

An operator corrects or adds a row without editing these files, in the overrides file named by
`PEERCHECK_OVERRIDES_FILE` (the same file that sets stricter rule parameters). Two kinds of rows:

```yaml
description: State rows verified with the boards, November 2026
states:                 # a row shaped like the tool kit's (no figure in months)
  FL: {name: Florida, recovery_requirement: required_no_length, summary: Verified with the board.,
       basis: operator, as_of: "2026-11", source_note: Letter from the Florida Certification Board}
state_requirements:     # a researched row, shaped like state_requirements.yaml (replaces that state's row)
  PA:
    name: Pennsylvania
    sources:
      letter: {url: "https://www.pacertboard.org/", publisher: Pennsylvania Certification Board,
               title: Letter to the county, basis: primary, stated: "2026-11", consulted: "2026-11-20"}
    credentials:
      - name: Certified Recovery Specialist (CRS)
        body: Pennsylvania Certification Board
        kind: substance_use
        recovery: {requirement: months, months: 18, note: Confirmed by letter., source: letter}
```

The file is checked at start-up like the shipped data (every fact typed and tied to a dated source;
a row without a recovery fact must say what was searched); a bad file stops the service with the
file and field named. The change shows in `GET /v1/ruleset` (`overrides`) and changes the ruleset
version, so decisions made before and after can be told apart. To change the shipped table itself,
edit `rules/catalog/state_requirements.yaml` and regenerate this page.

"""


def _link(source: StateSource) -> str:
    basis = "primary" if source.basis == SourceBasis.primary else "secondary"
    return f"[{source.publisher}]({source.url}) ({basis})"


def _hours(line_map: dict[str, str], name: str) -> str:
    return line_map.get(name, "—")


def _medicaid(row: ResearchedRow | None) -> str:
    if row is None or row.medicaid is None:
        return "—"
    m = row.medicaid
    text = "pays" if m.pays else "does not pay"
    if m.covers:
        text += " (" + ", ".join(KIND_LABELS[c] for c in m.covers) + ")"
    if m.clinical_setting_only:
        text += "; **clinical settings only**"
    source = row.sources[m.source]
    return f"{text} — {_link(source)}, {source.as_of}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(table: StateTable) -> str:
    codes = [s.value for s in USState]
    states_and_dc = [c for c in codes if c not in _TERRITORIES]
    cited = [c for c in states_and_dc if c in table.states or (c in table.researched and table.researched[c].recovery_facts())]
    missing = [c for c in states_and_dc if c not in cited]
    out = [_HEAD]
    out.append(f"**Coverage:** {len(cited)} of {len(states_and_dc)} states and DC have a cited recovery requirement "
               f"(the tool kit's row or a researched fact). Without one: "
               f"{', '.join(missing) if missing else 'none'} (see below).\n\n")
    out.append("## The table\n\n")
    out.append("| Jurisdiction | Credential (certifying body) | Time in recovery | Training | Supervised work | Exam | Medicaid | Source, date |\n")
    out.append("|---|---|---|---|---|---|---|---|\n")
    for code in codes:
        guidance, row = table.states.get(code), table.researched.get(code)
        if guidance is None and row is None:
            continue
        name = guidance.name if guidance else row.name
        first = f"**{name}** ({code})"
        medicaid = _medicaid(row)
        if guidance is not None:
            flag = " ⚠ a newer source disagrees" if row is not None and row.conflict_with_guidance else ""
            out.append(f"| {first} | Tool kit's row (peer recovery coach){flag} | {_GUIDANCE_TEXT[guidance.recovery_requirement.value]} "
                       f"| — | — | — | {medicaid} | {guidance.citation.source}, {guidance.citation.section} ({guidance.as_of}) |\n")
            first, medicaid = "", ""
        if row is None:
            continue
        lines = fact_lines(row)
        for credential in row.credentials:
            mine = {line.fact: line for line in lines if line.credential == credential.name}
            recovery = mine.get("recovery")
            recovery_text = (f"{recovery.value}" if recovery else "not found")
            dates = sorted({f"{_link(line.source)}, {line.source.as_of}" for line in mine.values()})
            if not dates and credential.source:
                source = row.sources[credential.source]
                dates = [f"{_link(source)}, {source.as_of}"]
            out.append(
                f"| {first} | {_cell(credential.name)} ({_cell(credential.body)}; {KIND_LABELS[credential.kind.value]}) "
                f"| {_cell(recovery_text)} | {mine['training_hours'].value if 'training_hours' in mine else '—'} "
                f"| {mine['supervised_hours'].value if 'supervised_hours' in mine else '—'} "
                f"| {mine['exam'].value if 'exam' in mine else '—'} | {medicaid} "
                f"| {'; '.join(dates)} |\n")
            first, medicaid = "", ""
        if not row.credentials:
            certification = ""
            if row.certification is not None:
                source = row.sources[row.certification.source]
                certification = f"{'certification exists' if row.certification.exists else 'no state certification in force'} — {_link(source)}, {source.as_of}"
            out.append(f"| {first} | {_cell(certification) or 'no credential found'} | not found | — | — | — | {medicaid} | — |\n")
    out.append("\n## Newer sources that disagree with the tool kit\n\n")
    conflicts = [(c, r) for c, r in table.researched.items() if r.conflict_with_guidance and c in table.states]
    for code, row in conflicts:
        out.append(f"- **{row.name}**: {row.conflict_with_guidance} Both are kept; `PC-CERT-011` reports it.\n")
    if not conflicts:
        out.append("None.\n")
    out.append("\n## Where no recovery requirement was found, and what was searched\n\n")
    for code in missing + [c for c in _TERRITORIES if c not in table.researched or not table.researched[c].recovery_facts()]:
        row = table.researched.get(code)
        what = "; ".join(row.searched) if row else table.not_researched.get(code, "not researched")
        name = row.name if row else USState(code).label
        out.append(f"- **{name}** ({code}): {_cell(what)}\n")
    out.append("\n")
    out.append(_OPERATOR)
    out.append("## Recovery requirements in words\n\n")
    for value in ("months", "required_no_length", "not_required", "recommended", "self_directed"):
        from engine.catalog import RecoveryFact, Requirement
        example = RecoveryFact(requirement=Requirement(value), months=12 if value == "months" else None, source="x")
        out.append(f"- `{value}`: {requirement_text(example).replace('12', 'N')}\n")
    return "".join(out)


def main() -> None:
    sys.stdout.write(render(load_states()))


if __name__ == "__main__":
    main()
