"""The ``peercheck`` command: argument parsing (stdlib argparse) and dispatch.

Installed as a console script by the package (``[project.scripts]``); ``python -m cli.main``
works too.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from cli import FAILED
from engine import ENGINES
from report.format import SEVERITIES

INPUT_NOTE = ('PROFILE may be JSON or YAML (.yaml/.yml; comments allowed), a bare profile or a fixture file that '
              'holds one under a "profile" key (like fixtures/programs/*.json); "-" reads standard input.')

EXIT_CODES = """exit codes:
  0  done; no open finding at or above --fail-on
  1  an open (not acknowledged) finding at or above --fail-on
  2  invalid input or usage (each problem is named by its JSON pointer)
  3  PeerCheck could not run (bad rule data, engine not available)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peercheck",
        description="Check a peer recovery support program in a justice setting against federal guidance.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ev = commands.add_parser(
        "evaluate", help="evaluate one profile and print the findings",
        description="Evaluate one program profile. " + INPUT_NOTE, epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ev.add_argument("profile", metavar="PROFILE")
    ev.add_argument("--format", choices=("table", "json", "markdown", "html", "sarif"), default="table",
                    help="table (default): findings grouped by severity; json: the decision as the API returns it; "
                         "markdown / html: the report; sarif: SARIF 2.1.0 for code-scanning tools")
    ev.add_argument("--explain", action="store_true",
                    help="also show every rule's outcome on every subject (passed, not applicable, ...) "
                         "and why each finding matters")
    ev.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY",
                    help=f"exit 1 when an open finding at or above this severity exists ({', '.join(SEVERITIES)})")
    ev.add_argument("--engine", choices=ENGINES, help="rule engine (default: $PEERCHECK_ENGINE or interpreter)")
    ev.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")

    rules = commands.add_parser("rules", help="list the rules", description="List the rule catalog.")
    rules.add_argument("--category", metavar="C", help="only this category (e.g. role, caseload)")
    rules.add_argument("--severity", choices=SEVERITIES, metavar="S", help="only this severity")
    rules.add_argument("--format", choices=("table", "json"), default="table")

    va = commands.add_parser(
        "validate", help="check a profile against the schema (no evaluation)",
        description="Check a profile against the profile schema only; exit 0 when valid, 2 with each "
                    "problem named by its JSON pointer. " + INPUT_NOTE,
    )
    va.add_argument("profile", metavar="PROFILE")

    ba = commands.add_parser(
        "batch", help="evaluate a directory of profiles or a JSON Lines file",
        description="Evaluate many profiles: DIR (each *.json, *.yaml or *.yml file in it), one such file, or a JSON Lines file "
                    "(one profile or fixture wrapper per line). A bad item never stops the batch; the summary "
                    "comes at the end. Exit 2 when any item is invalid, else 1 when any item has an open finding "
                    "at or above --fail-on, else 0.",
    )
    ba.add_argument("input", metavar="DIR_OR_JSONL")
    ba.add_argument("--format", choices=("table", "json"), default="table")
    ba.add_argument("--fail-on", choices=SEVERITIES, metavar="S",
                    help="count items with an open finding at or above this severity; exit 1 if any")
    ba.add_argument("--engine", choices=ENGINES, help="rule engine (default: $PEERCHECK_ENGINE or interpreter)")

    iv = commands.add_parser(
        "interview", help="answer the questions that matter most, one at a time, into a profile file",
        description="Ask, in the terminal, the questions a review needs — required answers first, then the ones that "
                    "decide the most rules, weighted by severity — with why each is asked and how many are left. Answer "
                    "? for \"don't know\", s to skip, q to save and stop. Answers are written to PROFILE (JSON, or YAML "
                    "for .yaml/.yml) after each one; run it again on the same file to go on.",
    )
    iv.add_argument("profile", metavar="PROFILE", help="the profile file to fill in (created if missing)")
    iv.add_argument("--limit", type=int, metavar="N", help="stop after N answers")
    iv.add_argument("--engine", choices=ENGINES, help="rule engine (default: $PEERCHECK_ENGINE or interpreter)")

    it = commands.add_parser(
        "init", help="write a starter profile",
        description="Write a starter profile: YAML for .yaml/.yml (every question as a comment beside its field), "
                    "else JSON. Fill it in by hand or with `peercheck interview`.",
    )
    it.add_argument("profile", metavar="PROFILE", help="the file to write, e.g. profile.yaml")
    it.add_argument("--name", help="the program's name")
    it.add_argument("--state", metavar="XX", help="the state's two-letter code, e.g. OH")
    it.add_argument("--peers", type=int, default=1, choices=range(1, 51), metavar="N", help="peer positions (default 1)")
    it.add_argument("--force", action="store_true", help="overwrite the file if it exists")

    co = commands.add_parser(
        "compare", help="what a change does: findings resolved, added and remaining",
        description="Evaluate two versions of a program and list the findings the change resolves, adds and keeps, "
                    "worst first (as POST /v1/evaluations:compare). Give peers ids if the change reorders, adds or removes "
                    "peers. " + INPUT_NOTE,
    )
    co.add_argument("before", metavar="BEFORE")
    co.add_argument("after", metavar="AFTER")
    co.add_argument("--format", choices=("table", "json"), default="table")
    co.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY",
                    help="exit 1 when the change adds an open finding at or above this severity")
    co.add_argument("--engine", choices=ENGINES, help="rule engine (default: $PEERCHECK_ENGINE or interpreter)")

    se = commands.add_parser("serve", help="serve the HTTP API (uvicorn api.main:app)",
                             description="Serve the HTTP API with uvicorn (api.main:app).")
    se.add_argument("--host", default="127.0.0.1")
    se.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    return parser


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("api.main:app", host=args.host, port=args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Invalid input exits 2 with each problem named; anything unexpected exits
    3 with one line on standard error, never a traceback (whose locals could hold profile data)."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: say what failed, not how
        print(f"peercheck: PeerCheck could not finish ({type(exc).__name__})", file=sys.stderr)
        return FAILED


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "evaluate":
        from cli.evaluate import run_evaluate as run
    elif args.command == "validate":
        from cli.evaluate import run_validate as run
    elif args.command == "rules":
        from cli.rules import run_rules as run
    elif args.command == "batch":
        from cli.batch import run_batch as run
    elif args.command == "interview":
        from cli.interview import run_interview as run
    elif args.command == "init":
        from cli.interview import run_init as run
    elif args.command == "compare":
        from cli.compare import run_compare as run
    else:
        run = run_serve
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
