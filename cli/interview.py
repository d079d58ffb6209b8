"""``peercheck interview FILE`` asks, in the terminal, the questions that matter most for a review,
one at a time, and writes the answers to FILE (JSON, or YAML for ``.yaml``/``.yml``) after each
one — so nothing is lost when the interview stops; ``peercheck interview FILE`` again resumes it.
``peercheck init FILE`` writes a starter profile to fill in by hand or by interview.

The questions, their order, "why we ask" and the progress come from the question engine
(``engine.questions.Interview``): the required answers first (program name, state, the peers), then
the most valuable — the ones that decide the most rules, weighted by severity. Every question may be
answered "don't know" (``?``): the rules waiting on it stay undecided and it is not asked again.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from argparse import Namespace
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from cli import FAILED, INVALID, OK
from cli import service
from cli.terminal import STATUS_STYLES, console, err_console, print_problems
from engine import Evaluator
from engine.profile import SCHEMA_VERSION, USState
from engine.questions import Interview, NextQuestion, heading, why
from engine.questions.catalog import QuestionCatalog
from engine.questions.draft import set_answer
from engine.yamltext import looks_like_yaml
from engine.validation import InvalidDocument, Problem, profile_from_document, read_document
from report.format import STATUS_LABELS, questions_text

DONT_KNOW = ("?", "dk", "don't know", "dont know", "idk")
SKIP, QUIT = ("s", "skip"), ("q", "quit")
TOP_LEVEL = ("schema_version", "program", "peers", "supervision", "policies", "hiring", "acknowledged", "dont_know")


HEADER = ("# PeerCheck profile (YAML). Unknown answers are left out; \"don't know\" answers are listed under\n"
          "# dont_know. `peercheck interview` resumes the interview, `peercheck evaluate` reviews it.\n")


class Stop(Exception):
    """The person asked to stop (q, end of input, Ctrl-C)."""


# ---------------------------------------------------------------- the document


def is_yaml(path: Path) -> bool:
    return looks_like_yaml("", path.name)


def read_draft_file(path: Path) -> dict[str, Any]:
    """The profile so far: a JSON or YAML document, leniently (problems are reported by the question
    engine and asked again). A fixture's ``profile`` wrapper is unwrapped. Raises InvalidDocument."""
    doc = read_document(path.read_bytes(), name=path.name)
    if isinstance(doc, dict) and isinstance(doc.get("profile"), dict):
        doc = doc["profile"]
    if not isinstance(doc, dict):
        raise InvalidDocument([Problem("", "The document", "is not a profile", "Give an object with program and peers.",
                                       code="not_an_object")])
    return doc


def ordered(doc: dict[str, Any], catalog: QuestionCatalog) -> dict[str, Any]:
    """The draft in the schema's order (sections, then each section's questions), for a file people read."""
    rank = {q.pointer.rsplit("/", 1)[-1]: i for i, q in enumerate(catalog.questions)}

    def sort(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: sort(node[k]) for k in sorted(node, key=lambda k: (rank.get(k, len(rank)), k))}
        if isinstance(node, list):
            return [sort(item) for item in node]
        return node

    top = {k: sort(doc[k]) for k in TOP_LEVEL if k in doc}
    top.update({k: sort(v) for k, v in doc.items() if k not in top})
    return top


def write_draft(path: Path, doc: dict[str, Any], catalog: QuestionCatalog) -> None:
    """Write the draft atomically (a temporary file in the same folder, then a rename)."""
    body = ordered(doc, catalog)
    if is_yaml(path):
        text = HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- asking


