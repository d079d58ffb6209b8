"""Interleaved A/B timing of the engine: this work tree against a git revision.

    python -m bench.ab                     # HEAD's committed code (B) against the work tree (A)
    python -m bench.ab --baseline main --runs 12 --stage decision --stage facts

The baseline revision is exported (``git archive``) to a temporary folder. A and B then run in
turn, each a fresh process on the same 1,000 varied profiles (bench/run.py's corpus, written once
to a file so both read the same bytes), and each reports the fastest of a few passes per stage
in microseconds per profile. The ratio B ÷ A is taken run by run (pairing keeps it meaningful
when the shared machine's speed drifts) and its median printed: above 1, the work tree is
faster. Pair it with ``python -m bench.digest`` to show that a change kept every answer.

Stages: ``decision`` (validation + evaluation + JSON, as the API does), ``evaluate``
(evaluation of validated profiles), ``facts``, ``match`` (the engine on built facts),
``startup`` (load_ruleset: load, check, verify quotes, compile).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("decision", "evaluate", "facts", "match", "startup")

# Runs in the tree under test (A or B), with that tree first on sys.path.
MEASURE = r"""
import json, sys, time
root, corpus_path, stages, passes = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
sys.path.insert(0, root)
from engine import Evaluator, Profile, load_ruleset, make_engine
from bench.run import rate
try:  # the API's default answer; a revision from before engine.encoding answered with model_dump_json
    from engine.encoding import decision_json
    answer = lambda d: decision_json(d, rules=False)
except ImportError:
    answer = lambda d: d.model_dump_json()
assert __import__("engine").__file__.startswith(root), "engine imported from the wrong tree"
raw = json.load(open(corpus_path))
started = time.perf_counter(); ruleset = load_ruleset(); load_s = time.perf_counter() - started
evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
validated = [Profile.model_validate(d) for d in raw]
facts = [ruleset.facts.build(p) for p in validated]
work = {
    "decision": (lambda d: answer(evaluator.evaluate(Profile.model_validate(d))), raw),
    "evaluate": (evaluator.evaluate, validated),
    "facts": (ruleset.facts.build, validated),
    "match": (evaluator.engine.match, facts),
}
out = {}
for stage in stages:
    if stage == "startup":
        best = load_s
        for _ in range(passes - 1):
            started = time.perf_counter(); load_ruleset(); best = min(best, time.perf_counter() - started)
        out[stage] = best * 1e6
        continue
    fn, items = work[stage]
    for item in items:
        fn(item)
    out[stage] = 1e6 / rate(fn, items, passes)
print(json.dumps(out))
"""


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(root: Path, corpus_path: str, stages: list[str], passes: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(root), corpus_path, ",".join(stages), str(passes)],
                          cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, check=True, capture_output=True,
                          text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="HEAD", help="git revision to compare against (B)")
    parser.add_argument("--runs", type=int, default=8, help="A/B pairs")
    parser.add_argument("--passes", type=int, default=3, help="passes per stage in each run (fastest kept)")
    parser.add_argument("--stage", choices=STAGES, action="append", help="default: decision")
    parser.add_argument("--corpus", choices=("varied", "complete"), default="varied",
                        help="bench/run.py's corpora: varied (default) or complete profiles")
    args = parser.parse_args()
    stages = args.stage or ["decision"]

    from bench.run import complete_profiles, corpus

    with tempfile.TemporaryDirectory(prefix="peercheck-ab-") as tmp:
        baseline = export(args.baseline, Path(tmp) / "baseline")
        corpus_path = str(Path(tmp) / "corpus.json")
        Path(corpus_path).write_text(json.dumps(corpus() if args.corpus == "varied" else complete_profiles()))
        a_runs, b_runs = [], []
        for i in range(args.runs):
            pair = [(ROOT, a_runs), (baseline, b_runs)]
            for root, runs in pair if i % 2 == 0 else pair[::-1]:
                runs.append(measure(root, corpus_path, stages, args.passes))
        print(f"A = work tree, B = {args.baseline}; {args.corpus} corpus; {args.runs} interleaved pairs; "
              "us per profile, median (range)")
        for stage in stages:
            a = [r[stage] for r in a_runs]
            b = [r[stage] for r in b_runs]
            ratio = statistics.median(y / x for x, y in zip(a, b))
            unit, scale = ("ms", 1e-3) if stage == "startup" else ("us", 1)
            print(f"{stage:<10} A {statistics.median(a) * scale:8.1f} ({min(a) * scale:.1f}-{max(a) * scale:.1f}) {unit}"
                  f"   B {statistics.median(b) * scale:8.1f} ({min(b) * scale:.1f}-{max(b) * scale:.1f}) {unit}"
                  f"   B/A {ratio:.3f}")


if __name__ == "__main__":
    main()
