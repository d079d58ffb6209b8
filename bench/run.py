"""In-process engine throughput: decisions per second of each engine on the same profiles — the
whole decision as ``POST /v1/evaluations`` makes it by default (pydantic validation of the raw
dict, evaluation, the answer's JSON), the evaluation alone and the matching alone — then where a
decision's time goes, start-up at 4× today's rules, and memory. ``make bench`` prints the table
and each target with its ratio and PASS or FAIL.

Two corpora: *varied* — every fixture (base, rule cases, case studies) plus generated profiles,
1,000 in all, most with many fields unknown (dozens of needs-information results each); and
*complete* — the rule-case fixtures, complete programs with one change each. Each row is the best
of three rounds; both engines are timed side by side in one run: read the ratios, absolute
figures drift on a shared machine."""

from __future__ import annotations

import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from engine import Evaluator, Profile, load_ruleset, make_engine  # noqa: E402
from engine.encoding import decision_json  # noqa: E402
from engine.evaluate import profile_digest  # noqa: E402


def corpus(n: int = 1000) -> list[dict]:
    from hypothesis import HealthCheck, given, settings

    from strategies import profiles
    from test_engine_differential import FIXTURE_PROFILES

    out = [data for _, data in FIXTURE_PROFILES]

    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
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


ENGINES = ("interpreter", "durable_rules")
# Whole decisions per second, default engine, all rules (durable_rules, the optional engine, has none).
TARGETS = {"varied": 8_000, "complete": 15_000}
STARTUP_TARGET_S, STARTUP_TIMES = 1.0, 4  # start-up under 1 s at 4x today's rule count


def answer(evaluator: Evaluator):
    """The whole decision for one raw profile, as the API answers by default: bytes."""
    return lambda data: decision_json(evaluator.evaluate(Profile.model_validate(data)), rules=False)


def verdict(ratio: float) -> str:
    """PASS or FAIL for a ratio to a target (at least 1 passes)."""
    return "PASS" if ratio >= 1 else "FAIL"


def complete_profiles() -> list[dict]:
    """The rule-case fixtures: complete programs (the base profile) with one change each."""
    from test_engine_differential import FIXTURE_PROFILES

    return [data for name, data in FIXTURE_PROFILES if ": " in name]


def main() -> None:
    started = time.perf_counter()
    ruleset = load_ruleset()
    load_s = time.perf_counter() - started
    corpora = {"varied": corpus(), "complete": complete_profiles()}
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {len(ruleset.rules)} rules; "
          f"start-up (load, check, verify quotes, compile) {load_s * 1000:.0f} ms")
    print("corpora: varied = fixtures + generated profiles (many fields unknown: dozens of needs-information "
          f"results each), {len(corpora['varied'])}; complete = rule-case fixtures, {len(corpora['complete'])}")
    print("decision = validation + evaluation + the answer's JSON (POST /v1/evaluations' default answer); "
          "best of 3 rounds")
    print(f"{'corpus':<10}{'engine':<15}{'decisions /s':>14}{'target':>8}{'ratio':>7}{'':>6}"
          f"{'evaluation only /s':>20}{'matching only /s':>18}")
    evaluators = {name: Evaluator(ruleset, make_engine(name, ruleset)) for name in ENGINES}
    results_by_corpus = {}
    for label, raw in corpora.items():
        validated = [Profile.model_validate(d) for d in raw]
        facts = [ruleset.facts.build(p) for p in validated]
        results = {}
        for name, evaluator in evaluators.items():
            full = rate(answer(evaluator), raw)
            evaluation = rate(evaluator.evaluate, validated)
            matching = rate(evaluator.engine.hits, facts)
            results[name] = (full, evaluation, matching)
            target = TARGETS[label] if name == "interpreter" else None
            shown = (f"{target:>8,}{full / target:>7.2f}{verdict(full / target):>6}" if target else f"{'—':>8}{'':>13}")
            print(f"{label:<10}{name:<15}{full:>14,.0f}{shown}{evaluation:>20,.0f}{matching:>18,.0f}")
        ratio = [a / b for a, b in zip(results["interpreter"], results["durable_rules"])]
        print(f"{label:<10}{'ratio':<15}{ratio[0]:>14.2f}{'':>21}{ratio[1]:>20.2f}{ratio[2]:>18.2f}")
        results_by_corpus[label] = results["interpreter"][0]
    for label, raw in corpora.items():
        stages(evaluators["interpreter"], label, raw)
    startup = startup_at(STARTUP_TIMES)
    memory(ruleset, corpora["varied"])
    print("targets (default engine):")
    for label, target in TARGETS.items():
        got = results_by_corpus[label]
        print(f"  decisions/s incl. validation and JSON, {label}: {got:,.0f} (target >= {target:,}): "
              f"{got / target:.2f} {verdict(got / target)}")
    if startup is not None:
        count, seconds = startup
        print(f"  start-up at {STARTUP_TIMES}x the rules ({count}): {seconds:.2f} s (target < {STARTUP_TARGET_S:g} s): "
              f"{STARTUP_TARGET_S / seconds:.2f} {verdict(STARTUP_TARGET_S / seconds)}")


def startup_at(times: int) -> tuple[int, float] | None:
    """(rules, seconds) of ``load_ruleset`` in a fresh process for a ruleset of ``times`` × today's
    rules (bench/scale.py makes it)."""
    import tempfile

    from bench.scale import startup_seconds, synthetic_rules

    with tempfile.TemporaryDirectory(prefix="peercheck-startup-") as tmp:
        return startup_seconds(synthetic_rules(times, Path(tmp) / f"x{times}"))


def stages(evaluator: Evaluator, label: str, raw: list[dict]) -> None:
    """Where one default-engine evaluation's time goes, in microseconds per profile."""
    validated = [Profile.model_validate(d) for d in raw]
    facts = [evaluator.ruleset.facts.build(p) for p in validated]
    us = {
        "validation": 1e6 / rate(Profile.model_validate, raw),
        "facts": 1e6 / rate(evaluator.ruleset.facts.build, validated),
        "matching": 1e6 / rate(evaluator.engine.match, facts),
        "digest": 1e6 / rate(profile_digest, validated),
    }
    evaluation = 1e6 / rate(evaluator.evaluate, validated)
    us["outcomes and results"] = max(0.0, evaluation - us["facts"] - us["matching"] - us["digest"])
    decisions = [evaluator.evaluate(p) for p in validated]
    us["JSON (default answer)"] = 1e6 / rate(lambda d: decision_json(d, rules=False), decisions)
    total = us["validation"] + evaluation + us["JSON (default answer)"]
    per = (sum(len(d.findings) for d in decisions) / len(decisions),
           sum(len(d.needs_information) for d in decisions) / len(decisions))
    print(f"{label} corpus, interpreter, us per decision ({per[0]:.1f} findings, {per[1]:.1f} needs information): "
          + ", ".join(f"{name} {value:.0f} ({value / total:.0%})" for name, value in us.items())
          + f"; total {total:.0f}")


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
