"""Readable terminal output with rich: a decision grouped by severity, input problems, tables.

Everything that comes from a profile or a rule is wrapped in ``Text`` (never parsed as rich
markup), so a program called ``[bold]x[/]`` prints as typed.
"""

from __future__ import annotations

import sys
from typing import IO, Iterable

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from report.context import FindingView, ReportContext
from report.format import SEVERITY_LABELS, STATUS_EXPLAINED, STATUS_LABELS, humanise
from report.inputs import InputProblem

SEVERITY_STYLES = {"critical": "bold white on red", "high": "bold red", "medium": "bold yellow",
                   "low": "bold blue", "info": "bold"}
STATUS_STYLES = {"needs_attention": "bold red", "incomplete": "bold yellow", "pass": "bold green"}


def console(file: IO[str] | None = None, plain: bool = False) -> Console:
    """A console on stdout (or ``file``); ``plain`` for files: no colour, fixed width."""
    if plain:
        return Console(file=file, width=110, color_system=None, force_terminal=False, highlight=False, emoji=False)
    return Console(file=file or sys.stdout, highlight=False, emoji=False)


def err_console() -> Console:
    return Console(file=sys.stderr, highlight=False, emoji=False)


def print_problems(out: Console, source: str, problems: Iterable[InputProblem], what: str = "invalid profile") -> None:
    problems = list(problems)
    out.print(Text.assemble((f"{what}: ", "bold red"), source, f" ({len(problems)} problem{'s' * (len(problems) != 1)})"))
    for p in problems:
        out.print(Text.assemble("  ", (p.pointer or "(document)", "bold"), "  ", p.detail), soft_wrap=True)


def print_decision(out: Console, ctx: ReportContext, explain: bool = False) -> None:
    d = ctx.decision
    s = d.summary
    title = ctx.program.name if ctx.program else "program profile"
    head = Text.assemble(
        (STATUS_LABELS[s.status], STATUS_STYLES[s.status]), " — ", STATUS_EXPLAINED[s.status], "\n",
        f"{s.findings} open finding{'s' * (s.findings != 1)}  ·  {s.acknowledged} acknowledged  ·  "
        f"{s.needs_information} need information  ·  {s.rules_evaluated} rules evaluated\n",
        *_severity_counts(ctx),
    )
    out.print(Panel(head, title=Text.assemble("PeerCheck · ", (title, "bold")), title_align="left"))

    for severity, _ in ctx.chart:
        views = [v for v in ctx.open if v.finding.severity == severity]
        if not views:
            continue
        out.rule(Text(f"{SEVERITY_LABELS[severity].upper()} ({len(views)})", style=SEVERITY_STYLES[severity]), align="left")
        for view in views:
            out.print(_finding_panel(view, explain))

    if ctx.acknowledged:
        out.rule(Text(f"ACKNOWLEDGED ({len(ctx.acknowledged)})", style="bold"), align="left")
        table = Table(show_lines=True, expand=True)
        for col in ("Rule", "Severity", "Subject", "Finding", "Reason given"):
            table.add_column(col)
        for v in ctx.acknowledged:
            f = v.finding
            table.add_row(Text(f.rule_id), Text(SEVERITY_LABELS[f.severity], style=SEVERITY_STYLES[f.severity]),
                          Text(v.subject), Text(f.title), Text(f.acknowledged or ""))
        out.print(table)

    if ctx.questions:
        out.rule(Text(f"NEEDS INFORMATION ({len(ctx.questions)} question{'s' * (len(ctx.questions) != 1)})", style="bold"),
                 align="left")
        out.print(Text(f"Absent data is never taken as compliance: {s.needs_information} rule checks could not be "
                       "judged. These questions would decide them, the most valuable first.", style="dim"))
        table = Table(expand=True, show_lines=True)
        table.add_column("Question", ratio=3)
        table.add_column("Why we ask", ratio=2)
        for q in ctx.questions:
            said = Text(" (you said you don't know)", style="italic") if q.question.dont_know else ""
            table.add_row(Text.assemble((q.heading, "bold"), said, "\n", q.question.text), Text(q.why))
        out.print(table)

    if explain and ctx.outcomes:
        out.rule(Text(f"RULES CHECKED ({len(ctx.outcomes)})", style="bold"), align="left")
        table = Table(expand=True)
        for col in ("Rule", "Subject", "Outcome", "Title"):
            table.add_column(col)
        styles = {"fired": "bold red", "passed": "green", "not_applicable": "dim", "needs_information": "yellow"}
        for o in ctx.outcomes:
            table.add_row(Text(o.rule_id), Text(o.subject), Text(humanise(o.outcome), style=styles.get(o.outcome, "")),
                          Text(o.title))
        out.print(table)

    out.print(Text(f"ruleset {d.ruleset_version} · decision {d.decision_id} · engine {d.engine}", style="dim"))


def _severity_counts(ctx: ReportContext) -> list:
    parts: list = []
    for i, (severity, n) in enumerate(ctx.chart):
        if i:
            parts.append("  ")
        parts.append((f"{SEVERITY_LABELS[severity]} {n}", SEVERITY_STYLES[severity] if n else "dim"))
    return parts


def _finding_panel(view: FindingView, explain: bool) -> Panel:
    f = view.finding
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("", Text(f.message))
    grid.add_row("Evidence", Text("\n".join(e.text() for e in view.evidence)))
    grid.add_row("What to do", Text(f.remediation))
    if explain:
        grid.add_row("Why", Text(f.rationale))
    sources = [
        Text.assemble(("“" + c.quote + "”", "italic"), "\n— ", c.title,
                      f" ({c.year})" if c.year and c.year != "n.d." else "", ", ", c.section)
        for c in view.citations
    ]
    grid.add_row("Source" + ("s" if len(sources) > 1 else ""), Group(*sources))
    title = Text.assemble((SEVERITY_LABELS[f.severity].upper(), SEVERITY_STYLES[f.severity]), " ", (f.title, "bold"))
    subtitle = Text(f"{f.rule_id} · {view.subject} · {humanise(f.category)}")
    border = SEVERITY_STYLES[f.severity].replace("bold ", "").replace("white on ", "")
    return Panel(grid, title=title, title_align="left", subtitle=subtitle, subtitle_align="right", border_style=border)
