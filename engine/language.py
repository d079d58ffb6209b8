"""The rule condition language: durable_rules' JSON ruleset syntax, restricted to what both
engines evaluate identically.

A condition is one expression over one fact:

* ``{field: value}`` (equality), ``{"$neq"|"$lt"|"$lte"|"$gt"|"$gte": {field: value}}``
* ``{"$ex": {field: 1}}`` / ``{"$nex": {field: 1}}``
* ``{"$and": [expr, ...]}`` / ``{"$or": [expr, ...]}``
* ``{"$iany"|"$iall": {field: item_expr}}`` over a list field, where ``item_expr`` compares
  ``"$i"`` (the item) like a field: ``{"$i": "x"}``, ``{"$neq": {"$i": "x"}}``, or ``$and``/``$or``
  of those.
* a value is a literal, ``{"$m": field}`` (another field of the same fact),
  ``{"$add"|"$sub"|"$mul": {"$l": value, "$r": value}}``, or ``{"$param": name}`` — a rule
  parameter, replaced by its value when the rule is loaded (durable_rules never sees it).

Left out on purpose (see docs/durable-rules.md): ``$div`` (SIGFPE on integer division by
zero), ``$mt``/``$imt`` (durable_rules' own pattern dialect, which the interpreter would have to
re-implement), correlated sequences and ``$not``. Every field must be in the fact vocabulary
and every literal must have the field's type, because durable_rules coerces types
(``'100' < 25`` is true there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

COMPARISONS = ("$lt", "$lte", "$gt", "$gte", "$neq")
ORDERINGS = ("$lt", "$lte", "$gt", "$gte")
ARITHMETIC = ("$add", "$sub", "$mul")
ITEM = "$i"


class ConditionError(ValueError):
    """A condition that is not in the supported language; the message says where."""


@dataclass(frozen=True)
class FieldType:
    kind: str  # "number" | "boolean" | "string" | "list"

    def accepts(self, value: Any) -> bool:
        if self.kind == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.kind == "string":
            return isinstance(value, str)
        return False  # a list is never compared to a literal as a whole


def substitute_params(node: Any, params: dict[str, Any]) -> Any:
    """Return ``node`` with every ``{"$param": name}`` replaced by the parameter's value."""
    if isinstance(node, dict):
        if set(node) == {"$param"}:
            name = node["$param"]
            if name not in params:
                raise ConditionError(f"unknown parameter {name!r}")
            return params[name]
        return {k: substitute_params(v, params) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute_params(v, params) for v in node]
    return node


def _single(node: Any, where: str) -> tuple[str, Any]:
    if not isinstance(node, dict) or len(node) != 1:
        raise ConditionError(f"{where}: expected an object with exactly one key, got {node!r}")
    return next(iter(node.items()))


def check(condition: Any, vocabulary: dict[str, FieldType]) -> None:
    """Raise ConditionError unless ``condition`` (parameters already substituted) is in the language."""
    _check_expr(condition, vocabulary, "condition")


def _check_expr(node: Any, vocab: dict[str, FieldType], where: str) -> None:
    op, arg = _single(node, where)
    if op in ("$and", "$or"):
        if not isinstance(arg, list) or not arg:
            raise ConditionError(f"{where}.{op}: expected a non-empty list")
        for i, sub in enumerate(arg):
            _check_expr(sub, vocab, f"{where}.{op}[{i}]")
    elif op in ("$ex", "$nex"):
        field, one = _single(arg, f"{where}.{op}")
        _field(field, vocab, f"{where}.{op}")
        if one != 1:
            raise ConditionError(f"{where}.{op}: the value must be 1")
    elif op in COMPARISONS:
        field, value = _single(arg, f"{where}.{op}")
        _check_comparison(op, field, value, vocab, f"{where}.{op}")
    elif op in ("$iany", "$iall"):
        field, item_expr = _single(arg, f"{where}.{op}")
        if _field(field, vocab, f"{where}.{op}").kind != "list":
            raise ConditionError(f"{where}.{op}: {field!r} is not a list field")
        _check_item_expr(item_expr, f"{where}.{op}.{field}")
    elif op.startswith("$"):
        raise ConditionError(f"{where}: operator {op!r} is not supported")
    else:
        _check_comparison("$eq", op, arg, vocab, where)