class Asker:
    """Reads answers on standard input and says things on ``out``."""

    def __init__(self, out: Console):
        self.out = out

    def line(self, prompt: str) -> str:
        self.out.print(Text(prompt, style="bold cyan"), end="")
        try:
            answer = input()
        except EOFError:
            raise Stop from None
        if not sys.stdin.isatty():  # answers piped in: show them, so the transcript reads as a conversation
            self.out.print(Text(answer), highlight=False)
        answer = answer.strip()
        if answer.lower() in QUIT:
            raise Stop
        return answer

    def ask(self, q: NextQuestion) -> tuple[str, Any]:
        """("answer", value) | ("dont_know", None) | ("skip", None)."""
        while True:
            raw = self.line(self._prompt(q))
            low = raw.lower()
            if low in DONT_KNOW:
                if q.required:
                    self.out.print(Padding(Text("PeerCheck needs this for any review; please answer it.", style="yellow"), (0, 0, 0, 2)))
                    continue
                return "dont_know", None
            if low in SKIP:
                return "skip", None
            try:
                return "answer", self._parse(q, raw)
            except ValueError as exc:
                self.out.print(Padding(Text(str(exc), style="yellow"), (0, 0, 0, 2)))

    def _prompt(self, q: NextQuestion) -> str:
        spec = q.answer
        extra = "" if q.required else ", ? = don't know"
        if spec.type == "yes_no":
            return f"  y / n{extra}, s = skip, q = save and stop > "
        if spec.type == "number":
            bounds = []
            if spec.minimum is not None:
                bounds.append(f"from {spec.minimum:g}")
            if spec.maximum is not None:
                bounds.append(f"to {spec.maximum:g}")
            return f"  a {'whole ' if spec.integer else ''}number{' ' + ' '.join(bounds) if bounds else ''}{extra} > "
        if q.pointer == "/program/state":
            return "  the state's two-letter code or name > "
        if spec.type == "one_of":
            return f"  a number from the list{extra} > "
        if spec.type == "several_of":
            return f"  numbers from the list, separated by commas, or 'none'{extra} > "
        if spec.type == "peer_list":
            return "  how many peer positions (filled or planned)? > "
        return f"  your answer{extra} > "

    def show_options(self, q: NextQuestion) -> None:
        options = q.answer.options or []
        if q.pointer == "/program/state":
            self.out.print(Text("  Type the two-letter code or the name, e.g. OH or Ohio.", style="dim"))
            return
        groups = {g.id: g.label for g in q.answer.option_groups or ()}
        current = None
        table: Table | None = None
        for number, option in enumerate(options, 1):
            if table is None or (option.group != current and option.group in groups):
                if table is not None:
                    self.out.print(Padding(table, (0, 0, 0, 2)))
                if option.group in groups:
                    current = option.group
                    self.out.print(Text(f"  {groups[current]}", style="bold"))
                table = Table.grid(padding=(0, 1))
                table.add_column(justify="right", no_wrap=True)
                table.add_column(overflow="fold")
            table.add_row(f"{number}.", option.label)
        if table is not None:
            self.out.print(Padding(table, (0, 0, 0, 2)))

    def _parse(self, q: NextQuestion, raw: str) -> Any:
        spec = q.answer
        if spec.type == "yes_no":
            if raw.lower() in ("y", "yes"):
                return True
            if raw.lower() in ("n", "no"):
                return False
            raise ValueError("Answer y (yes), n (no) or ? (don't know).")
        if spec.type == "number":
            try:
                value: float | int = float(raw)
            except ValueError:
                raise ValueError("Give a number, such as 12 or 0.5.") from None
            if spec.integer:
                if not value.is_integer():
                    raise ValueError("Give a whole number.")
                value = int(value)
            if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
                raise ValueError(f"Give a number from {spec.minimum:g} to {spec.maximum:g}." if spec.maximum is not None
                                 else f"Give a number of at least {spec.minimum:g}.")
            return value
        options = spec.options or []
        if spec.type == "one_of":
            if q.pointer == "/program/state":
                return _state(raw)
            return options[_choice(raw, len(options))].value
        if spec.type == "several_of":
            if raw.lower() in ("none", "0", "-"):
                return []
            if not raw:
                raise ValueError("Give the numbers of every choice that applies, 'none' if none does, or ? if you don't know.")
            picked = [options[_choice(part, len(options))].value for part in raw.replace(" ", ",").split(",") if part]
            if spec.max_items is not None and len(picked) > spec.max_items:
                raise ValueError(f"Choose at most {spec.max_items}.")
            return list(dict.fromkeys(picked))
        if spec.type == "peer_list":
            count = _choice(raw, spec.max_items or 500) + 1
            peers = []
            for number in range(1, count + 1):
                title = ""
                while not title:
                    title = self.line(f"  Peer {number}: job title (e.g. Peer Recovery Specialist) > ")
                peers.append({"title": title})
            return peers
        if not raw:
            raise ValueError("Type an answer, or ? if you don't know.")
        if spec.max_length is not None and len(raw) > spec.max_length:
            raise ValueError(f"At most {spec.max_length} characters.")
        return raw


