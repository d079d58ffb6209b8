"""A short load run against a real uvicorn server: 8 clients, 2,000 evaluations of varied
profiles, every answer checked against the reference for that exact profile.
(`python -m bench.load` runs the long version: 16 clients, 100,000 evaluations.)"""

from bench.load import drive, free_port, reference_answers, start_server, varied_profiles


def test_concurrent_clients_get_their_own_answers():
    profiles = varied_profiles(200)
    expected = reference_answers(profiles)
    assert len({str(e["findings"]) for e in expected}) > 20, "profiles too uniform to catch cross-talk"
    port = free_port()
    server = start_server(port)
    try:
        result = drive(f"http://127.0.0.1:{port}", profiles, expected, clients=8, total=2000, pid=server.pid, warmup=400)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.requests == 2000
    assert result.server_errors == 0
    assert result.other_errors == []
    assert result.cross_talk == 0
