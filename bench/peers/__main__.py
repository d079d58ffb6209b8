"""PeerCheck side by side with peer rule engines on the same fifteen rules and the same profiles.

    python -m bench.peers [--rounds 7]          (make bench-peers)

Fifteen of PeerCheck's rules — caseload per FTE, a single peer without a peer network, mandated
referral, Appendix C activity rules, state-table rules, policy booleans that need information
when unknown, a Medicaid condition — are written for each peer engine in this folder
(``peercheck.zen.json``, ``peercheck.rego``, ``peercheck.cel.yaml``). PeerCheck evaluates the
same rules from rules/ (a ruleset cut down to these fifteen).

First every engine must give the same answer as PeerCheck — which rules fire and which need
information, on which subject — for every one of the 1,000 varied profiles of bench/run.py; any
difference is printed and the run fails. Then each engine's passes over the corpus are timed in
interleaved rounds (the order rotates every round) and the median is reported, with the ratio
PeerCheck ÷ peer as the median of the per-round ratios:

* matching — PeerCheck: facts, matching and outcome logic (fired / needs information per rule
  and subject) from a validated profile; a peer: from the raw profile dict to its engine's
  result as Python objects;
* whole decision — PeerCheck: pydantic validation of the raw dict, the full evaluation
  (findings with messages, evidence and citations; needs information with JSON pointers, grouped
  by question; summary) and the JSON of ``POST /v1/evaluations``' default answer; a peer: from
  the raw dict to its result as JSON text.

The target — PeerCheck's whole decision at least 1.5× every peer's — is printed per engine with
PASS or FAIL.

An engine whose package cannot be installed is skipped with a message. GoRules ZEN 0.37.x runs
in its own virtualenv (``.venv-zen-0.37``, made by ``make bench-peers``) as a worker process
(bench/peers/worker.py) that times its own passes when the harness asks, between the others'.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from bench.peers.engines import DRIVERS, Unavailable
from bench.run import corpus
from engine import Evaluator, Profile, load_ruleset, make_engine
from engine.encoding import decision_json
from engine.facts import FactBuilder
from engine.interpreter import compile_report

ROOT = Path(__file__).resolve().parents[2]
ZEN_037_VENV = Path(os.environ.get("PEERCHECK_ZEN_037_VENV", ROOT / ".venv-zen-0.37"))

RULES = (
    "PC-VOLUNTARY-001", "PC-STAFFING-001", "PC-CERT-001", "PC-CERT-002", "PC-CONFIDENTIALITY-001",
    "PC-ETHICS-002", "PC-READINESS-003", "PC-MEDICAID-001",  # program
    "PC-CASELOAD-001", "PC-CERT-004", "PC-CERT-006", "PC-ROLE-001", "PC-ROLE-002", "PC-ROLE-005",
    "PC-ROLE-006",  # peer
)

_NO_HITS: frozenset[str] = frozenset()
TARGET = 1.5  # PeerCheck's whole decision ÷ each peer's


class PeerCheck:
    """PeerCheck's default engine on a ruleset cut down to ``rule_ids``."""

    def __init__(self, full, rule_ids: tuple[str, ...] | None = None):
        self.ruleset = ruleset = full if rule_ids is None else full.only(rule_ids)
        self.evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
        self._reports = {}
        for scope in ("program", "peer"):
            in_scope = [r for r in ruleset.rules if r.spec.scope == scope]
            self._reports[scope] = ([r.id for r in in_scope], compile_report([(r.id, r) for r in in_scope]))

    def matching(self, profile: Profile) -> list[tuple[int, str, bool]]:
        """Facts, matching and the compiled outcome logic: (fact index, rule id, fired?)."""
        facts = self.ruleset.facts.build(profile)
        hits, _ = self.evaluator.engine.match(facts)
        by_fact: dict[int, set[str]] = {}
        for rule_id, index in hits:
            by_fact.setdefault(index, set()).add(rule_id)
        out = []
        for index, fact in enumerate(facts):
            ids, report = self._reports[fact["kind"]]
            out += [(index, ids[k], missing is None) for k, missing in report(fact, by_fact.get(index, _NO_HITS))]
        return out

    def decision(self, raw: dict) -> bytes:
        """The whole decision as POST /v1/evaluations answers by default."""
        return decision_json(self.evaluator.evaluate(Profile.model_validate(raw)), rules=False)

    def outcomes_from_matching(self, profile: Profile) -> list[list]:
        return sorted([index - 1, rule, "fired" if fired else "needs_information"]
                      for index, rule, fired in self.matching(profile))

    def outcomes_from_decision(self, raw: dict) -> list[list]:
        decision = self.evaluator.evaluate(Profile.model_validate(raw))
        subject = lambda s: -1 if s.peer_index is None else s.peer_index  # noqa: E731
        return sorted([[subject(f.subject), f.rule_id, "fired"] for f in decision.findings]
                      + [[subject(n.subject), n.rule_id, "needs_information"] for n in decision.needs_information])

    def catalog(self) -> dict[str, Any]:
        """The catalog data the peer sources write out, as PeerCheck's facts classify each activity
        (a one-peer profile per activity code) and as its state tables hold it."""
        builder = FactBuilder(self.ruleset.activities, self.ruleset.states)
        lists: dict[str, list[str]] = {"unlawful": [], "conflict": [], "individual": []}
        for code in sorted(a.code for a in self.ruleset.activities.activities):
            fact = builder.build(Profile.model_validate(
                {"schema_version": "1.1", "program": {"name": "x", "state": "NY"}, "peers": [{"title": "x", "duties": [code]}]}))[1]
            for name, found in (("unlawful", fact["duties_unlawful"]), ("conflict", fact["duties_conflict"]),
                                ("individual", fact["individual_duties_count"])):
                if found:
                    lists[name].append(code)
        states = self.ruleset.states
        return {**lists, "states": {code: row.recovery_requirement.value for code, row in states.states.items()},
                "researched": sorted(code for code, row in states.researched.items() if row.recovery_facts())}


