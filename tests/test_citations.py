"""Every quote PeerCheck shows as a source must be in that source's stored text."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "rules" / "sources"
REGISTRY = yaml.safe_load((SOURCES / "sources.yaml").read_text())["sources"]
TEXTS = {sid: re.sub(r"\s+", " ", (SOURCES / info["file"]).read_text()).strip() for sid, info in REGISTRY.items()}


def _citations():
    for path in sorted((ROOT / "rules").glob("*/*.yaml")):
        if path.parent.name in ("catalog", "sources"):
            continue
        for c in yaml.safe_load(path.read_text())["citations"]:
            yield path.stem, c
    for activity in yaml.safe_load((ROOT / "rules/catalog/activities.yaml").read_text())["activities"]:
        for c in activity["citations"]:
            yield f"activity:{activity['code']}", c
    states = yaml.safe_load((ROOT / "rules/catalog/states.yaml").read_text())
    yield "states:default", states["default"]["citation"]
    for code, row in states["states"].items():
        yield f"states:{code}", row["citation"]


CITATIONS = list(_citations())


def test_there_are_citations_to_check():
    assert len(CITATIONS) > 100


@pytest.mark.parametrize("owner,citation", CITATIONS, ids=[f"{o}-{i}" for i, (o, _) in enumerate(CITATIONS)])
def test_quote_is_in_its_source(owner, citation):
    assert citation["source"] in TEXTS, f"{owner}: unknown source {citation['source']}"
    quote = re.sub(r"\s+", " ", citation["quote"]).strip()
    assert quote in TEXTS[citation["source"]], f"{owner}: quote not in {citation['source']}: {quote!r}"
    assert citation["section"].strip()


def test_stored_sources_equal_the_shared_originals():
    shared = ROOT.parent / "shared" / "sources"
    if not shared.is_dir():
        pytest.skip("shared/sources is not beside this checkout")
    for info in REGISTRY.values():
        assert (SOURCES / info["file"]).read_bytes() == (shared / info["file"]).read_bytes(), info["file"]
