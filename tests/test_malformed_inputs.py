"""Every malformed input gets its 4xx (exit 2 on the command line), on every entry point, and
nothing is half-written: the API, the page's form posts and uploads, and the CLI's evaluate,
validate and batch (files and JSON Lines)."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from conftest import BASE_PROFILE, page_post

PROFILE = json.dumps(BASE_PROFILE)
HEAD = PROFILE[:-1]  # the profile without its closing brace, to add one more field

MALFORMED: dict[str, bytes] = {
    "integer beyond the digit limit": (HEAD + ', "x": ' + "1" * 5000 + "}").encode(),
    "negative integer beyond the digit limit": (HEAD + ', "n": -' + "9" * 4400 + "}").encode(),
    "lone surrogate next to a wrapped profile": ('{"case": "\\ud800", "profile": ' + PROFILE + "}").encode(),
    "lone low surrogate in a name": PROFILE.replace('"program": {"name": "', '"program": {"name": "\\udc00', 1).encode(),
    "NaN": PROFILE.replace('"fte": 1.0', '"fte": NaN', 1).encode(),
    "Infinity": PROFILE.replace('"fte": 1.0', '"fte": Infinity', 1).encode(),
    "-Infinity": PROFILE.replace('"fte": 1.0', '"fte": -Infinity', 1).encode(),
    "number too large to be finite": PROFILE.replace('"fte": 1.0', '"fte": 1e999', 1).encode(),
    "invalid UTF-8": PROFILE.replace('"program": {"name": "', '"program": {"name": "\xff', 1).encode("latin-1"),
    "UTF-16": PROFILE.encode("utf-16"),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep nesting inside a field": (HEAD + ', "x": ' + "[" * 5000 + "]" * 5000 + "}").encode(),
    "duplicate key": (HEAD + ', "peers": []}').encode(),
    "syntax error": PROFILE[:-1].encode(),
    "empty": b"",
    "not an object": b"[1, 2, 3]",
}
assert '"fte": 1.0' in PROFILE and '"program": {"name": "' in PROFILE


@pytest.mark.parametrize("path", ["/v1/evaluations", "/v1/reports", "/v1/evaluations:compare",
                                  "/v1/evaluations:batch", "/cds-services/peercheck-program-review"])
@pytest.mark.parametrize("name", list(MALFORMED))
def test_api_answers_4xx(client, path, name):
    body = MALFORMED[name]
    if name == "not an object" or name == "empty":
        pass
    elif path.endswith(":compare"):
        body = b'{"before": ' + body + b', "after": ' + PROFILE.encode() + b"}"
    elif path.endswith(":batch"):
        body = b'{"items": [' + body + b"]}"
    elif path.startswith("/cds-services"):
        body = b'{"hook": "peercheck-program-review", "hookInstance": "h", "context": {"profile": ' + body + b"}}"
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    if name == "empty":  # FastAPI: a required body is missing
        assert response.status_code == 422
        return
    if path.endswith(":batch") and name in ("not an object",):
        assert response.status_code == 422
        return
    assert response.status_code == 422, response.text[:300]
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["errors"] and all(e["detail"] and e["field"] for e in problem["errors"])
    assert problem["error_count"] >= len(problem["errors"])


@pytest.mark.parametrize("name", list(MALFORMED))
@pytest.mark.parametrize("how", ["text box", "upload"])
def test_page_answers_422_and_records_nothing(client, monkeypatch, name, how):
    from api.routes import pages

    recorded = []
    monkeypatch.setattr(pages, "record", lambda *args, **kwargs: recorded.append(args))
    body = MALFORMED[name]
    if how == "upload":
        response = page_post(client, files={"profile_file": ("p.json", body, "application/json")})
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pytest.skip("a browser sends the text box as UTF-8")
        response = page_post(client, data={"profile_json": text})
    assert response.status_code == 422, response.text[-500:]
    assert 'class="problems"' in response.text and recorded == []


def test_the_page_records_only_after_it_has_rendered(tmp_path, monkeypatch):
    """A page that cannot be rendered leaves no decision behind (and the 500, a page, says nothing was stored)."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.routes import pages
    from api.settings import Settings

    recorded = []
    monkeypatch.setattr(pages, "record", lambda *args, **kwargs: recorded.append(args))
    original = pages._render

    def failing(request, *args, ctx=None, **kwargs):
        if ctx is not None:
            raise RuntimeError("rendering failed")
        return original(request, *args, ctx=ctx, **kwargs)

    with TestClient(create_app(Settings(data_dir=tmp_path)), raise_server_exceptions=False) as client:
        monkeypatch.setattr(pages, "_render", failing)
        response = page_post(client, data={"profile_json": PROFILE})
        assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
        assert "nothing was stored" in response.text  # a page for people: the page's own address
        assert recorded == []
        monkeypatch.setattr(pages, "_render", original)
        assert page_post(client, data={"profile_json": PROFILE}).status_code == 200 and len(recorded) == 1