class InProcess:
    """A peer engine in this process."""

    def __init__(self, driver, corpus_: list[dict]):
        self.driver, self.name, self._corpus = driver, driver.name, corpus_

    def outcomes(self) -> list[list[list]]:
        return [self.driver.outcomes(self.driver.evaluate(raw)) for raw in self._corpus]

    def constants(self) -> dict[str, Any]:
        return self.driver.constants()

    def time(self, kind: str) -> float:
        run = self.driver.evaluate if kind == "matching" else self.driver.decision
        started = time.perf_counter()
        for raw in self._corpus:
            run(raw)
        return time.perf_counter() - started

    def close(self) -> None:
        pass


class Worker:
    """A peer engine in another virtualenv's Python (bench/peers/worker.py)."""

    def __init__(self, python: Path, driver: str, corpus_path: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._process = subprocess.Popen([str(python), "-m", "bench.peers.worker", driver, corpus_path], cwd=ROOT,
                                         env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self._process.stdout.readline() or '{"unavailable": "the worker exited"}')
        if "unavailable" in hello:
            self.close()
            raise Unavailable(hello["unavailable"])
        self.name = hello["name"]

    def _ask(self, command: str) -> Any:
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return json.loads(self._process.stdout.readline())

    def outcomes(self) -> list[list[list]]:
        return self._ask("outcomes")

    def constants(self) -> dict[str, Any]:
        return self._ask("constants")

    def time(self, kind: str) -> float:
        return self._ask(f"time {kind}")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.write("quit\n")
            self._process.stdin.flush()
            self._process.wait(timeout=30)


def load_peers(raw: list[dict], corpus_path: str) -> list:
    peers = []
    for key in ("zen", "zen-0.37", "regorus", "opa-eval", "cel"):
        try:
            if key == "zen-0.37":
                python = ZEN_037_VENV / "bin" / "python"
                if not python.exists():
                    raise Unavailable(f"no virtualenv at {ZEN_037_VENV} (make bench-peers makes it: "
                                      "python3 -m venv .venv-zen-0.37 && .venv-zen-0.37/bin/pip install zen-engine==0.37.1)")
                peers.append(Worker(python, "zen", corpus_path))
            else:
                peers.append(InProcess(DRIVERS[key](), raw))
        except Unavailable as exc:
            print(f"skipped {key}: {exc}")
    return peers


def check(peercheck: PeerCheck, peers: list, raw: list[dict], validated: list[Profile]) -> bool:
    """Every engine's outcomes equal PeerCheck's on every profile; print every difference."""
    reference = [peercheck.outcomes_from_decision(d) for d in raw]
    ok = True
    matched = [peercheck.outcomes_from_matching(p) for p in validated]
    if matched != reference:
        print("FAILED: PeerCheck's matching path and its decisions disagree")
        ok = False
    expected_catalog = peercheck.catalog()
    for peer in peers:
        if peer.constants() != expected_catalog:
            print(f"FAILED: {peer.name}: the catalog data in its rule source differs from rules/catalog/: "
                  f"{peer.constants()} != {expected_catalog}")
            ok = False
        answers = peer.outcomes()
        wrong = [i for i, (mine, theirs) in enumerate(zip(reference, answers)) if [list(x) for x in mine] != theirs]
        if wrong:
            ok = False
            print(f"FAILED: {peer.name} differs from PeerCheck on {len(wrong)} of {len(raw)} profiles; first:")
            for i in wrong[:3]:
                mine, theirs = {tuple(x) for x in reference[i]}, {tuple(x) for x in answers[i]}
                print(f"  profile {i}: only PeerCheck {sorted(mine - theirs)}; only {peer.name} {sorted(theirs - mine)}")
    fired = sum(o[2] == "fired" for r in reference for o in r) / len(raw)
    needs = sum(o[2] == "needs_information" for r in reference for o in r) / len(raw)
    print(f"check: {len(peers) + 1} engines, {len(raw):,} profiles, {fired:.1f} fired and {needs:.1f} needs-information "
          f"results per profile: {'identical on every profile' if ok else 'DIFFERENCES (above)'}")
    return ok


def timed(fn: Callable, items: list) -> float:
    started = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median reported)")
    args = parser.parse_args()

    raw = corpus()
    validated = [Profile.model_validate(d) for d in raw]
    full = load_ruleset()
    subset, everything = PeerCheck(full, RULES), PeerCheck(full)
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="peercheck-corpus-", delete=False) as handle:
        json.dump(raw, handle)
    try:
        peers = load_peers(raw, handle.name)
        try:
            if not check(subset, peers, raw, validated):
                raise SystemExit(1)
            report(subset, everything, peers, raw, validated, args.rounds)
        finally:
            for peer in peers:
                peer.close()
    finally:
        os.unlink(handle.name)


