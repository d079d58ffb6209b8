"""``peercheck rules``: the rule catalog, filtered, as a table or JSON (the shape of
``GET /v1/rules``)."""

from __future__ import annotations

import json
import sys
from argparse import Namespace

from rich.table import Table
from rich.text import Text

from cli import FAILED, INVALID, OK
from cli import service
from cli.terminal import SEVERITY_STYLES, console, err_console
from engine.evaluate import general_text
from engine.spec import SEVERITY_RANK
from report.format import FIVE_P_LABELS, SEVERITY_LABELS, humanise


def rule_dict(rule, ruleset) -> dict:
    spec = rule.spec
    return {
        "id": spec.id, "title": spec.title, "severity": spec.severity.value,
        "severity_class": spec.severity_class.value, "category": spec.category,
        "five_p": spec.five_p.value, "scope": spec.scope, "basis": spec.basis, "confidence": spec.confidence,
        "parameters": rule.params, "message": general_text(spec.message, rule.params),
        "remediation": general_text(spec.remediation, rule.params), "rationale": spec.rationale,
        "citations": [{**c.model_dump(), "title": ruleset.sources.info[c.source].title} for c in spec.citations],
    }


def run_rules(args: Namespace) -> int:
    err = err_console()
    evaluator = service.evaluator_or_report(None, err)
    if evaluator is None:
        return FAILED
    ruleset = evaluator.ruleset
    categories = sorted({r.spec.category for r in ruleset.rules})
    if args.category is not None and args.category not in categories:
        err.print(f"unknown category {args.category!r}; categories: {', '.join(categories)}", markup=False)
        return INVALID
    rules = [
        r for r in ruleset.rules
        if (args.category is None or r.spec.category == args.category)
        and (args.severity is None or r.spec.severity == args.severity)
    ]
    if args.format == "json":
        body = {"ruleset_version": ruleset.version, "count": len(rules), "rules": [rule_dict(r, ruleset) for r in rules]}
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return OK
    out = console()
    wide = out.width >= 110  # narrower: rule, severity and title only, so the title never shrinks to nothing
    table = Table(title=f"PeerCheck rules, worst first · ruleset {ruleset.version} · {len(rules)} rule(s)", expand=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    if wide:
        for col in ("Category", "Five Ps", "Scope"):
            table.add_column(col, no_wrap=True)
    table.add_column("Title", overflow="fold", ratio=1, min_width=20)
    for r in sorted(rules, key=lambda r: (SEVERITY_RANK[r.spec.severity], r.id)):
        s = r.spec
        extra = [Text(humanise(s.category)), Text(FIVE_P_LABELS[s.five_p]), Text(s.scope)] if wide else []
        table.add_row(Text(s.id), Text(SEVERITY_LABELS[s.severity], style=SEVERITY_STYLES[s.severity]), *extra, Text(s.title))
    out.print(table)
    return OK
