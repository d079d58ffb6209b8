"""The peer engines, each driven from the raw profile dict to its own result.

Every driver loads its rule source from this folder once and then offers:

* ``evaluate(raw)`` — the engine's answer for one profile, as the Python objects its binding
  returns (what "matching" times for a peer: from the raw dict to the engine's result);
* ``decision(raw)`` — the same answer as JSON text (what a service built on the engine would
  send: "whole decision");
* ``outcomes(answer)`` — the answer as a sorted list of ``[subject, rule id, outcome]``, subject
  -1 for the program and the peer's index otherwise, outcome ``fired`` or ``needs_information``:
  the common form in which the harness compares every engine with PeerCheck;
* ``constants()`` — the catalog data written into the source (Appendix C lists, state tables),
  which the harness checks against rules/catalog/.

This module imports nothing from PeerCheck and nothing outside the standard library but the
engine's own binding (and PyYAML for CEL), so a worker can run it in a virtualenv that holds
only one engine version (bench/peers/worker.py).
"""

from __future__ import annotations

import importlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ZEN_SOURCE = HERE / "peercheck.zen.json"
REGO_SOURCE = HERE / "peercheck.rego"
CEL_SOURCE = HERE / "peercheck.cel.yaml"

OUTCOMES = ("fired", "needs_information")


class Unavailable(Exception):
    """The engine's package is not installed here; the message says how to get it."""


