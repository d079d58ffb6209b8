"""The project's documents stand on their own: the README's API table lists every route the app
serves, nothing links outside the repository, every file they name exists, and every example
that prints JSON pipes it through jq."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from fastapi.routing import APIRoute

import api.routes
from conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FASTAPI_DOCS = {("GET", "/docs"), ("GET", "/redoc"), ("GET", "/openapi.json")}


def served_routes() -> set[tuple[str, str]]:
    """(method, path) of every route of every router in api/routes/, and FastAPI's own docs."""
    routes = set(FASTAPI_DOCS)
    for module in pkgutil.iter_modules(api.routes.__path__):
        router = getattr(importlib.import_module(f"api.routes.{module.name}"), "router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute):
                routes |= {(method, route.path) for method in route.methods - {"HEAD"}}
    return routes


def api_table() -> set[tuple[str, str]]:
    section = (ROOT / "README.md").read_text().split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"[A-Z]+(, [A-Z]+)*", cells[0]):
            rows |= {(method, path) for method in cells[0].split(", ") for path in re.findall(r"`([^`]+)`", cells[1])}
    return rows


def test_the_api_table_lists_every_route_and_only_those():
    served, listed = served_routes(), api_table()
    assert ("GET", "/v1/evaluations/{decision_id}/report") in served  # the table is read, not empty
    assert sorted(served - listed) == [], "routes missing from the README's API table"
    assert sorted(listed - served) == [], "the README's API table lists routes the app does not serve"


# Pages that list facts from outside the bundled sources, each with its source's address and date
# (as every such fact must be): their web links are citations, not reading the project depends on.
CITING_SOURCES = {"states.md"}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_link_leaves_the_repository(document):
    text = document.read_text()
    links = [m for m in re.findall(r"\]\(([^)]+)\)|<(https?://[^>]+)>", text) for m in m if m]
    web = [link for link in links if re.match(r"[a-z]+:", link)
           and not re.match(r"https?://(127\.0\.0\.1|localhost)[:/]", link)]
    if document.name not in CITING_SOURCES:
        assert web == []
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert [link for link in local if not (document.parent / link.split("#")[0]).resolve().is_relative_to(ROOT)
            or not (document.parent / link.split("#")[0]).exists()] == []
    assert "../" not in text, "a path outside the repository"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_file_a_document_names_exists(document):
    named = set(re.findall(r"`((?:[\w.-]+/)+[\w.-]+\.(?:md|py|json|yaml|toml|j2))`", document.read_text()))
    named = {path for path in named if "*" not in path and "<" not in path}
    assert [path for path in sorted(named) if not (ROOT / path).exists()] == []


def shell_commands(text: str) -> list[str]:
    """Each command of the documents' sh blocks, continuation lines and pipelines joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        current = ""
        for line in block.splitlines():
            current += line.split("  #")[0].rstrip().removesuffix("\\") + " "
            if not re.search(r"(\\|\|)\s*$", line.split("  #")[0]):
                commands.append(current.strip())
                current = ""
    return [command for command in commands if command]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_curl_examples_that_print_json_pipe_it_through_jq(document):
    commands = [c for c in shell_commands(document.read_text()) if "curl " in c]
    unformatted = [c for c in commands if " > " not in c and not re.search(r"curl [^|]*\|.*\bjq\b", c)]
    assert unformatted == []
    if document.name == "README.md":
        assert len(commands) >= 5
