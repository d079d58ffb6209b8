"""How PeerCheck's costs grow: with the number of rules (start-up and evaluation) and with the
number of peers in a profile.

    python -m bench.scale            # part of make bench

*Rules.* A synthetic ruleset of N× today's rules is made by copying every rule file N times under
new ids (``PC-CASELOAD-001`` → ``PC-CASELOAD-101``, ``-201``, …): the same conditions, templates
and citations, so each copy costs what a real rule costs to load, check (quotes verified against
the sources) and compile. Start-up is ``load_ruleset`` timed in a fresh process (the median of
three), as the service pays it; evaluation is the decision (validation + evaluation + the JSON of
the API's default answer) on the varied corpus.

*Peers.* The base fixture profile with 1 to 500 peers, the peers taken in turn from the varied
corpus (so some fields known, some not): microseconds per decision and per peer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.catalog import RULES_DIR
from engine.ruleset import rule_files

ROOT = Path(__file__).resolve().parent.parent

_ID = re.compile(r"^id: PC-([A-Z]+)-(\d{3})$", re.MULTILINE)


def synthetic_rules(times: int, into: Path) -> Path:
    """A copy of rules/ in which every rule appears ``times`` times, under distinct ids."""
    shutil.copytree(RULES_DIR, into)
    for path in rule_files(into):
        text = path.read_text()
        for k in range(1, times):
            match = _ID.search(text)
            new_id = f"PC-{match.group(1)}-{int(match.group(2)) + 100 * k:03d}"
            (path.parent / f"{new_id}.yaml").write_text(_ID.sub(f"id: {new_id}", text, count=1))
    return into


_STARTUP = r"""
import sys, time
from pathlib import Path
from engine import load_ruleset
started = time.perf_counter()
ruleset = load_ruleset(Path(sys.argv[1]))
print(len(ruleset.rules), time.perf_counter() - started)
"""


def startup_seconds(rules_dir: Path, runs: int = 3) -> tuple[int, float]:
    """(rules, median seconds of ``load_ruleset`` in a fresh process after the imports)."""
    times, count = [], 0
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _STARTUP, str(rules_dir)], cwd=ROOT, check=True,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        count, seconds = done.stdout.split()
        times.append(float(seconds))
    return int(count), statistics.median(times)


def decision_us(ruleset, raw: list[dict], rounds: int = 3) -> float:
    from engine import Evaluator, Profile, make_engine
    from engine.encoding import decision_json

    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    for data in raw[:100]:
        decision_json(evaluator.evaluate(Profile.model_validate(data)), rules=False)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for data in raw:
            decision_json(evaluator.evaluate(Profile.model_validate(data)), rules=False)
        best = min(best, time.perf_counter() - started)
    return best / len(raw) * 1e6


def rules_table(raw: list[dict], multiples=(1, 2, 4, 8)) -> None:
    from engine import load_ruleset

    print("rules    start-up (load, check, verify quotes, compile; fresh process, median of 3)   decision us (varied)")
    base = None
    with tempfile.TemporaryDirectory(prefix="peercheck-scale-") as tmp:
        for times in multiples:
            rules_dir = synthetic_rules(times, Path(tmp) / f"x{times}")
            count, seconds = startup_seconds(rules_dir)
            us = decision_us(load_ruleset(rules_dir), raw)
            base = base or (count, us)
            per_rule = (us - base[1]) / (count - base[0]) if count > base[0] else float("nan")
            print(f"{count:>5}    {seconds * 1000:>8.0f} ms ({seconds / count * 1000:.2f} ms per rule)"
                  f"{'':>38}{us:>8.0f}" + (f"  (+{per_rule:.2f} us per added rule)" if count > base[0] else ""))


def with_peers(base: dict, peers: list[dict], n: int) -> dict:
    return {**base, "peers": [dict(peers[i % len(peers)], id=f"p{i}") for i in range(n)]}


def peers_table(raw: list[dict], counts=(1, 10, 50, 100, 500)) -> None:
    from engine import Evaluator, Profile, load_ruleset, make_engine
    from engine.encoding import decision_json
    sys.path.insert(0, str(ROOT / "tests"))
    from test_engine_differential import FIXTURE_PROFILES

    base = next(data for name, data in FIXTURE_PROFILES if ": " not in name)
    pool = [peer for data in raw for peer in data["peers"]]
    ruleset = load_ruleset()
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    print("peers    decision us (validation + evaluation + JSON)    us per peer    findings   needs information")
    first = None
    for n in counts:
        data = with_peers(base, pool, n)
        rounds = max(3, 2000 // n)
        evaluator.evaluate(Profile.model_validate(data))
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _ in range(rounds):
                decision = evaluator.evaluate(Profile.model_validate(data))
                decision_json(decision, rules=False)
            best = min(best, (time.perf_counter() - started) / rounds)
        us = best * 1e6
        first = first or (n, us)
        marginal = f"{(us - first[1]) / (n - first[0]):>10.1f}" if n > first[0] else f"{'':>10}"
        print(f"{n:>5}    {us:>10,.0f}{'':>36}{marginal}{len(decision.findings):>13}{len(decision.needs_information):>19}")


def main() -> None:
    from bench.run import corpus

    raw = corpus()
    rules_table(raw)
    peers_table(raw)


if __name__ == "__main__":
    main()
