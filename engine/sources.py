"""The five source documents, and the check that every quoted passage is really in them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from engine.catalog import RULES_DIR, Citation, LoadError, parse, read_yaml

SOURCES_DIR = RULES_DIR / "sources"

_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Collapse whitespace runs to one space: PDF extraction breaks lines anywhere."""
    return _WHITESPACE.sub(" ", text).strip()


class SourceInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    title: str
    publisher: str
    year: str


class _Registry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceInfo]


@dataclass(frozen=True)
class SourceLibrary:
    info: dict[str, SourceInfo]
    texts: dict[str, str]  # id -> normalised text

    @classmethod
    def load(cls, directory: Path = SOURCES_DIR) -> "SourceLibrary":
        path = directory / "sources.yaml"
        registry: _Registry = parse(_Registry, read_yaml(path), path)
        texts = {}
        for source_id, info in registry.sources.items():
            try:
                texts[source_id] = normalise((directory / info.file).read_text(encoding="utf-8"))
            except OSError as exc:
                raise LoadError(f"{path}: source {source_id!r}: cannot read {info.file}: {exc.strerror}") from exc
        return cls(registry.sources, texts)

    def problem(self, citation: Citation) -> str | None:
        """Why this citation is not verifiable, or None when its quote is in its source."""
        if citation.source not in self.texts:
            return f"cites unknown source {citation.source!r} (known: {', '.join(sorted(self.texts))})"
        if normalise(citation.quote) not in self.texts[citation.source]:
            return f"quote not found in {citation.source}: {citation.quote[:80]!r}"
        return None
