"""How many questions a review takes: the eleven case studies, asked one question at a time.

Each case study starts from its name and state. At each step PeerCheck's next question
(``POST /v1/questionnaire/next``, in process) is answered with the fixture's own value; a value
the fixture does not have is answered "don't know". Counted:

* **critical/high** — questions until no critical or high-severity rule can still be decided
  (every one is decided, or waits only on "don't know" answers);
* **all** — questions until nothing more can be decided (no question is left to ask);

for the questions in PeerCheck's order (most valuable first) and, as the baseline, in the order
of the profile schema (program, each peer, supervision, policies, hiring — skipping questions no
rule waits on any more, as a form would). ``fields`` is every question for a program of that
many peers: what a form asking everything would ask.

Every walk ends where evaluating the case study itself ends: the same findings and the same
rules needing information (checked here, and by tests/test_questions_walk.py).

Then what the grouped questions cost an evaluation: each profile of ``make bench``'s two corpora
is evaluated with and without them, alternately in one process (CPU time of this thread), so
both see the same machine — on a shared machine, separate runs differ more than the cost.

    python -m bench.questions
"""

from __future__ import annotations

import copy
import gc
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from engine import Evaluator, Profile, load_ruleset, make_engine
from engine.profile import SCHEMA_VERSION
from engine.questions import Interview, NextQuestions
from engine.questions.catalog import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = sorted((ROOT / "fixtures" / "programs").glob("*.json"))


@dataclass(frozen=True)
class Walk:
    asked: int  # questions until nothing more can be decided
    critical_high: int  # questions until no critical/high rule can still be decided
    dont_know: int  # of the questions asked, answered "don't know"
    order: list[str]  # the pointers asked, in order
    final: dict[str, Any]  # the profile built by the answers


@dataclass(frozen=True)
class Row:
    case: str
    peers: int
    fields: int
    by_value: Walk
    by_schema: Walk
    same_outcome: bool  # the walk's final profile gets the case study's own findings and needs


