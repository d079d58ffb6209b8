"""Limits per client: X-Forwarded-For believed only from configured proxies, failed
authentications limited per address, and counters shared by the worker processes."""

import os

import httpx
import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.forwarding import UNVERIFIED, TrustedProxies, client_address
from api.guards import hash_key
from api.main import create_app
from api.settings import ApiKey, Settings
from bench.load import free_port, start_server

KEYS = [ApiKey(id="portal", sha256=hash_key("portal-secret"), scopes=["read", "evaluate"])]
GOOD = {"x-api-key": "portal-secret"}


def xff(address: str) -> dict:
    return {"x-forwarded-for": address}


# ---------------------------------------------------------------- which address counts


@pytest.mark.parametrize("peer,header,trusted,expected", [
    ("198.51.100.1", [], "", "198.51.100.1"),
    ("198.51.100.1", ["203.0.113.5"], "", "198.51.100.1"),              # nobody trusted: header ignored
    ("203.0.113.5", ["203.0.113.5"], "", UNVERIFIED),                   # the server already swapped it in
    ("10.0.0.2", ["203.0.113.5"], "10.0.0.0/8", "203.0.113.5"),         # from a trusted proxy
    ("10.0.0.2", ["203.0.113.5", "10.0.0.7"], "10.0.0.0/8", "203.0.113.5"),  # right-most untrusted
    ("10.0.0.2", ["6.6.6.6", "203.0.113.5"], "10.0.0.0/8", "203.0.113.5"),   # a forged left part is ignored
    ("198.51.100.1", ["203.0.113.5"], "10.0.0.0/8", "198.51.100.1"),    # an untrusted peer's header is ignored
    ("10.0.0.2", ["[2001:db8::1]:443"], "10.0.0.2", "2001:db8::1"),
    ("10.0.0.2", ["203.0.113.5:5000"], "*", "203.0.113.5"),
])
def test_client_address(peer, header, trusted, expected):
    assert client_address(peer, header, TrustedProxies.parse(trusted)) == expected


def statuses(client, headers_list) -> list[int]:
    return [client.get("/v1/rules", headers=h).status_code for h in headers_list]


def test_by_default_a_forwarded_header_buys_no_fresh_limit(tmp_path):
    """As ``make run`` serves it: uvicorn, by default, swaps in X-Forwarded-For from a local peer.
    PeerCheck trusts no proxy unless told, so each forged address still counts as one client."""
    app = create_app(Settings(data_dir=tmp_path, rate_limit="3/minute"))
    client = TestClient(ProxyHeadersMiddleware(app, trusted_hosts="testclient"))
    assert statuses(client, [xff(f"203.0.113.{i}") for i in range(5)]) == [200, 200, 200, 429, 429]


def test_a_configured_proxy_is_believed(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, rate_limit="3/minute", forwarded_allow_ips="testclient, 10.0.0.0/8"))
    client = TestClient(app)
    assert statuses(client, [xff(f"203.0.113.{i}") for i in range(6)]) == [200] * 6  # six clients
    assert statuses(client, [xff("198.51.100.7, 10.0.0.3")] * 4) == [200, 200, 200, 429]  # one client, 2 proxies


def test_forwarded_allow_ips_is_read_from_uvicorns_variable(monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1")
    assert Settings().forwarded_allow_ips == "10.0.0.1"


def test_the_make_run_server_is_not_fooled_by_forwarded_headers(tmp_path):
    """The real server, started as ``make run`` starts it, from 127.0.0.1 (which uvicorn trusts)."""
    port = free_port()
    env = {"PEERCHECK_DATA_DIR": str(tmp_path), "PEERCHECK_RATE_LIMIT": "3/minute", "FORWARDED_ALLOW_IPS": ""}
    if "FORWARDED_ALLOW_IPS" in os.environ:
        pytest.skip("FORWARDED_ALLOW_IPS is set in this environment")
    del env["FORWARDED_ALLOW_IPS"]
    server = start_server(port, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            got = [http.get("/v1/rules", headers=xff(f"203.0.113.{i}")).status_code for i in range(6)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert 429 in got and got.count(200) <= 3 + 1  # /healthz probes do not count; the start-up probe may race


# ---------------------------------------------------------------- failed authentications


def test_failed_authentications_are_limited_per_address(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEYS, auth_failure_limit="3/minute"))
    attacker = TestClient(app, client=("198.51.100.66", 1234))
    neighbour = TestClient(app, client=("198.51.100.67", 1234))
    wrong = [{"x-api-key": f"guess-{i}"} for i in range(5)]
    assert statuses(attacker, wrong) == [401, 401, 401, 429, 429]
    limited = attacker.get("/v1/rules", headers=GOOD)  # even the right key waits: keys are not tested meanwhile
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert "failed authentications" in limited.json()["detail"]
    assert statuses(neighbour, [GOOD, wrong[0]]) == [200, 401]  # another address has its own count
    assert attacker.get("/healthz").status_code == 200  # health checks stay open


def test_successful_requests_do_not_count_as_failures(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEYS, auth_failure_limit="2/minute"))
    client = TestClient(app)
    assert statuses(client, [GOOD] * 10) == [200] * 10


# ---------------------------------------------------------------- shared by worker processes


def test_limits_hold_across_workers(tmp_path):
    """Two apps over one data directory stand for two uvicorn workers on one machine."""
    settings = Settings(data_dir=tmp_path, api_keys=KEYS, rate_limit="4/minute", auth_failure_limit="3/minute")
    one = TestClient(create_app(settings), client=("198.51.100.1", 1))
    two = TestClient(create_app(settings), client=("198.51.100.1", 2))
    allowed = [c.get("/v1/rules", headers=GOOD).status_code for c in (one, two) * 4]
    assert allowed == [200] * 4 + [429] * 4  # not 4 per worker
    # failed authentications from another address, alternating between the two workers
    other_one, other_two = (TestClient(c.app, client=("198.51.100.2", 3)) for c in (one, two))
    failures = [c.get("/v1/rules", headers={"x-api-key": "wrong"}).status_code for c in (other_one, other_two) * 2]
    assert failures == [401, 401, 401, 429]


def test_an_unusable_counter_file_falls_back_to_per_process_limits(tmp_path, capfd):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data directory should be")
    client = TestClient(create_app(Settings(data_dir=blocker / "data", rate_limit="2/minute")))
    capfd.readouterr()
    assert statuses(client, [{}] * 3) == [200, 200, 429]
    logged = capfd.readouterr().err
    assert '"event": "rate_limit_store_unavailable"' in logged
