"""``peercheck batch``: many profiles — a directory of ``*.json`` files or a JSON Lines file —
evaluated one by one. A bad item is recorded and the batch goes on; the summary comes at the
end. Inputs over ``PROGRESS_MIN`` items get a progress bar (on stderr, so JSON on stdout stays
clean).

Errors are reported by JSON pointer and reason only — never with profile content — and an
unexpected failure on one item is reported by its type alone.
"""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from cli import FAILED, FINDINGS, INVALID, OK
from cli.evaluate import failing
from cli import service
from cli.terminal import SEVERITY_STYLES, STATUS_STYLES, console, err_console
from engine import Evaluator
from report.format import SEVERITIES, SEVERITY_LABELS, STATUS_LABELS, questions_text
from cli.terminal import problem_lines
from engine.validation import InvalidDocument, Problem, check_rules, read_profile

PROGRESS_MIN = 50
DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")  # one profile per file


@dataclass(frozen=True)
class Item:
    source: str  # file name, or file:line for JSON Lines
    data: bytes


def _documents(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)


def count_items(path: Path) -> int:
    if path.is_dir():
        return len(_documents(path))
    if path.suffix.lower() in DOCUMENT_SUFFIXES:
        return 1
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def iter_items(path: Path) -> Iterator[Item]:
    """A directory: each ``*.json``, ``*.yaml`` or ``*.yml`` file in name order. Such a file: itself.
    Any other file: JSON Lines, one profile (or fixture wrapper) per non-blank line."""
    if path.is_dir():
        for p in _documents(path):
            try:
                yield Item(p.name, p.read_bytes())
            except OSError:
                yield Item(p.name, b"")
    elif path.suffix.lower() in DOCUMENT_SUFFIXES:
        yield Item(path.name, path.read_bytes())
    else:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield Item(f"{path.name}:{number}", line)


def evaluate_item(item: Item, evaluator: Evaluator, fail_on: str | None) -> dict[str, Any]:
    """One item's result; never raises."""
    try:
        # a file is JSON or YAML by its name; a line of a JSON Lines file is JSON
        named = item.source.lower().endswith(DOCUMENT_SUFFIXES)
        loaded = read_profile(item.data, name=item.source if named else "item.json")
        check_rules(loaded, evaluator.ruleset)
        decision = evaluator.evaluate(loaded.profile)
    except InvalidDocument as exc:
        return {"source": item.source, "ok": False, "error": "invalid", "summary": exc.summary(),
                "problem_count": exc.total, "problems": [problem_dict(p) for p in exc.problems]}
    except Exception as exc:  # noqa: BLE001 - one bad item never stops the batch
        return {"source": item.source, "ok": False, "error": "failed",
                "problems": [{"pointer": "", "field": "The document", "detail": f"evaluation failed ({type(exc).__name__})"}]}
    return {"source": item.source, "ok": True, "failing": failing(decision, fail_on),
            "decision": decision.model_dump(mode="json")}


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem as JSON: the fields of API problem details (``errors[]``) and the caret's offset
    in the excerpt; None left out."""
    return {k: v for k, v in asdict(problem).items() if v is not None}


def summarise(results: list[dict[str, Any]], fail_on: str | None) -> dict[str, Any]:
    done = [r for r in results if r["ok"]]
    by_status = {"needs_attention": 0, "incomplete": 0, "pass": 0}
    by_severity = {s: 0 for s in SEVERITIES}
    for r in done:
        summary = r["decision"]["summary"]
        by_status[summary["status"]] += 1
        for s, n in summary["by_severity"].items():
            by_severity[s] = by_severity.get(s, 0) + n
    return {
        "items": len(results), "evaluated": len(done),
        "invalid": sum(1 for r in results if not r["ok"] and r["error"] == "invalid"),
        "failed": sum(1 for r in results if not r["ok"] and r["error"] == "failed"),
        "by_status": by_status, "open_findings_by_severity": by_severity,
        "fail_on": fail_on, "failing": sum(1 for r in done if r["failing"]),
    }


def run_batch(args: Namespace) -> int:
    err = err_console()
    path = Path(args.input)
    if not path.exists():
        err.print(f"no such file or directory: {args.input}", markup=False)
        return INVALID
    evaluator = service.evaluator_or_report(args.engine, err)
    if evaluator is None:
        return FAILED

    total = count_items(path)
    results: list[dict[str, Any]] = []
    if total > PROGRESS_MIN:
        columns = (TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=False) as progress:
            task = progress.add_task("batch", total=total)
            for item in iter_items(path):
                results.append(evaluate_item(item, evaluator, args.fail_on))
                progress.advance(task)
    else:
        results = [evaluate_item(item, evaluator, args.fail_on) for item in iter_items(path)]

    summary = summarise(results, args.fail_on)
    if args.format == "json":
        sys.stdout.write(json.dumps({"summary": summary, "items": results}, indent=2, ensure_ascii=False) + "\n")
    else:
        print_batch(results, summary)
    if summary["invalid"] or summary["failed"]:
        return INVALID
    return FINDINGS if summary["failing"] else OK


STATUS_ORDER = {"needs_attention": 0, "incomplete": 1, "pass": 2}
WIDE = 120  # columns from which the batch is a table; narrower, one block per item


def worst_first(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evaluated items, the worst first: by status, then by open findings from critical down, then name."""
    def key(r: dict[str, Any]) -> tuple:
        s = r["decision"]["summary"]
        return (STATUS_ORDER[s["status"]], *(-s["by_severity"].get(sev, 0) for sev in SEVERITIES), r["source"])
    return sorted((r for r in results if r["ok"]), key=key)