def lookup(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.split("/")[1:]:
        if isinstance(node, list):
            index = int(part)
            node = node[index] if index < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return node


def answer(draft: dict[str, Any], pointer: str, source: dict[str, Any]) -> bool:
    """Answer one question in ``draft`` with the case study's value; False when it has none ("don't know")."""
    if pointer == "/peers":
        draft["peers"] = [{k: v for k, v in peer.items() if k in ("id", "title")} for peer in source["peers"]]
        return True
    value = lookup(source, pointer)
    if value is None:
        draft.setdefault("dont_know", []).append(pointer)
        return False
    parts = pointer.split("/")[1:]
    node: Any = draft
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[parts[-1]] = copy.deepcopy(value)
    return True


def schema_order(interview: Interview) -> Callable[[str], tuple[int, int, int]]:
    """The order of a form that follows the schema: program, then each peer's questions, then
    supervision, policies, hiring."""
    position = interview.catalog.position

    def key(pointer: str) -> tuple[int, int, int]:
        question, peer = interview.catalog.locate(pointer)
        return SECTIONS.index(question.section), -1 if peer is None else peer, position[question.id]

    return key


def walk(interview: Interview, source: dict[str, Any], pick: Callable[[NextQuestions], str] | None = None) -> Walk:
    """Answer the next question until none is left. ``pick`` chooses among all open questions (default:
    the first, i.e. the most valuable)."""
    draft: dict[str, Any] = {"schema_version": SCHEMA_VERSION,
                             "program": {"name": source["program"]["name"], "state": source["program"]["state"]}}
    asked, unknown, critical_high, order = 0, 0, None, []
    limit = 1 if pick is None else 100_000
    for _ in range(10_000):  # far more than any program's questions: a loop that does not end is a bug
        result = interview.next(draft, limit=limit)
        if critical_high is None and result.progress.remaining_critical_high == 0:
            critical_high = asked
        if not result.questions:
            break
        pointer = result.questions[0].pointer if pick is None else pick(result)
        assert pointer not in order, f"{pointer} asked twice"
        order.append(pointer)
        unknown += not answer(draft, pointer, source)
        asked += 1
    else:
        raise RuntimeError("the walk did not end")
    return Walk(asked=asked, critical_high=critical_high if critical_high is not None else asked,
                dont_know=unknown, order=order, final=draft)


def outcome(evaluator: Evaluator, data: dict[str, Any]) -> tuple[set, set]:
    decision = evaluator.evaluate(Profile.model_validate(data))
    return ({(f.rule_id, f.subject.pointer) for f in decision.findings},
            {(n.rule_id, n.subject.pointer) for n in decision.needs_information})


def measure(evaluator: Evaluator, path: Path) -> Row:
    interview = Interview(evaluator)
    source = json.loads(path.read_text())["profile"]
    order = schema_order(interview)
    by_value = walk(interview, source)
    by_schema = walk(interview, source, pick=lambda r: min((q.pointer for q in r.questions), key=order))
    fields = interview.next(by_value.final, limit=1).progress.total
    expected = outcome(evaluator, source)
    same = outcome(evaluator, by_value.final) == expected == outcome(evaluator, by_schema.final)
    return Row(path.stem, len(source["peers"]), fields, by_value, by_schema, same)


def table(rows: list[Row]) -> str:
    lines = ["| case study | peers | fields | critical/high: by value | schema order | all: by value | schema order "
             "| \"don't know\" | same outcome |",
             "|---|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        lines.append(f"| {r.case} | {r.peers} | {r.fields} | {r.by_value.critical_high} | {r.by_schema.critical_high} "
                     f"| {r.by_value.asked} | {r.by_schema.asked} | {r.by_value.dont_know} | {'yes' if r.same_outcome else 'NO'} |")
    total = lambda f: sum(f(r) for r in rows)  # noqa: E731
    lines.append(f"| **all eleven** | {total(lambda r: r.peers)} | {total(lambda r: r.fields)} "
                 f"| {total(lambda r: r.by_value.critical_high)} | {total(lambda r: r.by_schema.critical_high)} "
                 f"| {total(lambda r: r.by_value.asked)} | {total(lambda r: r.by_schema.asked)} "
                 f"| {total(lambda r: r.by_value.dont_know)} | |")
    return "\n".join(lines)


def cost(evaluator: Evaluator, profiles: list[Profile], rounds: int = 5) -> tuple[float, float]:
    """Microseconds of CPU per evaluation without and with the grouped questions."""
    for p in profiles:
        evaluator.evaluate(p)
    gc.collect()
    rank, skip = evaluator.ranker.rank, lambda *args, **kwargs: []
    without = with_ = 0.0
    clock = time.thread_time
    try:
        for _ in range(rounds):
            for p in profiles:
                evaluator.ranker.rank = skip
                started = clock()
                evaluator.evaluate(p)
                without += clock() - started
                evaluator.ranker.rank = rank
                started = clock()
                evaluator.evaluate(p)
                with_ += clock() - started
    finally:
        evaluator.ranker.rank = rank
    n = rounds * len(profiles)
    return without / n * 1e6, with_ / n * 1e6


def main() -> None:
    from bench.run import complete_profiles, corpus

    ruleset = load_ruleset()
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    print(table([measure(evaluator, path) for path in PROGRAMS]))
    print()
    for label, raw in (("varied", corpus()), ("complete", complete_profiles())):
        profiles = [Profile.model_validate(d) for d in raw]
        without, with_ = cost(evaluator, profiles)
        questions = sum(len(evaluator.evaluate(p).questions) for p in profiles) / len(profiles)
        print(f"{label} corpus ({len(profiles)} profiles, {questions:.1f} questions each): evaluation {without:.0f} us "
              f"without the grouped questions, {with_:.0f} us with ({with_ / without - 1:+.0%})")


if __name__ == "__main__":
    main()
