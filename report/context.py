"""The report's view model: a Decision, its Ruleset and (when known) the Profile, arranged the
way a reader goes through them.

The Decision does not keep the profile (only its digest), so program context — name, state,
host agency, peer titles — comes from the Profile when the caller still has it. Rule metadata
the Decision does not carry (a needs-information rule's category, a source's publisher) comes
from the Ruleset. Every renderer reads this one structure, so Markdown, HTML and the terminal
agree on grouping and order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from engine import Decision, Finding, Profile, Ruleset
from engine.evaluate import CitationOut, NeedsInformation, RuleOutcome, Subject
from engine.questions import OpenQuestion, heading, why
from engine.spec import FiveP
from report.format import FIVE_P_LABELS, SEVERITIES, humanise, value_text


@dataclass(frozen=True)
class ProgramView:
    """What the report says about the program itself (from the Profile)."""

    name: str
    state: str
    facts: list[tuple[str, str]]  # (label, value) rows for the summary table


@dataclass(frozen=True)
class EvidenceLine:
    pointers: list[str]
    value: str
    field: str | None  # the fact field, when it is not simply the pointer's last segment

    def text(self) -> str:
        where = ", ".join(self.pointers) or self.field or "(derived)"
        suffix = f" ({self.field})" if self.field else ""
        return f"{where} = {self.value}{suffix}"


@dataclass(frozen=True)
class CitationView:
    title: str
    publisher: str | None
    year: str | None
    section: str
    quote: str
    source: str


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    subject: str
    evidence: list[EvidenceLine]
    citations: list[CitationView]

    @property
    def anchor(self) -> str:
        return f"f-{self.finding.finding_id}"


@dataclass(frozen=True)
class NeedsView:
    item: NeedsInformation
    subject: str
    category: str | None
    five_p: str | None


@dataclass(frozen=True)
class QuestionView:
    """A question the profile leaves open, as people read it: 'Peer 2 › Duties', the question, why we ask."""

    question: OpenQuestion
    heading: str
    why: str


@dataclass(frozen=True)
class OutcomeView:
    rule_id: str
    title: str
    subject: str
    outcome: str
    missing: list[str]


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    findings: list[FindingView]


@dataclass
class ReportContext:
    decision: Decision
    program: ProgramView | None
    open: list[FindingView]
    acknowledged: list[FindingView]
    by_five_p: list[Group]
    by_category: list[Group]
    needs: list[NeedsView]  # per rule and subject, for machines; people read ``questions``
    chart: list[tuple[str, int]]  # (severity, open findings), critical first
    questions: list[QuestionView] = field(default_factory=list)  # most valuable first
    outcomes: list[OutcomeView] = field(default_factory=list)
    rules_total: int = 0


def build(decision: Decision, ruleset: Ruleset, profile: Profile | None = None,
          outcomes: Sequence[RuleOutcome] | None = None) -> ReportContext:
    """Arrange a decision for reading. ``outcomes`` (from ``Evaluator.outcomes``) adds the
    'rules checked' appendix that ``--explain`` asks for."""
    views = [_finding_view(f, ruleset, profile) for f in decision.findings]
    open_views = [v for v in views if v.finding.acknowledged is None]
    acknowledged = [v for v in views if v.finding.acknowledged is not None]
    by_five_p = [
        Group(p.value, FIVE_P_LABELS[p.value], [v for v in open_views if v.finding.five_p == p])
        for p in FiveP
    ]
    categories = sorted({v.finding.category for v in open_views})
    by_category = [Group(c, humanise(c), [v for v in open_views if v.finding.category == c]) for c in categories]
    needs = []
    for item in decision.needs_information:
        rule = ruleset.rule(item.rule_id)
        needs.append(NeedsView(item, subject_label(item.subject, profile),
                               rule.spec.category if rule else None, rule.spec.five_p.value if rule else None))
    titles = {r.id: r.spec.title for r in ruleset.rules}
    outcome_views = [
        OutcomeView(o.rule_id, titles.get(o.rule_id, o.rule_id), subject_label(o.subject, profile), o.outcome, o.missing)
        for o in outcomes or ()
    ]
    return ReportContext(
        decision=decision,
        program=program_view(profile, ruleset) if profile is not None else None,
        open=open_views,
        acknowledged=acknowledged,
        by_five_p=[g for g in by_five_p if g.findings],
        by_category=by_category,
        needs=needs,
        chart=[(s, decision.summary.by_severity.get(s, 0)) for s in SEVERITIES],
        questions=[QuestionView(q, heading(q), why(q)) for q in decision.questions],
        outcomes=outcome_views,
        rules_total=len(ruleset.rules),
    )


def program_view(profile: Profile, ruleset: Ruleset) -> ProgramView:
    program = profile.program
    row = ruleset.states.states.get(program.state.value)
    state = f"{row.name} ({program.state.value})" if row else program.state.value

    def listed(values) -> str:
        return ", ".join(humanise(getattr(v, "value", str(v))) for v in values) if values else "none"

    fte = [p.fte for p in profile.peers]
    facts = [
        ("State", state),
        ("Host agency", humanise(program.host_agency.value) if program.host_agency else "unknown"),
        ("Intercepts", ", ".join(str(i) for i in program.intercepts) if program.intercepts is not None else "unknown"),
        ("Referral pathways", listed(program.referral_pathways) if program.referral_pathways is not None else "unknown"),
        ("Funding", listed(program.funding) if program.funding is not None else "unknown"),
        ("Peer positions", str(len(profile.peers))),
        ("Total FTE", value_text(round(sum(fte), 2)) if all(f is not None for f in fte) else "unknown"),
        ("Profile schema", profile.schema_version),
    ]
    return ProgramView(name=program.name, state=state, facts=facts)


def subject_label(subject: Subject, profile: Profile | None) -> str:
    """'Program', or 'Peer p1 — Peer Recovery Specialist' (the title only when the profile is known)."""
    if subject.kind == "program":
        return "Program"
    index = subject.peer_index or 0
    name = f"Peer {subject.peer_id}" if subject.peer_id else f"Peer #{index + 1}"
    if profile is not None and index < len(profile.peers):
        return f"{name} — {profile.peers[index].title}"
    return name


def _finding_view(finding: Finding, ruleset: Ruleset, profile: Profile | None) -> FindingView:
    return FindingView(
        finding=finding,
        subject=subject_label(finding.subject, profile),
        evidence=_evidence(finding),
        citations=[_citation(c, ruleset) for c in finding.citations],
    )


def _evidence(finding: Finding) -> list[EvidenceLine]:
    """Evidence as 'pointer = value'; the fact field is named only when it is derived (its name
    does not end with the pointer's last segment), and repeated lines are dropped."""
    lines: list[EvidenceLine] = []
    seen: set[str] = set()
    for item in finding.evidence:
        direct = len(item.pointers) == 1 and item.field.endswith(item.pointers[0].rsplit("/", 1)[-1])
        line = EvidenceLine(list(item.pointers), value_text(item.value), None if direct else item.field)
        if line.text() not in seen:
            seen.add(line.text())
            lines.append(line)
    return lines


def _citation(citation: CitationOut, ruleset: Ruleset) -> CitationView:
    info = ruleset.sources.info.get(citation.source)
    return CitationView(
        title=citation.title,
        publisher=info.publisher if info else None,
        year=info.year if info else None,
        section=citation.section,
        quote=citation.quote,
        source=citation.source,
    )
