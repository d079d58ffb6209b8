"""``peercheck evaluate`` and ``peercheck validate``: one profile file in, a decision (or its
schema problems) out."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from pathlib import Path

from cli import FAILED, FINDINGS, INVALID, OK
from cli import service
from cli.terminal import console, err_console, print_decision, print_problems
from engine import Decision
from engine.validation import InvalidDocument, LoadedProfile, Problem, check_rules
from engine.validation import read_profile as parse_profile
from engine.yamltext import lines
from report import artifact_uri, build, render
from report.format import STATUS_LABELS, failing_rules


FORMATS = ("table", "json", "markdown", "html", "sarif")


def read_document(path: str) -> bytes:
    """The file's bytes ('-' = standard input). Raises InvalidDocument for a file that cannot be read."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidDocument([Problem("", "The file", f"cannot be read: {exc.strerror}", code="unreadable")]) from None


def read_profile(path: str) -> LoadedProfile:
    """A JSON or YAML profile file ('-': standard input, JSON or YAML by its first character)."""
    return load_profile(read_document(path), path)


def load_profile(data: bytes, path: str) -> LoadedProfile:
    """The profile in a file's bytes: JSON or YAML by the file's name, else by its first character."""
    return parse_profile(data, name=None if path == "-" else path, sniff=True)


def failing(decision: Decision, fail_on: str | None) -> bool:
    """An open (not acknowledged) finding at or above ``fail_on``."""
    return bool(failing_rules(decision, fail_on))


def run_validate(args: Namespace) -> int:
    try:
        loaded = read_profile(args.profile)
    except InvalidDocument as exc:
        print_problems(err_console(), args.profile, exc)
        return INVALID
    p = loaded.profile
    where = " (inside a fixture's \"profile\" key)" if loaded.base_pointer else ""
    console().print(f"valid profile{where}: schema {p.schema_version}, {len(p.peers)} peer position(s)", markup=False)
    return OK


def run_evaluate(args: Namespace) -> int:
    err = err_console()
    try:
        data = read_document(args.profile)
        loaded = load_profile(data, args.profile)
    except InvalidDocument as exc:
        print_problems(err, args.profile, exc)
        return INVALID
    evaluator = service.evaluator_or_report(args.engine, err)
    if evaluator is None:
        return FAILED
    try:
        check_rules(loaded, evaluator.ruleset)
    except InvalidDocument as exc:
        print_problems(err, args.profile, exc)
        return INVALID

    profile = loaded.profile
    decision = evaluator.evaluate(profile)
    outcomes = evaluator.outcomes(profile) if args.explain else None
    ruleset = evaluator.ruleset

    if args.format == "table":
        if args.output:
            with open(args.output, "w", encoding="utf-8") as handle:
                print_decision(console(handle, plain=True), build(decision, ruleset, profile, outcomes), args.explain)
        else:
            print_decision(console(), build(decision, ruleset, profile, outcomes), args.explain)
    else:
        if args.format == "json":
            body = decision.model_dump(mode="json")
            if outcomes is not None:
                body["outcomes"] = [o.model_dump(mode="json") for o in outcomes]
            text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        else:
            artifact = artifact_uri(args.profile) if args.profile != "-" else None
            positions = lines(data.decode("utf-8-sig")) if artifact and args.format == "sarif" else None
            text = render(decision, ruleset, args.format, profile=profile, outcomes=outcomes,
                          artifact=artifact, base_pointer=loaded.base_pointer, positions=positions)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if args.output:
        s = decision.summary
        err.print(f"wrote {args.format} to {args.output}: {STATUS_LABELS[s.status].lower()}, "
                  f"{s.findings} open finding{'s' * (s.findings != 1)}", markup=False)
    return FINDINGS if failing(decision, args.fail_on) else OK