def report(subset: PeerCheck, everything: PeerCheck, peers: list, raw: list[dict], validated: list[Profile],
           rounds: int) -> None:
    name = f"PeerCheck ({len(subset.ruleset.rules)} rules)"
    runs: dict[tuple[str, str], Callable[[], float]] = {
        (name, "matching"): lambda: timed(subset.matching, validated),
        (name, "decision"): lambda: timed(subset.decision, raw),
        (f"PeerCheck (all {len(everything.ruleset.rules)} rules)", "decision"): lambda: timed(everything.decision, raw),
    }
    for peer in peers:
        for kind in ("matching", "decision"):
            runs[(peer.name, kind)] = (lambda p, k: lambda: p.time(k))(peer, kind)
    seconds: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    keys = list(runs)
    for fn in runs.values():  # warm-up
        fn()
    for r in range(rounds):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            seconds[key].append(runs[key]())
    n = len(raw)

    def rate(key):
        return n / statistics.median(seconds[key])

    def ratio(key):  # PeerCheck's rate ÷ this one's = this one's seconds ÷ PeerCheck's, round by round
        return statistics.median(theirs / own for own, theirs in zip(seconds[(name, key[1])], seconds[key]))

    print(f"\n{n:,} varied profiles, {rounds} interleaved rounds, medians; ratio = PeerCheck's evaluations/s ÷ the engine's "
          "(median of per-round ratios; above 1: PeerCheck is faster)")
    print(f"{'engine':<44}{'matching /s':>13}{'ratio':>8}{'whole decision /s':>19}{'ratio':>8}  target >= {TARGET}")
    for label in dict.fromkeys(k[0] for k in keys):
        cells = []
        for kind in ("matching", "decision"):
            key = (label, kind)
            if key in seconds:
                shown = "" if label.startswith("PeerCheck") else f"{ratio(key):.2f}"
                cells.append(f"{rate(key):>{13 if kind == 'matching' else 19},.0f}{shown:>8}")
                if kind == "decision" and shown:
                    cells.append(f"  {'PASS' if ratio(key) >= TARGET else 'FAIL'}")
            else:
                cells.append(f"{'—':>{13 if kind == 'matching' else 19}}{'':>8}")
        print(f"{label:<44}" + "".join(cells))
    print("matching: PeerCheck = facts + matching + outcome logic from a validated profile; a peer = raw dict to its "
          "result objects.\nwhole decision: PeerCheck = validation + evaluation (findings with messages, evidence, "
          "citations; needs information with pointers, grouped by question) + the API's default answer as JSON; "
          "a peer = raw dict to its result as JSON.")


if __name__ == "__main__":
    main()
