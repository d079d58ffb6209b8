"""PeerCheck's own evaluator of the condition language, in pure Python.

Conditions are translated once, at load, into Python expressions over the fact dict and
compiled with ``compile()``: all conditions of a scope become one function that returns the
indices of the conditions that hold. Only checked conditions reach this module
(engine.language.check): field names come from the fact vocabulary and literals are strings,
numbers or booleans, written with ``repr`` — no rule text is ever executed as code.

The semantics mirror durable_rules 2.0.28 (tests/test_engine_differential.py holds the two
engines to identical answers):

* a missing or ``None`` field never satisfies a comparison — not even ``$neq``;
* ``$iany`` over a missing value or a non-list is false; ``$iall`` over an empty, missing or
  non-list value is false (unlike Python's ``all([])``);
* arithmetic over a missing operand makes the comparison false.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from engine.language import ITEM, referenced_fields

Predicate = Callable[[dict[str, Any]], bool]

_OPERATORS = {"$eq": "==", "$neq": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_ARITH = {"$add": "+", "$sub": "-", "$mul": "*"}


class _Codegen:
    """Writes one Python expression per condition; temporaries get unique names."""

    def __init__(self) -> None:
        self._names = itertools.count()

    def _tmp(self) -> str:
        return f"_t{next(self._names)}"

    def condition(self, node: dict[str, Any]) -> str:
        op, arg = next(iter(node.items()))
        if op == "$and":
            return "(" + " and ".join(self.condition(sub) for sub in arg) + ")"
        if op == "$or":
            return "(" + " or ".join(self.condition(sub) for sub in arg) + ")"
        if op == "$ex":
            return f"(g({next(iter(arg))!r}) is not None)"
        if op == "$nex":
            return f"(g({next(iter(arg))!r}) is None)"
        if op in ("$iany", "$iall"):
            field, item_expr = next(iter(arg.items()))
            items, item = self._tmp(), self._tmp()
            if op == "$iany" and set(item_expr) == {ITEM}:  # some item equals a literal: list membership
                return f"(type({items} := g({field!r})) is list and {item_expr[ITEM]!r} in {items})"
            test = self.item(item_expr, item)
            if op == "$iany":
                return f"(type({items} := g({field!r})) is list and any({test} for {item} in {items}))"
            return f"(type({items} := g({field!r})) is list and len({items}) > 0 and all({test} for {item} in {items}))"
        if op in _OPERATORS:
            field, value = next(iter(arg.items()))
            return self.comparison(_OPERATORS[op], field, value)
        return self.comparison("==", op, arg)

    def comparison(self, operator: str, field: str, value: Any) -> str:
        left = self._tmp()
        if isinstance(value, dict):
            right = self._tmp()
            return (f"(({left} := g({field!r})) is not None and ({right} := {self.value(value)}) is not None"
                    f" and {left} {operator} {right})")
        return f"(({left} := g({field!r})) is not None and {left} {operator} {value!r})"

    def value(self, value: Any) -> str:
        """An expression that is None when an operand is missing."""
        if not isinstance(value, dict):
            return repr(value)
        op, arg = next(iter(value.items()))
        if op == "$m":
            return f"g({arg!r})"
        left, right = self._tmp(), self._tmp()
        return (f"(None if ({left} := {self.value(arg['$l'])}) is None or ({right} := {self.value(arg['$r'])}) is None"
                f" else {left} {_ARITH[op]} {right})")

    def item(self, node: dict[str, Any], item: str) -> str:
        op, arg = next(iter(node.items()))
        if op == "$and":
            return "(" + " and ".join(self.item(sub, item) for sub in arg) + ")"
        if op == "$or":
            return "(" + " or ".join(self.item(sub, item) for sub in arg) + ")"
        if op == ITEM:
            return f"({item} is not None and {item} == {arg!r})"
        return f"({item} is not None and {item} != {arg[ITEM]!r})"  # {"$neq": {"$i": value}}


def _build(name: str, body: list[str]) -> Callable:
    source = f"def {name}(f):\n    g = f.get\n" + "\n".join(f"    {line}" for line in body)
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<peercheck:{name}>", "exec"), namespace)  # noqa: S102 - generated from checked conditions
    return namespace[name]


def compile_condition(node: dict[str, Any]) -> Predicate:
    """Compile a checked condition (see engine.language) into a predicate over a fact."""
    return _build("condition", [f"return bool({_Codegen().condition(node)})"])


def compile_certainly_false(node: dict[str, Any]) -> Predicate:
    """A predicate: some top-level ``$and`` term reads only known fields and is false — so the
    condition cannot hold whatever the unknown fields turn out to be."""
    codegen = _Codegen()
    terms = node["$and"] if set(node) == {"$and"} else [node]
    parts = []
    for term in terms:
        fields = list(dict.fromkeys(referenced_fields(term)))
        known = " and ".join(f"{name!r} in f" for name in fields) or "True"
        parts.append(f"(({known}) and not {codegen.condition(term)})")
    return _build("certainly_false", [f"return bool({' or '.join(parts)})"])


def _may_be_certainly_false(node: dict[str, Any] | None, required: tuple[str, ...]) -> bool:
    """False when ``compile_certainly_false(node)`` cannot hold while a required field is
    missing: one required field, read by every top-level term (no term is then fully known)."""
    if node is None:
        return False
    if len(required) != 1:
        return True
    terms = node["$and"] if set(node) == {"$and"} else [node]
    return not all(required[0] in referenced_fields(term) for term in terms)


def compile_report(entries: list[tuple[str, Any]]) -> Callable:
    """The outcome logic of one scope's rules, compiled for evaluation's hot path.

    ``entries``: per rule (rule id, compiled rule). ``report(f, h)`` — ``f`` a fact, ``h`` the
    ids the engine hit on it — returns ``[(k, missing)]`` for what a decision reports:
    ``missing`` is None when rule ``k`` fired, else the tuple of fact fields it needs (needs
    information). Certain passes and "not applicable" are left out. It is
    engine.evaluate.judge written out per rule, with the same predicates; a test holds the two
    to the same answers on generated profiles."""
    namespace: dict[str, Any] = {}
    body = ["out = []"]
    for k, (rule_id, rule) in enumerate(entries):
        namespace[f"R{k}"], namespace[f"A{k}"] = rule.required, rule.applies_required
        namespace[f"AR{k}"] = tuple(dict.fromkeys(rule.applies_required + rule.required))
        namespace[f"cf{k}"], namespace[f"acf{k}"], namespace[f"holds{k}"] = (
            rule.certainly_false, rule.applies_certainly_false, rule.holds)
        known = " and ".join(f"{name!r} in f" for name in rule.required) or "True"
        # "... and not cf(f)" where cf could hold; where it cannot, the call is left out.
        not_cf = f" and not cf{k}(f)" if _may_be_certainly_false(rule.condition, rule.required) else ""
        not_acf = (f" and not acf{k}(f)" if _may_be_certainly_false(rule.applies_when, rule.applies_required)
                   else "")
        # What is missing once "not known": with one field (almost every rule), that field.
        missing = f"R{k}" if len(rule.required) == 1 else f"tuple([n for n in R{k} if n not in f])"
        body.append(f"if {rule_id!r} in h: out.append(({k}, None))")
        if rule.applies_when is None:
            body.append(f"elif not ({known}){not_cf}: out.append(({k}, {missing}))")
            continue
        applies_known = " and ".join(f"{name!r} in f" for name in rule.applies_required) or "True"
        if len(rule.applies_required) == 1:  # the applicability field is the one missing
            applies_missing, both_missing = f"A{k}", f"AR{k}" if len(rule.required) == 1 else (
                f"tuple(dict.fromkeys(A{k} + {missing}))")
        else:
            applies_missing = f"tuple([n for n in A{k} if n not in f])"
            both_missing = f"tuple(dict.fromkeys({applies_missing} + {missing}))"
        body += [
            f"elif {rule_id + '/applies'!r} in h:",
            f"    if not ({known}){not_cf}: out.append(({k}, {missing}))",
            f"elif not ({applies_known}){not_acf}:",
            f"    if not ({known}):",
            f"        {f'if not cf{k}(f): ' if not_cf else ''}out.append(({k}, {both_missing}))",
            f"    elif holds{k}(f): out.append(({k}, {applies_missing}))",
        ]
    body.append("return out")
    source = "def report(f, h):\n" + "\n".join(f"    {line}" for line in body)
    exec(compile(source, "<peercheck:report>", "exec"), namespace)  # noqa: S102 - ids and field names from checked rules
    return namespace["report"]


class Interpreter:
    """The default engine: one compiled function per scope, no shared mutable state, thread-safe."""

    name = "interpreter"

    def __init__(self, rules: list[tuple[str, str, dict[str, Any]]]):
        # rules: (rule_id, scope, condition)
        self._matchers: dict[str, tuple[Callable, list[str]]] = {}
        # One predicate per rule as well: used only when a scope's function raises, to find
        # which rule failed and keep every other rule's answer.
        self._single: dict[str, list[tuple[str, Predicate]]] = {}
        for rule_id, scope, condition in rules:
            self._single.setdefault(scope, []).append((rule_id, compile_condition(condition)))
        for scope in sorted({scope for _, scope, _ in rules}):
            codegen = _Codegen()
            ids = [rule_id for rule_id, s, _ in rules if s == scope]
            body = ["hits = []"]
            for index, (_, s, condition) in enumerate(r for r in rules if r[1] == scope):
                body.append(f"if {codegen.condition(condition)}: hits.append({index})")
            body.append("return hits")
            self._matchers[scope] = (_build(f"match_{scope}", body), ids)

    def match(self, facts: list[dict[str, Any]]) -> tuple[set[tuple[str, int]], dict[tuple[str, int], str]]:
        """({(rule_id, fact_index)} of conditions that hold, {(rule_id, fact_index): error} of
        conditions whose evaluation raised). A failing rule never hides the others' answers."""
        found: set[tuple[str, int]] = set()
        errors: dict[tuple[str, int], str] = {}
        for index, fact in enumerate(facts):
            kind = fact["kind"]
            matcher = self._matchers.get(kind)
            if matcher is None:
                continue
            match, ids = matcher
            try:
                found.update((ids[i], index) for i in match(fact))
            except Exception:  # noqa: BLE001 - isolate the failing rule below
                for rule_id, predicate in self._single[kind]:
                    try:
                        if predicate(fact):
                            found.add((rule_id, index))
                    except Exception as exc:  # noqa: BLE001
                        errors[(rule_id, index)] = f"{type(exc).__name__}: {exc}"
        return found, errors

    def hits(self, facts: list[dict[str, Any]]) -> set[tuple[str, int]]:
        """Return {(rule_id, fact_index)} for every rule whose condition holds on a fact of its scope."""
        return self.match(facts)[0]

    def close(self) -> None:
        """Nothing to release; present so both engines share one surface."""
