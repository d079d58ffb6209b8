"""PeerCheck's own evaluator of the condition language, in pure Python.

Each condition is compiled once, at load, into a closure over a fact dict. The semantics
mirror durable_rules 2.0.28 (tests/test_engine_differential.py holds the two engines to
identical answers):

* a missing or ``None`` field never satisfies a comparison — not even ``$neq``;
* ``$iany`` over a missing value or a non-list is false; ``$iall`` over an empty, missing or
  non-list value is false (unlike Python's ``all([])``);
* arithmetic over a missing operand makes the comparison false.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from engine.language import ITEM

Predicate = Callable[[dict[str, Any]], bool]
ValueFn = Callable[[dict[str, Any]], Any]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$neq": operator.ne,
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
}
_ARITH = {"$add": operator.add, "$sub": operator.sub, "$mul": operator.mul}


def compile_condition(node: dict[str, Any]) -> Predicate:
    """Compile a checked condition (see engine.language) into a predicate over a fact."""
    op, arg = next(iter(node.items()))
    if op == "$and":
        parts = [compile_condition(sub) for sub in arg]
        return lambda fact: all(p(fact) for p in parts)
    if op == "$or":
        parts = [compile_condition(sub) for sub in arg]
        return lambda fact: any(p(fact) for p in parts)
    if op == "$ex":
        field = next(iter(arg))
        return lambda fact: fact.get(field) is not None
    if op == "$nex":
        field = next(iter(arg))
        return lambda fact: fact.get(field) is None
    if op in ("$iany", "$iall"):
        field, item_expr = next(iter(arg.items()))
        item_pred = _compile_item(item_expr)
        if op == "$iany":
            return lambda fact: _is_list(v := fact.get(field)) and any(item_pred(i) for i in v)
        return lambda fact: _is_list(v := fact.get(field)) and len(v) > 0 and all(item_pred(i) for i in v)
    if op in _COMPARE:
        field, value = next(iter(arg.items()))
        return _comparison(_COMPARE[op], field, _compile_value(value))
    return _comparison(operator.eq, op, _compile_value(arg))


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _comparison(compare: Callable[[Any, Any], bool], field: str, rvalue: ValueFn) -> Predicate:
    def predicate(fact: dict[str, Any]) -> bool:
        left = fact.get(field)
        if left is None:
            return False
        right = rvalue(fact)
        if right is None:
            return False
        return compare(left, right)

    return predicate


def _compile_value(value: Any) -> ValueFn:
    if isinstance(value, dict):
        op, arg = next(iter(value.items()))
        if op == "$m":
            return lambda fact: fact.get(arg)
        combine = _ARITH[op]
        left, right = _compile_value(arg["$l"]), _compile_value(arg["$r"])

        def arithmetic(fact: dict[str, Any]) -> Any:
            a, b = left(fact), right(fact)
            return None if a is None or b is None else combine(a, b)

        return arithmetic
    return lambda fact: value


def _compile_item(node: dict[str, Any]) -> Callable[[Any], bool]:
    op, arg = next(iter(node.items()))
    if op == "$and":
        parts = [_compile_item(sub) for sub in arg]
        return lambda item: all(p(item) for p in parts)
    if op == "$or":
        parts = [_compile_item(sub) for sub in arg]
        return lambda item: any(p(item) for p in parts)
    if op == ITEM:
        return lambda item: item is not None and item == arg
    expected = arg[ITEM]  # {"$neq": {"$i": value}}
    return lambda item: item is not None and item != expected


class Interpreter:
    """The default engine: compiled predicates, no shared mutable state, thread-safe."""

    name = "interpreter"

    def __init__(self, rules: list[tuple[str, str, dict[str, Any]]]):
        # rules: (rule_id, scope, condition)
        self._rules = [(rule_id, scope, compile_condition(cond)) for rule_id, scope, cond in rules]

    def hits(self, facts: list[dict[str, Any]]) -> set[tuple[str, int]]:
        """Return {(rule_id, fact_index)} for every rule whose condition holds on a fact of its scope."""
        found: set[tuple[str, int]] = set()
        for index, fact in enumerate(facts):
            kind = fact["kind"]
            for rule_id, scope, predicate in self._rules:
                if scope == kind and predicate(fact):
                    found.add((rule_id, index))
        return found

    def close(self) -> None:
        """Nothing to release; present so both engines share one surface."""