def _choice(raw: str, count: int) -> int:
    if not raw.strip().isdigit() or not 1 <= int(raw) <= count:
        raise ValueError(f"Give a number from 1 to {count}.")
    return int(raw) - 1


def _state(raw: str) -> str:
    text = raw.strip()
    for state in USState:
        if text.upper() == state.value or text.lower() == state.label.lower():
            return state.value
    close = [s for s in USState if s.label.lower().startswith(text.lower()[:3])] if len(text) >= 3 else []
    hint = f" Did you mean {', '.join(f'{s.value} ({s.label})' for s in close[:3])}?" if close else ""
    raise ValueError(f"Not a state PeerCheck knows: type its two-letter code, such as OH.{hint}")


# ---------------------------------------------------------------- the commands


def run_interview(args: Namespace) -> int:
    out, err = console(), err_console()
    path = Path(args.profile)
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = read_draft_file(path)
        except InvalidDocument as exc:
            print_problems(err, args.profile, exc, what="cannot resume from")
            return INVALID
        except OSError as exc:
            err.print(f"cannot resume from {args.profile}: {exc.strerror}", markup=False)
            return INVALID
    evaluator = service.evaluator_or_report(args.engine, err)
    if evaluator is None:
        return FAILED
    interview = Interview(evaluator)
    asker = Asker(out)
    doc.setdefault("schema_version", SCHEMA_VERSION)
    skipped: set[str] = set()
    asked = 0
    out.print(Text.assemble(("PeerCheck interview", "bold"), f" · answers are saved to {path} after each one"))
    out.print(Text("Answer in plain words; ? means \"don't know\", s skips a question for now, q saves and stops.",
                   style="dim"))
    if path.exists() and is_yaml(path) and "#" in path.read_text(encoding="utf-8", errors="replace").replace(HEADER, ""):
        out.print(Text(f"Note: {path.name} is rewritten with each answer; comments in it are not kept.", style="yellow"))
    first = interview.next(doc, limit=1)
    for problem in first.problems:
        out.print(Text(f"  Not valid, asked again: {problem.pointer} — {problem.detail}", style="yellow"))
    try:
        while args.limit is None or asked < args.limit:
            found = interview.next(doc, limit=len(skipped) + 1)
            question = next((q for q in found.questions if q.pointer not in skipped), None)
            if question is None:
                break
            _show(out, asker, question, found.progress)
            kind, value = asker.ask(question)
            if kind == "skip":
                skipped.add(question.pointer)
                continue
            if kind == "dont_know":
                doc.setdefault("dont_know", []).append(question.pointer)
            else:
                set_answer(doc, question.pointer, value)
            write_draft(path, doc, interview.catalog)
            asked += 1
    except (Stop, KeyboardInterrupt):
        out.print()
        out.print(Text("Stopped.", style="bold"))
    write_draft(path, doc, interview.catalog)
    _finish(out, evaluator, interview, doc, path)
    return OK


def _show(out: Console, asker: Asker, q: NextQuestion, progress) -> None:
    out.print()
    left = progress.remaining
    out.print(Text(f"{left} question{'s' * (left != 1)} left for a complete review"
                   + (f" · {progress.remaining_critical_high} of them decide critical or high-severity rules"
                      if progress.remaining_critical_high else "")
                   + f" · {progress.answered} answered", style="dim"))
    out.print(Text(heading(q), style="bold"))
    out.print(Padding(Text(q.text), (0, 0, 0, 2)))
    if q.help:
        out.print(Padding(Text(q.help, style="dim"), (0, 0, 0, 2)))
    if q.waiting and not q.required:
        out.print(Padding(Text(f"Why we ask: it decides {why(q)}.", style="dim"), (0, 0, 0, 2)))
    if q.answer.type in ("one_of", "several_of"):
        asker.show_options(q)