def print_batch(results: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """The evaluated items worst first — a table on a wide terminal, one block per item on a narrow
    one — then each failed item's problems, then the summary line."""
    out = console()
    done = worst_first(results)
    if out.width >= WIDE:
        table = Table(title="PeerCheck batch, worst first", expand=True)
        table.add_column("Input", overflow="fold", ratio=1, min_width=16)
        table.add_column("Status", no_wrap=True)
        for sev in SEVERITIES:
            table.add_column(SEVERITY_LABELS[sev], justify="right", no_wrap=True)
        table.add_column("Questions", justify="right", no_wrap=True)
        table.add_column("Decision", no_wrap=True)
        for r in done:
            d = r["decision"]
            s = d["summary"]
            table.add_row(Text(r["source"]), Text(STATUS_LABELS[s["status"]], style=STATUS_STYLES[s["status"]]),
                          *[Text(str(s["by_severity"].get(sev, 0)),
                                 style=SEVERITY_STYLES[sev] if s["by_severity"].get(sev) else "dim") for sev in SEVERITIES],
                          Text(str(len(d.get("questions", ())))), Text(d["decision_id"]))
        out.print(table)
    else:
        out.print(Text("PeerCheck batch, worst first", style="bold"))
        for r in done:
            d = r["decision"]
            s = d["summary"]
            counts: list = []
            for sev in SEVERITIES:
                n = s["by_severity"].get(sev, 0)
                if n:
                    counts += [(f"{SEVERITY_LABELS[sev]} {n}", SEVERITY_STYLES[sev]), " · "]
            if not counts:
                counts = ["no open findings · "]
            out.print()
            out.print(Text(r["source"], style="bold"), overflow="fold")
            out.print(Padding(Text.assemble((STATUS_LABELS[s["status"]], STATUS_STYLES[s["status"]]), " · ", *counts,
                                            questions_text(d.get("questions", []))), (0, 0, 0, 4)))
            out.print(Padding(Text(f"decision {d['decision_id']}", style="dim"), (0, 0, 0, 4)))
    failed = [r for r in results if not r["ok"]]
    if failed:
        out.print()
        out.print(Text(f"Problems ({len(failed)} item(s) not evaluated):", style="bold red"))
        for r in failed:
            listed = len(r["problems"])
            total = r.get("problem_count", listed)
            count = f"{total:,} problems; the first {listed} are listed" if total > listed else f"{listed} problem{'s' * (listed != 1)}"
            out.print(Text.assemble((r["source"], "bold"), f" ({count})"), soft_wrap=True)
            for p in r["problems"]:
                for line in problem_lines(Problem(**p)):
                    out.print(line, soft_wrap=True)
    st = summary["by_status"]
    line = (f"{summary['items']} item(s): {summary['evaluated']} evaluated "
            f"({st['needs_attention']} need attention, {st['incomplete']} incomplete, {st['pass']} pass), "
            f"{summary['invalid']} invalid, {summary['failed']} failed")
    if summary["fail_on"]:
        line += f"; {summary['failing']} with an open finding at or above {summary['fail_on']}"
    out.print()
    out.print(Text(line, style="bold"))
