"""Property-based contract test: schemathesis generates requests from the committed openapi.yaml
and sends them to the app in-process (ASGI, no network). Bounded: a few dozen examples per
operation. Every answer must be a non-5xx, with a documented status code and content type, and
a body that matches the documented schema (problem details for errors)."""

import os
import tempfile

import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import ROOT

# `make fuzz` raises this (PEERCHECK_FUZZ_EXAMPLES=800: about 10,000 requests over the operations).
MAX_EXAMPLES = int(os.environ.get("PEERCHECK_FUZZ_EXAMPLES", "25"))
SENT = {"requests": 0, "server_errors": 0}


def _app():
    from api.main import create_app
    from api.settings import Settings

    return create_app(Settings(data_dir=tempfile.mkdtemp(prefix="peercheck-schemathesis-"), log_level="WARNING"))


schema = schemathesis.openapi.from_dict(yaml.safe_load((ROOT / "openapi.yaml").read_text()))
schema.app = _app()  # in-process ASGI calls; the decision log opens on first write
schema.config.generation.update(max_examples=MAX_EXAMPLES)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_contract(case):
    SENT["requests"] += 1
    case.call_and_validate(checks=CHECKS)


def test_report_how_many_requests_were_sent():
    """Runs last in this file: writes the count to test-output/ (make fuzz prints it)."""
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "fuzz-requests.txt").write_text(f"{SENT['requests']} requests, max_examples={MAX_EXAMPLES}\n")
    assert SENT["requests"] > 0
