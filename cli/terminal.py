"""Readable terminal output with rich: a decision grouped by severity, input problems, tables.

Everything that comes from a profile or a rule is wrapped in ``Text`` (never parsed as rich
markup), so a program called ``[bold]x[/]`` prints as typed.
"""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from report.context import FindingView, ReportContext
from report.format import SEVERITY_LABELS, STATUS_EXPLAINED, STATUS_LABELS, humanise, questions_text
from engine.validation import InvalidDocument, Problem

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


def problem_lines(problem: Problem) -> list[Text]:
    """One problem as people read it: where, what is wrong, the fix; the JSON pointer (for
    machines and editors) dimmed; for JSON that cannot be read, the offending line and a caret."""
    lines = [Text.assemble("  ", (problem.field, "bold"), ": ", problem.detail, ".",
                           (" " + problem.fix) if problem.fix else "")]
    if problem.excerpt is not None and problem.caret is not None:
        lines.append(Text("    " + problem.excerpt, style="cyan"))
        lines.append(Text("    " + " " * problem.caret + "^", style="bold red"))
    if problem.pointer:
        lines.append(Text(f"    at {problem.pointer}", style="dim"))
    return lines


def problem_count(invalid: InvalidDocument) -> str:
    listed = len(invalid.problems)
    if invalid.total > listed:
        return f"{invalid.total:,}{'' if invalid.complete else ' or more'} problems; the first {listed} are listed"
    return f"{listed} problem{'s' * (listed != 1)}"


def print_problems(out: Console, source: str, invalid: InvalidDocument, what: str = "invalid profile") -> None:
    out.print(Text.assemble((f"{what}: ", "bold red"), source, f" ({problem_count(invalid)})"), soft_wrap=True)
    for problem in invalid.problems:
        for line in problem_lines(problem):
            out.print(line, soft_wrap=True)


TOP_QUESTIONS = 5  # questions shown under "questions to answer" unless --explain


def print_decision(out: Console, ctx: ReportContext, explain: bool = False) -> None:
    """The decision, worst first, one finding per block (readable at 80 columns): the status in
    plain words and the counts; each severity's findings; the acknowledged risks; the questions that
    matter most (all of them with ``explain``); with ``explain`` also why each finding matters, the
    passages it rests on and every rule's outcome."""
    d = ctx.decision
    s = d.summary
    title = ctx.program.name if ctx.program else "program profile"
    out.print(Text.assemble(("PeerCheck", "bold"), " · ", (title, "bold")))
    headline = ctx.summary.headline if ctx.summary else STATUS_EXPLAINED[s.status]
    out.print(Text.assemble((STATUS_LABELS[s.status], STATUS_STYLES[s.status]), " — ", headline))
    counts: list = []
    for severity, n in ctx.chart:
        counts += [(f"{SEVERITY_LABELS[severity]} {n}", SEVERITY_STYLES[severity] if n else "dim"), " · "]
    counts += [f"{s.acknowledged} acknowledged · {questions_text(ctx.questions)}"]
    out.print(Text.assemble(*counts))

    for group in ctx.by_severity:
        out.print()
        out.rule(Text(f"{group.label.upper()} ({len(group.findings)})", style=SEVERITY_STYLES[group.key]), align="left")
        for view in group.findings:
            out.print()
            out.print(_finding_block(view, explain))

    if ctx.acknowledged:
        out.print()
        out.rule(Text(f"ACKNOWLEDGED ({len(ctx.acknowledged)})", style="bold"), align="left")
        for view in ctx.acknowledged:
            f = view.finding
            out.print()
            out.print(_block(Text(SEVERITY_LABELS[f.severity].upper(), style=SEVERITY_STYLES[f.severity]),
                             Text(f.title, style="bold"), Text(f"{view.who} · {f.rule_id}", style="dim"), Text(f.message),
                             [("Reason given", Text(f.acknowledged or ""))]))

    if ctx.questions:
        shown = ctx.questions if explain else ctx.questions[:TOP_QUESTIONS]
        out.print()
        out.rule(Text(f"QUESTIONS TO ANSWER ({len(ctx.questions)})", style="bold"), align="left")
        out.print(Text(f"Absent data is never taken as compliance: {s.needs_information} rule check"
                       f"{'s' * (s.needs_information != 1)} could not be judged. The questions that would decide the "
                       "most, first:", style="dim"))
        for number, q in enumerate(shown, 1):
            said = Text(" (you said you don't know)", style="italic") if q.question.dont_know else ""
            out.print()
            out.print(_block(Text(f"{number}."), Text.assemble((q.heading, "bold"), said), None, Text(q.question.text),
                             [("Why we ask", Text(q.why))]))
        more = len(ctx.questions) - len(shown)
        if more:
            out.print()
            out.print(Text(f"And {more} more question{'s' * (more != 1)}: `peercheck interview FILE` asks them one by "
                           "one; --explain lists them all.", style="dim"))

    if explain and ctx.outcomes:
        out.print()
        out.rule(Text(f"RULES CHECKED ({len(ctx.outcomes)})", style="bold"), align="left")
        styles = {"fired": "bold red", "passed": "green", "not_applicable": "dim", "needs_information": "yellow"}
        wide = out.width >= 110
        table = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
        table.add_column("Rule", no_wrap=True)
        table.add_column("Outcome", no_wrap=True)
        table.add_column("Subject", overflow="fold", min_width=12)
        if wide:
            table.add_column("Title", overflow="fold", ratio=1)
        for o in ctx.outcomes:
            row = [Text(o.rule_id), Text(humanise(o.outcome), style=styles.get(o.outcome, "")), Text(_short(o.subject))]
            table.add_row(*row, *([Text(o.title)] if wide else []))
        out.print(table)

    out.print()
    out.print(Text(f"ruleset {d.ruleset_version} · decision {d.decision_id} · engine {d.engine}", style="dim"))


