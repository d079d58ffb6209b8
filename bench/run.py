"""In-process engine throughput: evaluations per second of each engine on the same varied
profiles, with and without pydantic validation. ``make bench`` prints the table.

Profiles: every fixture (base, rule cases, case studies) plus generated ones, 1,000 in all.
Timings are taken side by side in one run; read the ratio, absolute figures drift on a shared
machine."""

from __future__ import annotations

import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from engine import Evaluator, Profile, load_ruleset, make_engine  # noqa: E402


def corpus(n: int = 1000) -> list[dict]:
    from hypothesis import HealthCheck, given, settings

    from strategies import profiles
    from test_engine_differential import FIXTURE_PROFILES

    out = [data for _, data in FIXTURE_PROFILES]

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=profiles)
    def gather(data):
        if len(out) < n:
            out.append(data)

    gather()
    random.Random(0).shuffle(out)
    return out[:n]


def rate(fn, items, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - started)
    return len(items) / best


def main() -> None:
    started = time.perf_counter()
    ruleset = load_ruleset()
    load_s = time.perf_counter() - started
    raw = corpus()
    validated = [Profile.model_validate(d) for d in raw]
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {len(raw)} profiles, "
          f"{len(ruleset.rules)} rules; ruleset load {load_s * 1000:.0f} ms")
    print(f"{'engine':<15}{'incl. validation /s':>22}{'evaluation only /s':>22}{'matching only /s':>20}")
    results = {}
    for name in ("interpreter", "durable_rules"):
        evaluator = Evaluator(ruleset, make_engine(name, ruleset))
        facts = [ruleset.facts.build(p) for p in validated]
        full = rate(lambda d: evaluator.evaluate(Profile.model_validate(d)), raw)
        evaluation = rate(evaluator.evaluate, validated)
        matching = rate(evaluator.engine.hits, facts)
        results[name] = (full, evaluation, matching)
        print(f"{name:<15}{full:>22,.0f}{evaluation:>22,.0f}{matching:>20,.0f}")
    ratio = [a / b for a, b in zip(results["interpreter"], results["durable_rules"])]
    print(f"{'ratio':<15}{ratio[0]:>22.2f}{ratio[1]:>22.2f}{ratio[2]:>20.2f}")
    memory(ruleset, raw)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory(ruleset, raw: list[dict], total: int = 100_000) -> None:
    """RSS after a warm-up of 10,000 evaluations, and after 100,000 more (default engine)."""
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    for i in range(10_000):
        evaluator.evaluate(Profile.model_validate(raw[i % len(raw)]))
    warm = rss_mib()
    started = time.perf_counter()
    for i in range(total):
        evaluator.evaluate(Profile.model_validate(raw[i % len(raw)]))
    end = rss_mib()
    print(f"memory: RSS {warm:.1f} MiB after warm-up, {end:.1f} MiB after {total:,} more evaluations "
          f"({(end - warm) / warm:+.1%}); {total / (time.perf_counter() - started):,.0f} evaluations/s")


if __name__ == "__main__":
    main()
