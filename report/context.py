"""The report's view model: a Decision, its Ruleset and (when known) the Profile, arranged the
way a reader goes through them — the worst first: a summary (status in plain words, counts, the
critical and high findings one line each, the questions that matter most), then the findings by
severity, then the same findings by the five Ps.

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
from engine.audit import ACKNOWLEDGED_WITHOUT_REASON
from engine.evaluate import CitationOut, NeedsInformation, RuleOutcome, Subject
from engine.questions import OpenQuestion, heading, why
from engine.spec import FiveP
from engine.questions.catalog import catalog_for
from report.evidence import EvidenceLine, evidence_lines, place, who
from report.format import FIVE_P_LABELS, SEVERITIES, SEVERITY_LABELS, dont_know, humanise, questions_text, subject_name, value_text

TOP_FINDINGS = 8  # critical and high findings named in the summary
TOP_QUESTIONS = 5  # questions named in the summary
QUESTIONS_SHOWN = 10  # questions in the questions section before "more questions" (collapsed)


@dataclass(frozen=True)
class ProgramView:
    """What the report says about the program itself (from the Profile)."""

    name: str
    state: str
    facts: list[tuple[str, str]]  # (label, value) rows for the summary table


@dataclass(frozen=True)
class CitationView:
    title: str
    publisher: str | None
    year: str | None
    section: str
    quote: str
    source: str


@dataclass(frozen=True)
class SourceRef:
    """One cited document and the sections cited from it, for a one-line reference."""

    title: str  # the short title: the document's title before its subtitle
    year: str | None
    sections: list[str]


def short_title(title: str) -> str:
    """'Peer Support Services in Justice and Public Safety Settings: A Planning and Implementation Tool
    Kit' -> 'Peer Support Services in Justice and Public Safety Settings' (the report lists the full
    titles once, under Sources)."""
    for mark in (": ", " — "):
        if mark in title:
            return title.split(mark, 1)[0]
    return title


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    subject: str  # 'Program', 'Peer 2 (p2) — Peer Recovery Specialist'
    evidence: list[EvidenceLine]
    citations: list[CitationView]
    who: str = ""  # the subject, short: 'Program', 'Peer 2 (p2)'

    @property
    def sources(self) -> list[SourceRef]:
        """The citations by document: 'Tool kit (2023): Caseload Size; Probation Opioid Response Initiative'."""
        by_title: dict[str, SourceRef] = {}
        for c in self.citations:
            ref = by_title.setdefault(c.title, SourceRef(short_title(c.title), c.year if c.year != "n.d." else None, []))
            if c.section not in ref.sections:
                ref.sections.append(c.section)
        return list(by_title.values())

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
    missing: list[str]  # the unanswered fields, in words


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    findings: list[FindingView]


@dataclass(frozen=True)
class SummaryView:
    """What a reader needs from the first screen (or page): the status in plain words, the counts,
    the critical and high findings one line each, the questions that matter most."""

    status: str  # needs_attention | incomplete | pass
    headline: str  # what the status rests on, in plain words (follows the status label: "Needs attention — …")
    top: list[FindingView]  # open critical and high findings, worst first (at most TOP_FINDINGS)
    more_top: int  # open critical and high findings beyond those
    questions: list[QuestionView]  # the questions that matter most (at most TOP_QUESTIONS)
    questions_total: int


@dataclass
class ReportContext:
    decision: Decision
    program: ProgramView | None
    open: list[FindingView]  # open findings, worst first
    acknowledged: list[FindingView]
    by_five_p: list[Group]
    by_category: list[Group]
    needs: list[NeedsView]  # per rule and subject, for machines; people read ``questions``
    chart: list[tuple[str, int]]  # (severity, open findings), critical first
    questions: list[QuestionView] = field(default_factory=list)  # most valuable first
    outcomes: list[OutcomeView] = field(default_factory=list)
    rules_total: int = 0
    by_severity: list[Group] = field(default_factory=list)  # open findings, critical first; empty groups left out
    summary: SummaryView | None = None
    sources: list[CitationView] = field(default_factory=list)  # each cited document once (section left empty)

    @property
    def questions_to_answer(self) -> int:
        """Open questions not answered "don't know" (report.format.questions_text counts the same way)."""
        return sum(not dont_know(q) for q in self.questions)

    @property
    def questions_shown(self) -> list[QuestionView]:
        return self.questions[:QUESTIONS_SHOWN]

    @property
    def questions_more(self) -> list[QuestionView]:
        return self.questions[QUESTIONS_SHOWN:]


def build(decision: Decision, ruleset: Ruleset, profile: Profile | None = None,
          outcomes: Sequence[RuleOutcome] | None = None) -> ReportContext:
    """Arrange a decision for reading. ``outcomes`` (from ``Evaluator.outcomes``) adds the
    'rules checked' appendix that ``--explain`` asks for."""
    views = [_finding_view(f, ruleset, profile) for f in decision.findings]  # the decision's order: worst first
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
    catalog = catalog_for(ruleset)
    outcome_views = [
        OutcomeView(o.rule_id, titles.get(o.rule_id, o.rule_id), subject_label(o.subject, profile), o.outcome,
                    [place(p, catalog, o.subject.peer_index, profile) for p in o.missing])
        for o in outcomes or ()
    ]
    by_severity = [Group(s, SEVERITY_LABELS[s], [v for v in open_views if v.finding.severity == s]) for s in SEVERITIES]
    questions = [QuestionView(q, heading(q), why(q)) for q in decision.questions]
    return ReportContext(
        decision=decision,
        program=program_view(profile, ruleset) if profile is not None else None,
        open=open_views,
        acknowledged=acknowledged,
        by_five_p=[g for g in by_five_p if g.findings],
        by_category=by_category,
        needs=needs,
        chart=[(s, decision.summary.by_severity.get(s, 0)) for s in SEVERITIES],
        questions=questions,
        outcomes=outcome_views,
        rules_total=len(ruleset.rules),
        by_severity=[g for g in by_severity if g.findings],
        summary=_summary(decision, open_views, questions),
        sources=_sources(views, ruleset),
    )


def _sources(views: list[FindingView], ruleset: Ruleset) -> list[CitationView]:
    """Each document the findings cite, once, in the ruleset's order of sources."""
    cited = {c.source for v in views for c in v.citations}
    return [CitationView(title=info.title, publisher=info.publisher, year=info.year if info.year != "n.d." else None,
                         section="", quote="", source=key)
            for key, info in ruleset.sources.info.items() if key in cited]