def _check_comparison(op: str, field: str, value: Any, vocab: dict[str, FieldType], where: str) -> None:
    ftype = _field(field, vocab, where)
    if ftype.kind == "list":
        raise ConditionError(f"{where}: {field!r} is a list; use $iany or $iall")
    if op in ORDERINGS and ftype.kind != "number":
        raise ConditionError(f"{where}: {op} needs a number field, {field!r} is a {ftype.kind}")
    _check_value(value, ftype, vocab, where)


def _check_value(value: Any, ftype: FieldType, vocab: dict[str, FieldType], where: str) -> None:
    if isinstance(value, dict):
        op, arg = _single(value, where)
        if op == "$m":
            other = _field(arg, vocab, f"{where}.$m")
            if other.kind != ftype.kind:
                raise ConditionError(f"{where}: {arg!r} is a {other.kind}, compared with a {ftype.kind}")
        elif op in ARITHMETIC:
            if ftype.kind != "number" or not isinstance(arg, dict) or set(arg) != {"$l", "$r"}:
                raise ConditionError(f"{where}.{op}: expected {{$l, $r}} on a number field")
            _check_value(arg["$l"], ftype, vocab, f"{where}.{op}.$l")
            _check_value(arg["$r"], ftype, vocab, f"{where}.{op}.$r")
        else:
            raise ConditionError(f"{where}: value operator {op!r} is not supported")
    elif value is None or not ftype.accepts(value):
        raise ConditionError(f"{where}: literal {value!r} does not have the field's type ({ftype.kind})")


def _check_item_expr(node: Any, where: str) -> None:
    op, arg = _single(node, where)
    if op in ("$and", "$or"):
        if not isinstance(arg, list) or not arg:
            raise ConditionError(f"{where}.{op}: expected a non-empty list")
        for i, sub in enumerate(arg):
            _check_item_expr(sub, f"{where}.{op}[{i}]")
    elif op == ITEM:
        if not isinstance(arg, str):
            raise ConditionError(f"{where}: list items are strings; compare $i with a string")
    elif op == "$neq":
        key, value = _single(arg, f"{where}.$neq")
        if key != ITEM or not isinstance(value, str):
            raise ConditionError(f"{where}.$neq: expected {{'$i': <string>}}")
    else:
        raise ConditionError(f"{where}: inside $iany/$iall only $i equality, $neq, $and, $or are supported")


def _field(name: Any, vocab: dict[str, FieldType], where: str) -> FieldType:
    if not isinstance(name, str) or name not in vocab:
        raise ConditionError(f"{where}: unknown fact field {name!r}")
    return vocab[name]


def referenced_fields(node: Any) -> Iterator[str]:
    """Every fact field a (checked) condition reads, in order of appearance, with repeats."""
    op, arg = next(iter(node.items()))
    if op in ("$and", "$or"):
        for sub in arg:
            yield from referenced_fields(sub)
    elif op in ("$ex", "$nex", "$iany", "$iall"):
        yield next(iter(arg))
    elif op in COMPARISONS:
        field, value = next(iter(arg.items()))
        yield field
        yield from _value_fields(value)
    else:
        yield op
        yield from _value_fields(arg)


def _value_fields(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        op, arg = next(iter(value.items()))
        if op == "$m":
            yield arg
        elif op in ARITHMETIC:
            yield from _value_fields(arg["$l"])
            yield from _value_fields(arg["$r"])


def m_referenced_fields(node: Any) -> set[str]:
    """Fields read through ``$m``: durable_rules reads uninitialised memory when one is missing."""
    found: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if set(n) == {"$m"}:
                found.add(n["$m"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return found