def _finish(out: Console, evaluator: Evaluator, interview: Interview, doc: dict[str, Any], path: Path) -> None:
    state = interview.next(doc, limit=1)
    p = state.progress
    out.print()
    out.print(Text(f"Saved to {path}: {p.answered} answered, {p.dont_know} \"don't know\", {p.remaining} still open.",
                   style="bold"))
    if not state.complete:
        out.print(Text("The profile is not complete yet: run `peercheck interview` on it again to go on.", style="dim"))
        return
    decision = evaluator.evaluate(profile_from_document(doc).profile)
    s = decision.summary
    out.print(Text.assemble("Review so far: ", (STATUS_LABELS[s.status], STATUS_STYLES[s.status]),
                            f" — {s.findings} open finding{'s' * (s.findings != 1)}, "
                            f"{questions_text(decision.questions)}."))
    out.print(Text(f"`peercheck evaluate {path}` shows the findings, worst first.", style="dim"))


# ---------------------------------------------------------------- init


def starter(catalog: QuestionCatalog, name: str | None, state: str | None, peers: int) -> str:
    """A starter profile in YAML: the required answers, then every question as a comment with the
    field it fills, so a person can fill it in by hand (or run `peercheck interview` on it)."""
    lines = ["# PeerCheck profile. Fill in what you know: remove the '# ' before a field and give its answer after",
             "# the colon. Leave out (or keep commented) what you do not know: an unknown answer is never taken as",
             "# compliance - PeerCheck asks for it instead. `peercheck interview FILE` asks the questions that",
             "# matter most, one at a time.",
             f"schema_version: \"{SCHEMA_VERSION}\"", "program:",
             f"  name: {json.dumps(name) if name else 'null'}   # What is the program called? Required.",
             f"  state: {state or 'null'}   # Which state? Two-letter code, e.g. OH. Required."]
    sections: dict[str, list[str]] = {"program": [], "peer": [], "supervision": [], "policies": [], "hiring": []}
    for q in catalog.questions:
        if q.required:
            continue
        parts = q.pointer.split("/")[1:]
        key = "peer" if q.per_peer else parts[0]
        field = parts[-1]
        hint = ""
        if q.answer.options and len(q.answer.options) <= 10:
            hint = " [" + ", ".join(o.value for o in q.answer.options) + "]"
        elif q.answer.type == "yes_no":
            hint = " [true, false]"
        elif q.answer.type == "several_of":
            hint = " [a list of codes: `peercheck interview` shows them with their labels]"
        nested = q.per_peer and len(parts) > 3  # employer_policies/...
        if nested and f"# {parts[2]}:" not in sections[key]:
            sections[key].append(f"# {parts[2]}:")
        sections[key].append(f"#{'   ' if nested else ' '}{field}:   # {q.text}{hint}")
    lines += ["  " + line for line in sections["program"]]
    lines.append("peers:")
    for number in range(1, peers + 1):
        lines += [f"  - title: null   # Peer {number}: job title, e.g. Peer Recovery Specialist. Required.", f"    id: peer-{number}"]
        lines += ["    " + line for line in sections["peer"]]
    for section in ("supervision", "policies", "hiring"):
        lines.append(f"# {section}:")
        lines += ["#   " + line[2:] for line in sections[section]]
    return "\n".join(lines) + "\n"


def run_init(args: Namespace) -> int:
    err = err_console()
    path = Path(args.profile)
    if path.exists() and not args.force:
        err.print(f"{path} exists: choose another name, or --force to overwrite it", markup=False)
        return INVALID
    if args.state is not None:
        try:
            args.state = _state(args.state)
        except ValueError as exc:
            err.print(str(exc), markup=False)
            return INVALID
    evaluator = service.evaluator_or_report(None, err)
    if evaluator is None:
        return FAILED
    if is_yaml(path):
        text = starter(evaluator.questions, args.name, args.state, args.peers)
    else:
        doc = {"schema_version": SCHEMA_VERSION,
               "program": {"name": args.name, "state": args.state},
               "peers": [{"id": f"peer-{n}", "title": None} for n in range(1, args.peers + 1)]}
        text = json.dumps(doc, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    console().print(f"wrote a starter profile to {path}; next: peercheck interview {path}", markup=False)
    return OK

