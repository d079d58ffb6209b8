"""The report as Markdown (CommonMark + GitHub tables), for pasting into an issue, a grant
portal or an e-mail.

Every piece of text that can come from a profile or a rule is escaped with ``md``: a program
named ``<script>`` or ``*bold*`` reads literally and never turns into HTML when the Markdown is
rendered.
"""

from __future__ import annotations

import re

from report.context import FindingView, ReportContext
from report.format import SEVERITY_LABELS, STATUS_EXPLAINED, STATUS_LABELS, humanise, FIVE_P_LABELS

_SPECIAL = re.compile(r"([\\`*\[\]<>|&~#!{}]|(?<!\w)_|_(?!\w))")


def md(text: object) -> str:
    """Inline Markdown text: ASCII punctuation that Markdown or HTML would act on is
    backslash-escaped (CommonMark), line breaks become spaces. An underscore inside a word
    (``peer_count``) cannot start emphasis in CommonMark and stays as it is, for legibility."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def code(text: str) -> str:
    """A code span that survives backticks inside it."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text.replace(chr(10), ' ')}{fence}"


def render_markdown(ctx: ReportContext) -> str:
    """The report, worst first: summary, findings by severity, the five Ps, acknowledged risks, the
    questions to answer, sources. Headings never skip a level."""
    d = ctx.decision
    s = d.summary
    out: list[str] = []
    name = ctx.program.name if ctx.program else "program profile"
    out += [f"# PeerCheck report: {md(name)}", ""]
    headline = ctx.summary.headline if ctx.summary else STATUS_EXPLAINED[s.status]
    out += [f"**{STATUS_LABELS[s.status]}** — {md(headline)}", ""]

    rows = list(ctx.program.facts) if ctx.program else []
    rows.append(("Evaluated", d.evaluated_at.strftime("%Y-%m-%d %H:%M UTC")))
    out += ["| Program | |", "|---|---|"] + [f"| {md(k)} | {md(v)} |" for k, v in rows] + [""]

    out += ["## Summary", ""]
    out += ["| " + " | ".join(SEVERITY_LABELS[sev] for sev, _ in ctx.chart) + " | Acknowledged | Questions to answer |",
            "|" + "---:|" * (len(ctx.chart) + 2),
            "| " + " | ".join(str(n) for _, n in ctx.chart) + f" | {s.acknowledged} | {ctx.questions_to_answer} |", ""]
    sm = ctx.summary
    out += ["### Critical and high findings", ""]
    if sm and sm.top:
        out += [f"{i}. **{SEVERITY_LABELS[v.finding.severity]}** — {md(v.finding.title)} — {md(v.who)}"
                for i, v in enumerate(sm.top, 1)]
        if sm.more_top:
            out += ["", f"And {sm.more_top} more under *Findings, worst first*."]
    else:
        out += ["None: no open finding is critical or high."]
    out += ["", "### The questions that matter most", ""]
    if sm and sm.questions:
        out += [f"{i}. **{md(q.heading)}**: {md(q.question.text)} — decides {md(q.why)}" for i, q in enumerate(sm.questions, 1)]
        if sm.questions_total > len(sm.questions):
            out += ["", f"{sm.questions_total - len(sm.questions)} more under *Questions to answer*."]
    else:
        out += ["None: every rule could be judged."]
    out.append("")

    out += ["## Findings, worst first", ""]
    if not ctx.by_severity:
        out += ["No open findings.", ""]
    for group in ctx.by_severity:
        out += [f"### {md(group.label)} ({len(group.findings)})", ""]
        for view in group.findings:
            out += _finding(view)

    out += ["## The same findings by the five Ps", ""]
    if ctx.by_five_p:
        out += ["| Step | Severity | Finding | About |", "|---|---|---|---|"]
        for group in ctx.by_five_p:
            for i, v in enumerate(group.findings):
                step = f"{md(group.label)} ({len(group.findings)})" if i == 0 else ""
                out.append(f"| {step} | {SEVERITY_LABELS[v.finding.severity]} | {md(v.finding.title)} | "
                           f"{md(v.who)} |")
        out.append("")
    else:
        out += ["No open findings.", ""]

    out += ["## Acknowledged risks", ""]
    if ctx.acknowledged:
        for v in ctx.acknowledged:
            f = v.finding
            out += [f"- **{md(f.title)}** ({SEVERITY_LABELS[f.severity].lower()}, {md(v.who)}, {code(f.rule_id)})  ",
                    f"  {md(f.message)}  ",
                    f"  *Reason given:* {md(f.acknowledged)}"]
        out.append("")
    else:
        out += ["None.", ""]

    out += ["## Questions to answer", ""]
    if ctx.questions:
        out += [f"Absent data is never taken as compliance: {s.needs_information} rule check"
                f"{'s' * (s.needs_information != 1)} could not be judged. {len(ctx.questions)} question"
                f"{'s' * (len(ctx.questions) != 1)} would decide {'them' if s.needs_information != 1 else 'it'}, "
                "the most valuable first.",
                "", "| About | Question | Why we ask |", "|---|---|---|"]
        for q in ctx.questions:
            said = " *(you said you don't know)*" if q.question.dont_know else ""
            out.append(f"| {md(q.heading)} | {md(q.question.text)}{said} | {md(q.why)} |")
        out.append("")
    else:
        out += ["None: every rule could be judged.", ""]

    if ctx.sources:
        out += ["## Sources", ""]
        out += [f"- *{md(c.title)}*" + (f". {md(c.publisher)}" if c.publisher else "") + (f", {md(c.year)}" if c.year else "") + "."
                for c in ctx.sources]
        out.append("")

    if ctx.outcomes:
        out += ["## Rules checked", "", "| Rule | Title | Subject | Outcome |", "|---|---|---|---|"]
        for o in ctx.outcomes:
            extra = f": {md(', '.join(o.missing))}" if o.missing else ""
            out.append(f"| {code(o.rule_id)} | {md(o.title)} | {md(o.subject)} | {humanise(o.outcome)}{extra} |")
        out.append("")

    out += ["---", "",
            f"Ruleset version {code(d.ruleset_version)} · decision {code(d.decision_id)} · engine {code(d.engine)} · "
            f"profile {code(d.profile_digest)}", ""]
    return "\n".join(out)


def _finding(view: FindingView) -> list[str]:
    f = view.finding
    lines = [f"#### {SEVERITY_LABELS[f.severity]}: {md(f.title)}", "",
             f"*{md(view.subject)} · {md(humanise(f.category))} · {FIVE_P_LABELS[f.five_p]} · {code(f.rule_id)}*", "",
             md(f.message), "", f"**What to do:** {md(f.remediation)}", ""]
    if view.evidence:
        lines += ["**Evidence:** " + " · ".join(f"{md(e.label)}: **{md(e.value)}**" for e in view.evidence), ""]
    lines += [f"**Why it matters:** {md(f.rationale)}", ""]
    for c in view.citations:
        lines += [f"> {md(c.quote)}", ">",
                  f"> — *{md(c.title)}*" + (f" ({md(c.year)})" if c.year and c.year != "n.d." else "")
                  + f", {md(c.section)}", ""]
    return lines
