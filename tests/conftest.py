"""Shared test fixtures: the real ruleset, both engines, the base profile and its variants.

durable_rules does not import on Python 3.13: there every test of that engine, and every
comparison of the two engines, skips with one reason (``require_engine``), and the run ends by
saying that only the interpreter was tested."""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import jsonpatch
import pytest

from engine import Evaluator, Profile, load_ruleset, make_engine
from engine.durable_engine import unavailable_reason

# The warning budget (a run with more than a handful of warnings fails) and pytester, which its
# own test uses.
pytest_plugins = ["pytester", "warning_budget"]

# Decision logs written by tests go to a scratch folder, never to ./data in the work tree. Set
# before anything imports api.main (whose module-level app reads the settings).
os.environ.setdefault("PEERCHECK_DATA_DIR", tempfile.mkdtemp(prefix="peercheck-test-data-"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BASE_PROFILE = json.loads((FIXTURES / "base.json").read_text())
ENGINE_NAMES = ("interpreter", "durable_rules")
DURABLE_MISSING = unavailable_reason()  # None where durable_rules imports (Python 3.11, 3.12)
ENGINE_SKIP = (f"durable_rules does not run on Python {'.'.join(map(str, sys.version_info[:2]))}: its tests and the "
               "comparisons of the two engines skip; the interpreter is tested alone")
AVAILABLE_ENGINES = tuple(name for name in ENGINE_NAMES if name != "durable_rules" or DURABLE_MISSING is None)


def require_engine(name: str) -> None:
    """Skip the calling test when the named engine cannot run on this Python (one reason for all)."""
    if name not in AVAILABLE_ENGINES:
        pytest.skip(ENGINE_SKIP)


def _engine_skip(report) -> bool:
    return report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(ENGINE_SKIP)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """pytest reports a skip at the skipped test's own line, so -ra would list the one reason once per
    test function; placed at require_engine instead, the summary holds it on one line."""
    report = yield
    if _engine_skip(report):
        report.longrepr = (__file__, require_engine.__code__.co_firstlineno, report.longrepr[2])
    return report


def pytest_terminal_summary(terminalreporter):
    if DURABLE_MISSING is None:
        return
    skipped = sum(1 for report in terminalreporter.stats.get("skipped", []) if _engine_skip(report))
    counted = f"; {skipped} tests of durable_rules, or comparing it with the interpreter, skipped" if skipped else ""
    terminalreporter.write_line(f"Engines: the interpreter only{counted}. Why: {DURABLE_MISSING}", yellow=True)


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
    """The engines that run on this Python, by name."""
    return {name: Evaluator(ruleset, make_engine(name, ruleset)) for name in AVAILABLE_ENGINES}


@pytest.fixture(scope="session")
def both_engines(evaluators):
    """Both engines, for the tests that compare them; a skip where only one runs."""
    require_engine("durable_rules")
    return evaluators


@pytest.fixture(scope="session", params=ENGINE_NAMES)
def evaluator(request, evaluators):
    """Each engine in turn (the durable_rules half skips where it cannot run)."""
    require_engine(request.param)
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


CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_post(client, data=None, files=None, path="/ui/evaluate", **kwargs):
    """A form post as a browser makes it: the page first (its session cookie and CSRF token)."""
    token = CSRF_TOKEN.search(client.get("/ui").text).group(1)
    return client.post(path, data={**(data or {}), "csrf_token": token}, files=files, **kwargs)
