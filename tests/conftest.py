"""Shared test fixtures: the real ruleset, both engines, the base profile and its variants."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

import jsonpatch
import pytest

from engine import Evaluator, Profile, load_ruleset, make_engine

# Decision logs written by tests go to a scratch folder, never to ./data in the work tree. Set
# before anything imports api.main (whose module-level app reads the settings).
os.environ.setdefault("PEERCHECK_DATA_DIR", tempfile.mkdtemp(prefix="peercheck-test-data-"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BASE_PROFILE = json.loads((FIXTURES / "base.json").read_text())
ENGINE_NAMES = ("interpreter", "durable_rules")


def variant(set_map: dict | None) -> dict:
    """The base profile with ``{json_pointer: value}`` applied; a null value removes the field."""
    doc = copy.deepcopy(BASE_PROFILE)
    if not set_map:
        return doc
    ops = [
        {"op": "remove", "path": path} if value is None else {"op": "add", "path": path, "value": value}
        for path, value in set_map.items()
    ]
    return jsonpatch.apply_patch(doc, ops)


@pytest.fixture(scope="session")
def ruleset():
    return load_ruleset()


@pytest.fixture(scope="session")
def evaluators(ruleset):
    return {name: Evaluator(ruleset, make_engine(name, ruleset)) for name in ENGINE_NAMES}


@pytest.fixture(scope="session", params=ENGINE_NAMES)
def evaluator(request, evaluators):
    return evaluators[request.param]


@pytest.fixture(scope="session")
def client():
    from fastapi.testclient import TestClient

    from api.main import app

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database for the decision-log tests (tests/postgres_server.py), or a skip."""
    from postgres_server import Unavailable, throwaway_postgres

    try:
        with throwaway_postgres() as url:
            yield url
    except Unavailable as exc:
        pytest.skip(f"no PostgreSQL here: {exc}")


def fields_of(version: str, doc: dict) -> dict:
    """A profile document without the fields added after schema ``version`` (and declared so)."""
    from engine.fields import root

    def keep(node, value):
        if node.kind == "object" and isinstance(value, dict):
            return {k: keep(node.fields[k].node, v) for k, v in value.items()
                    if (node.fields[k].since or "1.0") <= version}
        if node.kind == "list" and isinstance(value, list):
            return [keep(node.item, v) for v in value]
        return value

    return keep(root(Profile), {**doc, "schema_version": version})


def profile(data: dict) -> Profile:
    return Profile.model_validate(data)


@pytest.fixture
def make_client(tmp_path):
    """A TestClient over a fresh app with these settings (decision log under tmp_path unless given)."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    clients = []

    def make(**settings):
        settings.setdefault("data_dir", tmp_path / "data")
        client = TestClient(create_app(Settings(**settings)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
