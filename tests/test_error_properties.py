"""Properties of errors, over generated malformed input: no POST route ever answers 5xx, and
every problem's pointer exists in what was sent — or names a required field that is missing,
in an object that exists."""

from __future__ import annotations

import copy
import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonpointer import JsonPointer, JsonPointerException

from api.main import create_app
from api.settings import Settings
from conftest import BASE_PROFILE, page_post
from engine.fields import model_fields
from engine.profile import Peer, Policies, Program, Supervision

FIELD_NAMES = sorted({*model_fields(Program), *model_fields(Peer), *model_fields(Supervision), *model_fields(Policies),
                      "caseload", "State", "dutie", "peer"})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**6, max_value=10**6)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["OH", "Ohio", "yes", "24", "", "drug_test", "medicaid", "1.0", "/peers/9"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def pointers(doc, base: str = "") -> list[str]:
    out = [base]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += pointers(value, f"{base}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += pointers(value, f"{base}/{i}")
    return out


@st.composite
def mutated_profiles(draw):
    """The base profile with one to three changes: a value replaced, a field removed, a key added."""
    doc = copy.deepcopy(BASE_PROFILE)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = draw(st.sampled_from(pointers(doc)))
        op = draw(st.sampled_from(["replace", "remove", "add"]))
        target = JsonPointer(where) if where else None
        value = draw(json_values)
        if target is None:
            if op == "replace":
                doc = value
            continue
        parent = JsonPointer("/" + "/".join(target.parts[:-1]) if len(target.parts) > 1 else "").resolve(doc)
        last = target.parts[-1]
        if isinstance(parent, list):
            last = int(last)
        if op == "replace":
            parent[last] = value
        elif op == "remove":
            del parent[last]
        else:
            child = parent[last]
            if isinstance(child, dict):
                child[draw(st.sampled_from(FIELD_NAMES) | st.text(min_size=1, max_size=8))] = value
            elif isinstance(child, list):
                child.append(value)
    return doc


def raw_bodies():
    text = json.dumps(BASE_PROFILE)
    return st.one_of(
        st.binary(max_size=64),
        st.integers(min_value=0, max_value=len(text)).map(lambda n: text[:n].encode()),
        st.tuples(st.integers(min_value=0, max_value=len(text)), st.text(max_size=4)).map(
            lambda t: (text[:t[0]] + t[1] + text[t[0]:]).encode("utf-8", "surrogatepass")),
    )


ROUTES = {
    "/v1/evaluations": lambda doc: doc,
    "/v1/reports": lambda doc: doc,
    "/v1/evaluations:compare": lambda doc: {"before": doc, "after": BASE_PROFILE},
    "/v1/evaluations:batch": lambda doc: {"items": [BASE_PROFILE, doc]},
    "/cds-services/peercheck-program-review": lambda doc: {"hook": "peercheck-program-review", "hookInstance": "h",
                                                           "context": {"profile": doc}},
}


@pytest.fixture(scope="module")
def quiet(tmp_path_factory):
    with TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("properties"))),
                    raise_server_exceptions=False) as client:
        yield client


def resolves(doc, pointer: str) -> bool:
    try:
        JsonPointer(pointer).resolve(doc)
        return True
    except (JsonPointerException, TypeError, ValueError):
        return False


def check_pointers(errors: list[dict], doc) -> None:
    for error in errors:
        pointer = error.get("pointer")
        if pointer is None:
            assert error.get("parameter"), error
            continue
        if resolves(doc, pointer):
            continue
        parent = pointer.rsplit("/", 1)[0]
        assert error.get("code") == "missing" and resolves(doc, parent), (error, doc)


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])


@SETTINGS
@given(doc=mutated_profiles(), route=st.sampled_from(list(ROUTES)))
def test_malformed_profiles_never_5xx_and_pointers_exist(quiet, doc, route):
    sent = ROUTES[route](doc)
    response = quiet.post(route, json=sent)
    assert response.status_code < 500, response.text[:500]
    if response.status_code == 422:
        problem = response.json()
        assert problem["errors"] and problem["error_count"] >= len(problem["errors"])
        check_pointers(problem["errors"], sent)
    elif route.endswith(":batch") and response.status_code == 200:
        for result in response.json()["results"]:
            if result["error"]:
                check_pointers(result["error"]["errors"], sent["items"][result["index"]])


@SETTINGS
@given(body=raw_bodies(), route=st.sampled_from([*ROUTES, "/ui/evaluate"]))
def test_malformed_bytes_never_5xx(quiet, body, route):
    if route == "/ui/evaluate":
        response = quiet.post(route, files={"profile_file": ("p.json", body, "application/json")})
    else:
        response = quiet.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text[:500]


@SETTINGS
@given(doc=mutated_profiles())
def test_the_page_never_5xx(quiet, doc):
    response = page_post(quiet, data={"profile_json": json.dumps(doc)})
    assert response.status_code in (200, 422)
