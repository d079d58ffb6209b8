"""Profiles written as YAML (with comments), read as strictly as JSON; and where each field of a
profile file sits, by line, for JSON and YAML alike.

YAML is read with PyYAML's safe loader and these refusals, each with the line and column:

* a mapping that names the same key twice (YAML loaders silently keep the last, as ``json.loads``
  does; PeerCheck refuses both);
* anchors and aliases (``&a`` / ``*a``): a profile never needs them, and refusing them keeps the
  work per document bounded (no "billion laughs");
* more than one document in the file; tags other than YAML's own; ``.nan`` and ``.inf``.

Scalars are read as YAML 1.1 reads them (``yes``/``no`` are yes/no answers, ``12`` a number,
``null`` or ``~`` unknown); the profile's schema then checks every value, as it does for JSON.

``lines`` maps every JSON pointer of a document to the line it starts on, so code-scanning tools
can place a SARIF result in the profile file. A JSON document is read for positions by the same
YAML composer (a JSON text is YAML once its tabs, which valid JSON holds only between tokens, are
spaces).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.jsontext import TextProblem, at

YAML_SUFFIXES = (".yaml", ".yml")


class InvalidYAML(ValueError):
    """The text is not an acceptable YAML profile document; ``problems`` (the same shape as JSON's:
    line, column, the offending line quoted) says where and why."""

    def __init__(self, problems: list[TextProblem]):
        super().__init__("; ".join(p.detail for p in problems))
        self.problems = problems


class _Refusal(Exception):
    """Raised inside the loader; ``loads`` places it in the text."""

    def __init__(self, mark: Any, detail: str, fix: str, code: str):
        super().__init__(detail)
        self.index = mark.index if mark is not None else 0
        self.detail, self.fix, self.code = detail, fix, code


def looks_like_yaml(text: str, name: str | None = None) -> bool:
    """Whether a document is YAML: by its file name when it has one (``.yaml``, ``.yml``), else by
    its first character — JSON documents (profiles are objects) start with ``{`` or ``[``."""
    if name:
        lowered = name.lower()
        if lowered.endswith(YAML_SUFFIXES):
            return True
        if lowered.endswith(".json") or lowered.endswith(".jsonl"):
            return False
    start = text.lstrip("\ufeff \t\r\n")
    return bool(start) and not start.startswith(("{", "["))


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing what a profile never needs."""

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refusal(event.start_mark, f"uses an alias (*{event.anchor})",
                           "write the value out in full: profiles do not use anchors and aliases", "yaml_alias")
        if getattr(event, "anchor", None) is not None:
            raise _Refusal(event.start_mark, f"sets an anchor (&{event.anchor})",
                           "remove the anchor: profiles do not use anchors and aliases", "yaml_alias")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (list, dict)):
                raise _Refusal(key_node.start_mark, "has a list or mapping as a field name",
                               "field names are words, such as active_caseload", "yaml_key")
            if key in seen:
                raise _Refusal(key_node.start_mark,
                               f"names “{key}” twice in the same mapping (first on line {seen[key].start_mark.line + 1})",
                               "keep one of the two", "duplicate_key")
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_float(self, node: ScalarNode) -> float:  # type: ignore[override]
        if not _DECIMAL.fullmatch(node.value):
            raise _number(node, "give a finite number in plain digits (0.5), or null if it is not known")
        return float(node.value)

    def construct_yaml_int(self, node: ScalarNode) -> int:  # type: ignore[override]
        if not _INTEGER.fullmatch(node.value):  # YAML 1.1 reads 012 as 10 and 1:30 as 90
            raise _number(node, "write the number in plain digits, without leading zeros, or in quotes if it is text")
        return int(node.value)


_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)?(\.[0-9]*)?([eE][-+]?[0-9]+)?")


def _number(node: ScalarNode, fix: str) -> _Refusal:
    return _Refusal(node.start_mark, f"has {node.value}, which PeerCheck does not read as a number", fix, "yaml_number")


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)

_SYNTAX_FIX = "check the indentation, and write each field as name: value (a list item as - value)"


def loads(text: str) -> Any:
    """One YAML document to a Python value. Raises InvalidYAML."""
    if not text.strip():
        raise InvalidYAML([TextProblem("is empty", "give a profile: program, peers and what you know", code="empty")])
    loader = _StrictLoader(text)
    problem: TextProblem | None = None
    try:
        node = loader.get_single_node()
        doc = None if node is None else loader.construct_document(node)
    except _Refusal as exc:
        problem = at(text, exc.index, exc.detail, exc.fix, exc.code)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        index = mark.index if mark is not None else 0
        if "expected a single document" in (exc.context or "") or "another document" in (exc.problem or ""):
            problem = at(text, index, "holds more than one YAML document",
                         "keep one profile per file; for many, use a folder of files or a batch", "yaml_documents")
        else:
            what = (exc.problem or exc.context or "it cannot be read").rstrip(".")
            problem = at(text, index, f"is not valid YAML: {what}", _SYNTAX_FIX, "invalid_yaml")
    except yaml.YAMLError as exc:
        problem = TextProblem(f"is not valid YAML: {exc}", _SYNTAX_FIX, code="invalid_yaml")
    except RecursionError:
        problem = TextProblem("is nested too deeply to be read",
                              "a profile is nested only a few levels deep: remove the deep nesting", code="too_deep")
    finally:
        loader.dispose()
    if problem is not None:  # raised outside the except blocks: no chain to the parser's frames and text
        raise InvalidYAML([problem])
    if isinstance(doc, dict):
        _version_as_text(doc)
        if isinstance(doc.get("profile"), dict):  # a fixture file's wrapper
            _version_as_text(doc["profile"])
    return doc


def _version_as_text(doc: dict[str, Any]) -> None:
    """``schema_version: 1.2`` unquoted is a YAML number; the schema's versions are text."""
    version = doc.get("schema_version")
    if isinstance(version, float):
        doc["schema_version"] = f"{version:.1f}"


def _escape(segment: object) -> str:
    return str(segment).replace("~", "~0").replace("/", "~1")


def lines(text: str) -> dict[str, int]:
    """JSON pointer -> the line (from 1) where that value (a mapping value: its key) starts, for a
    JSON or YAML text; empty when the text cannot be read (positions are a convenience)."""
    try:
        root = yaml.compose(text.replace("\t", " "), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    out: dict[str, int] = {}
    if root is None:
        return out
    stack: list[tuple[str, Node, int]] = [("", root, root.start_mark.line + 1)]
    while stack:
        pointer, node, line = stack.pop()
        out.setdefault(pointer, line)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode):
                    stack.append((f"{pointer}/{_escape(key.value)}", value, key.start_mark.line + 1))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((f"{pointer}/{index}", item, item.start_mark.line + 1))
    return out


def line_of(positions: dict[str, int], pointer: str) -> int | None:
    """The line of ``pointer``, or of its nearest ancestor present in the file (a field left out
    of the file is placed at the object it belongs in)."""
    while True:
        if pointer in positions:
            return positions[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]