def _binding(module: str, dist: str):
    """The engine's Python module, or Unavailable saying which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{dist} is not installed (pip install {dist})") from exc


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _flatten(program: dict[str, Any], peers: list[dict[str, Any]]) -> list[list]:
    out = [[-1, rule, o] for rule, o in program.items() if o is not None]
    for index, by_rule in enumerate(peers):
        out += [[index, rule, o] for rule, o in by_rule.items() if o is not None]
    return sorted(out)


class Zen:
    """GoRules ZEN: a JDM decision graph (decision table + expression nodes) from peercheck.zen.json."""

    dist = "zen-engine"

    def __init__(self) -> None:
        zen = _binding("zen", self.dist)
        self.version = _version(self.dist)
        self.name = f"GoRules ZEN {self.version}"
        self._source = json.loads(ZEN_SOURCE.read_text())
        self._decision = zen.ZenEngine().create_decision(ZEN_SOURCE.read_text())

    def evaluate(self, raw: dict) -> dict:
        return self._decision.evaluate(raw)["result"]

    def decision(self, raw: dict) -> str:
        return json.dumps(self._decision.evaluate(raw)["result"])

    def outcomes(self, answer: dict) -> list[list]:
        by_rule = answer.get("peers_by_rule", {})
        count = len(next(iter(by_rule.values()), []))
        peers = [{rule: values[i] for rule, values in by_rule.items()} for i in range(count)]
        return _flatten(answer.get("program", {}), peers)

    def constants(self) -> dict[str, Any]:
        nodes = {n["id"]: n for n in self._source["nodes"]}
        lists = {e["key"]: json.loads(e["value"]) for e in nodes["catalog"]["content"]["expressions"]}
        states: dict[str, str] = {}
        for row in nodes["state-table"]["content"]["rules"]:
            for code in json.loads(f"[{row['state']}]"):
                states[code] = json.loads(row["requirement"])
        researched = [code for row in nodes["researched-states"]["content"]["rules"] if row["researched"] == "true"
                      for code in json.loads(f"[{row['state']}]")]
        return {"unlawful": sorted(lists["unlawful"]), "conflict": sorted(lists["conflict"]),
                "individual": sorted(lists["individual"]), "states": states, "researched": sorted(researched)}


class Regorus:
    """Rego (peercheck.rego) in regorus, Microsoft's Rego interpreter in Rust, through its Python
    binding as published on PyPI (gordon-to-regorus; the upstream binding is not on PyPI)."""

    dist = "gordon-to-regorus"

    def __init__(self) -> None:
        regorus = _binding("regorus", self.dist)
        self.version = _version(self.dist)
        self.name = f"Rego, regorus {self.version}"
        self._engine = regorus.Engine()
        self._engine.add_policy_from_file(str(REGO_SOURCE))

    def evaluate(self, raw: dict) -> dict:
        self._engine.set_input(raw)
        return self._engine.eval_rule("data.peercheck.result")

    def decision(self, raw: dict) -> str:
        self._engine.set_input(raw)
        return self._engine.eval_rule_as_json("data.peercheck.result")

    def outcomes(self, answer: dict) -> list[list]:
        return _flatten(answer["program"], answer["peers"])

    def constants(self) -> dict[str, Any]:
        get = self._engine.eval_rule
        self._engine.set_input({})
        return {"unlawful": sorted(get("data.peercheck.unlawful")), "conflict": sorted(get("data.peercheck.conflict")),
                "individual": sorted(get("data.peercheck.individual")),
                "states": get("data.peercheck.state_requirement"), "researched": sorted(get("data.peercheck.researched"))}


class OpaEval(Regorus):
    """The same Rego through opa-eval, a second PyPI binding of regorus that takes JSON text."""

    dist = "opa-eval"

    def __init__(self) -> None:
        opa_eval = _binding("opa_eval", self.dist)
        self.version = _version(self.dist)
        self.name = f"Rego, opa-eval {self.version}"
        self._policy = opa_eval.OpaEval(str(REGO_SOURCE), query="data.peercheck.result")
        self._catalog = {q: opa_eval.OpaEval(str(REGO_SOURCE), query=f"data.peercheck.{q}")
                         for q in ("unlawful", "conflict", "individual", "state_requirement", "researched")}

    def evaluate(self, raw: dict) -> dict:
        return self._policy.evaluate_parsed(json.dumps(raw))

    def decision(self, raw: dict) -> str:
        return self._policy.evaluate(json.dumps(raw))

    def constants(self) -> dict[str, Any]:
        get = {q: e.evaluate_parsed("{}") for q, e in self._catalog.items()}
        return {"unlawful": sorted(get["unlawful"]), "conflict": sorted(get["conflict"]),
                "individual": sorted(get["individual"]), "states": get["state_requirement"],
                "researched": sorted(get["researched"])}


class Cel:
    """CEL (peercheck.cel.yaml) in common-expression-language, a binding of the Rust CEL interpreter."""

    dist = "common-expression-language"

    def __init__(self) -> None:
        cel = _binding("cel", self.dist)
        import yaml

        self.version = _version(self.dist)
        self.name = f"CEL, {self.dist} {self.version}"
        spec = yaml.safe_load(CEL_SOURCE.read_text())
        self._constants = spec["constants"]
        self._program = cel.compile(compose(spec))
        self._context = cel.Context(variables=dict(self._constants))

    def evaluate(self, raw: dict) -> dict:
        # One context made at load holds the constants; only the profile is set per call.
        self._context.add_variable("profile", raw)
        return self._program.execute(self._context)

    def decision(self, raw: dict) -> str:
        return json.dumps(self.evaluate(raw))

    def outcomes(self, answer: dict) -> list[list]:
        return _flatten(answer["program"], answer["peers"])

    def constants(self) -> dict[str, Any]:
        c = self._constants
        return {"unlawful": sorted(c["unlawful"]), "conflict": sorted(c["conflict"]),
                "individual": sorted(c["individual"]), "states": c["state_requirement"],
                "researched": sorted(c["researched"])}


def compose(spec: dict[str, Any]) -> str:
    """The CEL source's sections as one expression (see the comment at the top of the file)."""

    def literal(section: dict[str, str]) -> str:
        return "{" + ", ".join(f"{json.dumps(name)}: ({expr})" for name, expr in section.items()) + "}"

    return (f"[{literal(spec['program_facts'])}].map(f, {{"
            f"\"program\": {literal(spec['program_rules'])}, "
            f"\"peers\": profile.peers.map(peer, [{literal(spec['peer_facts'])}].map(p, {literal(spec['peer_rules'])})[0])"
            f"}})[0]")


DRIVERS = {"zen": Zen, "regorus": Regorus, "opa-eval": OpaEval, "cel": Cel}
