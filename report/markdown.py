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
    d = ctx.decision
    out: list[str] = []
    name = ctx.program.name if ctx.program else "program profile"
    out += [f"# PeerCheck report: {md(name)}", ""]
    out += [f"**Status: {STATUS_LABELS[d.summary.status]}** — {STATUS_EXPLAINED[d.summary.status]}", ""]

    rows = list(ctx.program.facts) if ctx.program else []
    rows.append(("Evaluated", d.evaluated_at.strftime("%Y-%m-%d %H:%M UTC")))
    out += ["| Program | |", "|---|---|"] + [f"| {md(k)} | {md(v)} |" for k, v in rows] + [""]

    out += ["## Open findings by severity", ""]
    out += ["| " + " | ".join(SEVERITY_LABELS[s] for s, _ in ctx.chart) + " |",
            "|" + "---:|" * len(ctx.chart),
            "| " + " | ".join(str(n) for _, n in ctx.chart) + " |", ""]
    s = d.summary
    out += [f"Open findings: **{s.findings}** · acknowledged: **{s.acknowledged}** · "
            f"needs information: **{s.needs_information}** · rules evaluated: **{s.rules_evaluated}**", ""]

    out += ["## Findings by the five Ps", ""]
    if not ctx.by_five_p:
        out += ["No open findings.", ""]
    for group in ctx.by_five_p:
        out += [f"### {md(group.label)} ({len(group.findings)})", ""]
        for view in group.findings:
            out += _finding(view)

    out += ["## Findings by category", ""]
    if ctx.by_category:
        out += ["| Category | Severity | Rule | Finding | Subject |", "|---|---|---|---|---|"]
        for group in ctx.by_category:
            for v in group.findings:
                f = v.finding
                out.append(f"| {md(group.label)} | {SEVERITY_LABELS[f.severity]} | {code(f.rule_id)} | "
                           f"{md(f.title)} | {md(v.subject)} |")
        out.append("")
    else:
        out += ["No open findings.", ""]

    out += ["## Acknowledged risks", ""]
    if ctx.acknowledged:
        for v in ctx.acknowledged:
            f = v.finding
            out += [f"- **{md(f.title)}** ({code(f.rule_id)}, {SEVERITY_LABELS[f.severity].lower()}, {md(v.subject)})  ",
                    f"  {md(f.message)}  ",
                    f"  *Reason given:* {md(f.acknowledged)}"]
        out.append("")
    else:
        out += ["None.", ""]

    out += ["## Needs information", ""]
    if ctx.questions:
        out += [f"Absent data is never taken as compliance: {s.needs_information} rule checks could not be judged. "
                "These questions would decide them, the most valuable first.", "",
                "| Question | About | Why we ask |", "|---|---|---|"]
        for q in ctx.questions:
            said = " *(you said you don't know)*" if q.question.dont_know else ""
            out.append(f"| {md(q.question.text)}{said} | {md(q.heading)} | {md(q.why)} |")
        out.append("")
    else:
        out += ["None: every rule could be judged.", ""]

    if ctx.outcomes:
        out += ["## Rules checked", "", "| Rule | Title | Subject | Outcome |", "|---|---|---|---|"]
        for o in ctx.outcomes:
            extra = f" ({', '.join(code(p) for p in o.missing)})" if o.missing else ""
            out.append(f"| {code(o.rule_id)} | {md(o.title)} | {md(o.subject)} | {humanise(o.outcome)}{extra} |")
        out.append("")

    out += ["---", "",
            f"Ruleset version {code(d.ruleset_version)} · decision {code(d.decision_id)} · engine {code(d.engine)} · "
            f"profile {code(d.profile_digest)}", ""]
    return "\n".join(out)


def _finding(view: FindingView) -> list[str]:
    f = view.finding
    lines = [f"#### {SEVERITY_LABELS[f.severity]}: {md(f.title)} ({code(f.rule_id)})", "",
             f"*{md(view.subject)} · {md(humanise(f.category))} · {FIVE_P_LABELS[f.five_p]} · basis: {md(f.basis)}*", "",
             md(f.message), "", "**Evidence**", ""]
    lines += [f"- {', '.join(code(p) for p in e.pointers) or md(e.field)} = {md(e.value)}"
              + (f" ({md(e.field)})" if e.field and e.pointers else "") for e in view.evidence]
    lines += ["", f"**What to do:** {md(f.remediation)}", "", f"**Why:** {md(f.rationale)}", "", "**Sources**", ""]
    for c in view.citations:
        lines += [f"> {md(c.quote)}", ">",
                  f"> — *{md(c.title)}*" + (f" ({md(c.year)})" if c.year and c.year != "n.d." else "")
                  + f", {md(c.section)}", ""]
    return lines