@pytest.mark.parametrize("name", list(MALFORMED))
@pytest.mark.parametrize("command", ["evaluate", "validate"])
def test_cli_exits_2_without_a_traceback(capsys, tmp_path, name, command):
    path = tmp_path / "profile.json"
    path.write_bytes(MALFORMED[name])
    code = main([command, str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err and "invalid profile" in err and out == ""


@pytest.mark.parametrize("name", list(MALFORMED))
def test_cli_batch_files_and_json_lines(capsys, tmp_path, name):
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "good.json").write_text(PROFILE)
    (folder / "bad.json").write_bytes(MALFORMED[name])
    code = main(["batch", str(folder), "--format", "json"])
    out, err = capsys.readouterr()
    body = json.loads(out)
    assert code == 2 and "Traceback" not in err
    assert body["summary"]["evaluated"] == 1 and body["summary"]["invalid"] == 1
    if b"\n" in MALFORMED[name] or not MALFORMED[name]:
        return  # one document per line: a multi-line or empty document is not one JSON Lines item
    lines = tmp_path / "profiles.jsonl"
    lines.write_bytes(PROFILE.encode() + b"\n" + MALFORMED[name] + b"\n" + PROFILE.encode() + b"\n")
    code = main(["batch", str(lines), "--format", "json"])
    out, err = capsys.readouterr()
    body = json.loads(out)
    assert code == 2 and "Traceback" not in err
    assert body["summary"]["evaluated"] == 2 and [i["source"] for i in body["items"] if not i["ok"]] == ["profiles.jsonl:2"]


def test_an_over_long_integer_is_named_by_its_field(capsys, tmp_path):
    path = tmp_path / "digits.json"
    path.write_bytes(PROFILE.replace('"fte": 1.0', '"fte": ' + "1" * 5000, 1).encode())
    assert main(["validate", str(path)]) == 2
    assert "Peer 1 › Full-time equivalent (FTE): is a number of 5,000 digits" in capsys.readouterr().err


def test_cli_reports_the_line_and_column_of_a_syntax_error(capsys, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"schema_version": "1.1",\n "program": {"name": "P" "state": "OH"},\n "peers": []}')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "(line 2, column 26)" in err
    assert ' "program": {"name": "P" "state": "OH"},' in err  # the offending line, quoted
    assert "\n" + " " * 4 + " " * 25 + "^" in err  # and a caret under the column


def test_cli_unexpected_failures_exit_3_without_a_traceback(capsys, tmp_path, monkeypatch):
    import cli.evaluate

    def broken(*args, **kwargs):
        raise RuntimeError("secret profile content")

    monkeypatch.setattr(cli.evaluate, "load_profile", broken)  # what every command reads a profile file with
    path = tmp_path / "p.json"
    path.write_text(PROFILE)
    assert main(["evaluate", str(path)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "secret" not in err and "RuntimeError" in err


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "GZIP"])
def test_compressed_bodies_are_415(client, encoding):
    response = client.post("/v1/evaluations", content=PROFILE.encode(),
                           headers={"content-type": "application/json", "content-encoding": encoding})
    assert response.status_code == 415 and "uncompressed" in response.json()["detail"]
    page = page_post(client, data={"profile_json": PROFILE}, headers={"content-encoding": encoding})
    assert page.status_code == 415


def test_identity_encoding_is_accepted(client):
    response = client.post("/v1/evaluations", content=PROFILE.encode(),
                           headers={"content-type": "application/json", "content-encoding": "identity"})
    assert response.status_code == 200
