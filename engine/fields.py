"""The profile schema as people read it: every field's plain-language title, the labels of its
codes, and where a JSON pointer sits in words ("Peer 2 › Active caseload").

Derived from the pydantic models themselves (titles, ``Labelled`` enums, the activity catalog's
labels), so it cannot drift from the schema. Works for any request model that embeds a profile
(a comparison's ``before``/``after``, a CDS call's ``context.profile``).
"""

from __future__ import annotations

import re

import types
import typing
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import lru_cache
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import MaxLen
from pydantic import BaseModel

from engine.catalog import load_activities
from engine.profile import added_in

SEPARATOR = " › "


@dataclass(frozen=True)
class Node:
    """What a value at one place of a document must be.

    ``kind``: ``object`` (a model: ``fields``), ``list`` (``item``, at most ``max_items``),
    ``choice`` (one of ``options``, code → label), ``integer``, ``number``, ``boolean``,
    ``text``, or ``any`` (not checked here)."""

    kind: str
    model: type[BaseModel] | None = None
    item: "Node | None" = None
    max_items: int | None = None
    options: dict[Any, str] = field(default_factory=dict)
    noun: str | None = None  # what one item of a list of objects is called ("Peer")

    @property
    def fields(self) -> dict[str, "FieldInfo"]:
        return model_fields(self.model) if self.model is not None else {}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    title: str
    description: str
    node: Node
    required: bool
    nullable: bool
    since: str | None  # the profile schema version that introduced the field
    bounds: dict[str, Any]  # ge / le / gt / lt / min_length / max_length of the value


def _humanise(name: str) -> str:
    """A field or model name in words: 'active_caseload', 'outcomeTimestamp', 'FeedbackEntry' →
    'Active caseload', 'Outcome timestamp', 'Feedback entry'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").capitalize()


@lru_cache(maxsize=1)
def activity_labels() -> dict[str, str]:
    return {a.code: a.label for a in load_activities().activities}


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """(type without None / Annotated, whether None is allowed, Annotated metadata)."""
    metadata: list[Any] = []
    nullable = False
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = get_args(annotation)
            metadata.extend(extra)
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(get_args(annotation))
            if len(args) != 1:
                return annotation, nullable, metadata
            annotation = args[0]
        else:
            return annotation, nullable, metadata


def node_for(annotation: Any, metadata: list[Any] = ()) -> Node:
    annotation, _, extra = _unwrap(annotation)
    metadata = [*metadata, *extra]
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Node("object", model=annotation)
    if origin is list:
        (item_type,) = get_args(annotation) or (Any,)
        item = node_for(item_type)
        max_items = next((m.max_length for m in metadata if isinstance(m, MaxLen)), None)
        noun = _humanise(item.model.__name__) if item.model is not None else None
        return Node("list", item=item, max_items=max_items, noun=noun)
    if origin is Literal:
        values = get_args(annotation)
        labels = activity_labels() if set(values) <= set(activity_labels()) else {}
        return Node("choice", options={v: labels.get(v, str(v)) for v in values})
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return Node("choice", options={m.value: getattr(m, "label", str(m.value)) for m in annotation})
    if annotation is bool:
        return Node("boolean")
    if annotation is int:
        return Node("integer")
    if annotation is float:
        return Node("number")
    if annotation is str:
        return Node("text")
    return Node("any")


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in metadata:
        for name in ("ge", "le", "gt", "lt", "min_length", "max_length"):
            value = getattr(m, name, None)
            if value is not None:
                out[name] = value
    return out


@lru_cache(maxsize=None)
def model_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    out: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        _, nullable, extra = _unwrap(info.annotation)
        title = info.title or _humanise(name)
        node = node_for(info.annotation, info.metadata)
        if node.noun and title.endswith("s"):  # "Acknowledged risks" → "Acknowledged risk 1"
            node = replace(node, noun=title[:-1])
        out[name] = FieldInfo(
            name=name, title=title, description=info.description or "",
            node=node, required=info.is_required(), nullable=nullable,
            since=added_in(info.description), bounds=_bounds([*info.metadata, *extra]),
        )
    return out


@lru_cache(maxsize=None)
def root(model: type[BaseModel]) -> Node:
    return Node("object", model=model)


@dataclass(frozen=True)
class Place:
    """Where a location of a document is, for people: ``words`` such as
    ``["Peer 2", "Active caseload"]``; ``field`` is the schema field at the end when there is one,
    ``parent`` the object it sits in."""

    words: list[str]
    field: FieldInfo | None
    parent: Node | None
    node: Node | None

    @property
    def label(self) -> str:
        return SEPARATOR.join(self.words) or "The document"


def short(key: str, width: int = 40) -> str:
    return key if len(key) <= width else key[:width] + "…"


def place(node: Node | None, loc: tuple | list) -> Place:
    """``loc`` (pydantic location or pointer segments; ints index lists) in words.

    List items of objects are named by their noun and counted from 1 ("Peer 2"), replacing the
    list's own title; items of lists of values become "(item 3)" after the list's title."""
    words: list[str] = []
    current_field: FieldInfo | None = None
    parent: Node | None = None
    for segment in loc:
        if node is None:
            words.append(f"“{short(str(segment))}”")
            current_field = None
            continue
        if node.kind == "object":
            info = node.fields.get(str(segment))
            parent = node
            if info is None:
                words.append(f"“{short(str(segment))}”")
                node, current_field = None, None
                continue
            words.append(info.title)
            node, current_field = info.node, info
        elif node.kind == "list" and isinstance(segment, int | str) and str(segment).isdigit():
            number = int(segment) + 1
            if node.noun:
                if words:
                    words.pop()  # "Peers" → "Peer 2"
                words.append(f"{node.noun} {number}")
            else:
                words[-1:] = [f"{words[-1]} (item {number})" if words else f"Item {number}"]
            parent, node, current_field = node, node.item, None
        else:
            words.append(f"“{short(str(segment))}”")
            node, current_field = None, None
    return Place(words, current_field, parent, node)


@lru_cache(maxsize=None)
def field_homes(model: type[BaseModel]) -> dict[str, list[tuple[tuple[str, ...], FieldInfo]]]:
    """Every field name in the schema below ``model`` → where it lives (object path, field)."""
    homes: dict[str, list[tuple[tuple[str, ...], FieldInfo]]] = {}

    def visit(node: Node, path: tuple[str, ...]) -> None:
        for name, info in node.fields.items():
            homes.setdefault(name, []).append((path, info))
            child = info.node.item if info.node.kind == "list" else info.node
            if child is not None and child.kind == "object":
                visit(child, (*path, name))

    visit(root(model), ())
    return homes
