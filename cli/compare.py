"""``peercheck compare BEFORE AFTER``: what a change to a program does — the findings it resolves,
the ones it adds and the ones that remain, worst first (the API's ``POST /v1/evaluations:compare``).

Both files may be JSON or YAML, bare profiles or fixture files. ``--fail-on S`` exits 1 when the
change adds an open finding at or above ``S``: a check that a change makes nothing worse.
"""

from __future__ import annotations

import json
import sys
from argparse import Namespace

from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from cli import FAILED, FINDINGS, INVALID, OK
from cli import service
from cli.evaluate import read_profile
from cli.terminal import SEVERITY_STYLES, STATUS_STYLES, console, err_console, print_problems
from engine import Decision
from engine.comparison import Changes, compare
from engine.validation import InvalidDocument, check_rules
from report.evidence import who
from report.format import SEVERITY_LABELS, STATUS_LABELS, at_least, counted, open_first, questions_text


def run_compare(args: Namespace) -> int:
    err = err_console()
    loaded = {}
    for role, path in (("before", args.before), ("after", args.after)):
        try:
            loaded[role] = read_profile(path)
        except InvalidDocument as exc:
            print_problems(err, path, exc)
            return INVALID
    evaluator = service.evaluator_or_report(args.engine, err)
    if evaluator is None:
        return FAILED
    for role, path in (("before", args.before), ("after", args.after)):
        try:
            check_rules(loaded[role], evaluator.ruleset)
        except InvalidDocument as exc:
            print_problems(err, path, exc)
            return INVALID
    before = evaluator.evaluate(loaded["before"].profile)
    after = evaluator.evaluate(loaded["after"].profile)
    changes = compare(before, after)
    if args.format == "json":
        body = {"before": _brief(before), "after": _brief(after),
                **{name: [f.model_dump(mode="json") for f in found] for name, found in changes._asdict().items()}}
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    else:
        print_comparison(args.before, args.after, before, after, changes)
    worse = at_least(args.fail_on)
    return FINDINGS if any(f.severity in worse and f.acknowledged is None for f in changes.new) else OK


def _brief(decision: Decision) -> dict:
    return {"decision_id": decision.decision_id, "ruleset_version": decision.ruleset_version,
            "profile_digest": decision.profile_digest, "summary": decision.summary.model_dump(mode="json")}


def print_comparison(before_name: str, after_name: str, before: Decision, after: Decision, changes: Changes) -> None:
    out = console()
    out.print(Text.assemble(("PeerCheck · what the change does", "bold")))
    sides = Table.grid(padding=(0, 1))  # each line wraps under itself
    sides.add_column(no_wrap=True)
    sides.add_column(overflow="fold")
    for label, name, decision in (("Before", before_name, before), ("After", after_name, after)):
        s = decision.summary
        counts = ", ".join(f"{n} {sev}" for sev, n in s.by_severity.items() if n) or "none open"
        sides.add_row(label, Text.assemble(
            (STATUS_LABELS[s.status], STATUS_STYLES[s.status]),
            f" — {s.findings} open finding{'s' * (s.findings != 1)} ({counts}), "
            + (f"{s.acknowledged} acknowledged, " if s.acknowledged else "")
            + f"{questions_text(decision.questions)} ", (name, "dim")))
    out.print(sides)
    groups = [("NEW", changes.new, "bold red"), ("RESOLVED", changes.resolved, "bold green"),
              ("REMAINING", changes.remaining, "bold")]
    if changes.undecided:  # absent data is not compliance: never counted as resolved
        groups.insert(2, ("NO LONGER JUDGED: an answer the rule needs was removed", changes.undecided, "bold yellow"))
    for title, found, style in groups:
        out.print()
        out.rule(Text(f"{title} ({counted(found)})", style=style), align="left")
        if not found:
            out.print(Text("None.", style="dim"))
        for f in open_first(found):
            acknowledged = f.acknowledged is not None
            marker = Text.assemble(("❯ ", SEVERITY_STYLES[f.severity]),
                                   (f"{SEVERITY_LABELS[f.severity].upper():<8}", SEVERITY_STYLES[f.severity]))
            head = Text.assemble((f.title, "dim" if acknowledged else "bold"), (f" — {who(f)}", "dim"),
                                 (" · acknowledged by the program" if acknowledged else "", "italic"))
            line = Table.grid(padding=(0, 1))  # the heading wraps under itself, not under the marker
            line.add_column(no_wrap=True)
            line.add_column(overflow="fold")
            line.add_row(marker, head)
            out.print(line)
            if title == "NEW" and not acknowledged:
                out.print(Padding(Text(f.message), (0, 0, 0, 4)))
    out.print()
    out.print(Text(f"decisions {before.decision_id} → {after.decision_id} · ruleset {after.ruleset_version}", style="dim"))