def _short(subject: str) -> str:
    return subject.split(" — ", 1)[0]


def _block(marker: Text, head: Text, meta: Text | None, lead: Text | None,
           rows: list[tuple[str, Text | Group]]) -> Group:
    """One block: a marker and a heading that wraps under itself, then indented under it a dim line,
    a paragraph and labelled rows (a label column that never wraps, a text column that does)."""
    top = Table.grid(padding=(0, 1))
    top.add_column(no_wrap=True)
    top.add_column(overflow="fold")
    top.add_row(marker, head)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(label, text)
    parts = [part for part in (meta, lead) if part is not None]
    return Group(top, Padding(Group(*parts, grid), (0, 0, 0, 4)))


def _finding_block(view: FindingView, explain: bool) -> Group:
    f = view.finding
    style = SEVERITY_STYLES[f.severity]
    rows: list[tuple[str, Text | Group]] = [("What to do", Text(f.remediation))]
    if view.evidence:
        rows.append(("Evidence", Text("\n".join(e.text() for e in view.evidence))))
    if explain:
        rows.append(("Why", Text(f.rationale)))
        passages = [
            Text.assemble(("“" + c.quote + "”", "italic"), "\n— ", c.title,
                          f" ({c.year})" if c.year and c.year != "n.d." else "", ", ", c.section)
            for c in view.citations
        ]
        rows.append(("Source" + ("s" if len(passages) > 1 else ""), Group(*passages)))
    else:
        refs = [f"{r.title}{f' ({r.year})' if r.year else ''}: {'; '.join(r.sections)}" for r in view.sources]
        rows.append(("Source" + ("s" if len(view.citations) > 1 else ""), Text("\n".join(refs), style="italic")))
    meta = Text(f"{view.who} · {humanise(f.category)} · {f.rule_id}", style="dim")
    return _block(Text.assemble(("❯ ", style), (SEVERITY_LABELS[f.severity].upper(), style)), Text(f.title, style="bold"),
                  meta, Text(f.message), rows)