def _summary(decision: Decision, open_views: list[FindingView], questions: list[QuestionView]) -> SummaryView:
    s = decision.summary
    reasons_withheld = any(f.acknowledged == ACKNOWLEDGED_WITHOUT_REASON for f in decision.findings)
    worst = [v for v in open_views if v.finding.severity in ("critical", "high")]
    counted = [f"{n} {sev}" for sev, n in s.by_severity.items() if n]
    findings = f"{s.findings} open finding{'s' * (s.findings != 1)} ({_and(counted)})" if s.findings else ""
    asked = len(questions)
    if s.status == "needs_attention":
        urgent = _and([f"{n} {sev}" for sev in ("critical", "high") if (n := s.by_severity.get(sev, 0))])
        count = s.by_severity.get("critical", 0) + s.by_severity.get("high", 0)
        lead = (f"{findings}. Start with the {urgent} finding{'s' * (count != 1)}." if count
                else f"{findings}. None is critical or high; start with the medium ones.")
    else:
        lead = "No open finding of medium severity or above" + (f" ({_and(counted)} open)" if counted else "")
        lead += (f", but not every rule could be judged: {asked} question{'s' * (asked != 1)} would decide the rest."
                 if s.status == "incomplete" else ", and every rule could be judged.")
    if s.acknowledged:
        risks = f"{s.acknowledged} risk{'s' * (s.acknowledged != 1)}"
        whose = "its reason is" if s.acknowledged == 1 else "their reasons are"
        lead += (f" The program has acknowledged {risks}; {whose} not kept in the decision log." if reasons_withheld
                 else f" The program has acknowledged {risks}, with its reasons.")
    if asked and s.status == "needs_attention":
        lead += f" {_cap(questions_text(questions))}."
    return SummaryView(status=s.status, headline=_cap(lead), top=worst[:TOP_FINDINGS], more_top=max(0, len(worst) - TOP_FINDINGS),
                       questions=questions[:TOP_QUESTIONS], questions_total=asked)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def program_view(profile: Profile, ruleset: Ruleset) -> ProgramView:
    program = profile.program
    state = f"{program.state.label} ({program.state.value})"

    def listed(values) -> str:
        return ("; " if any("," in v.label for v in values) else ", ").join(v.label for v in values) if values else "none"

    fte = [p.fte for p in profile.peers]
    facts = [
        ("State", state),
        ("Host agency", program.host_agency.label if program.host_agency else "unknown"),
        ("Sequential Intercept Model points", ", ".join(str(i) for i in program.intercepts) if program.intercepts is not None else "unknown"),
        ("Referral pathways", listed(program.referral_pathways) if program.referral_pathways is not None else "unknown"),
        ("Funding", listed(program.funding) if program.funding is not None else "unknown"),
        ("Peer positions", str(len(profile.peers))),
        ("Total FTE", value_text(round(sum(fte), 2)) if all(f is not None for f in fte) else "unknown"),
        ("Profile schema", profile.schema_version),
    ]
    return ProgramView(name=program.name, state=state, facts=facts)


def subject_label(subject: Subject, profile: Profile | None) -> str:
    """'Program', or 'Peer 2 (p2) — Peer Recovery Specialist': peers counted from 1, the caller's id in
    brackets, the title only when the profile is known."""
    name = subject_name(subject)
    index = subject.peer_index
    if subject.kind == "peer" and profile is not None and index is not None and index < len(profile.peers):
        return f"{name} — {profile.peers[index].title}"
    return name


def _finding_view(finding: Finding, ruleset: Ruleset, profile: Profile | None) -> FindingView:
    return FindingView(
        finding=finding,
        subject=subject_label(finding.subject, profile),
        evidence=evidence_lines(finding, ruleset, profile),
        citations=[_citation(c, ruleset) for c in finding.citations],
        who=who(finding),
    )


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
