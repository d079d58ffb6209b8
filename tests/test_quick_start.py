"""The README's Quick start, as a newcomer meets it: a fresh clone of this repository's HEAD, on
the newest supported Python, `make run` with nothing installed beforehand, then the Quick start's
commands exactly as printed (only the port differs: the test picks a free one).

What it checks is committed work: uncommitted changes are not in the clone. The first run on a
machine downloads the serving dependencies (pip's cache makes later runs quicker). Where that
Python is not installed, or the work tree is not a git checkout, the test skips and says so.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time

import httpx
import pytest

from bench.load import free_port
from conftest import ROOT

NEWEST_PYTHON = "python3.13"  # the newest Python PeerCheck supports (requires-python >= 3.11)
START_SECONDS = 600  # a fresh virtualenv: pip, the serving dependencies, the ruleset


def _newest_python() -> str:
    resolved = subprocess.run(["make", "-s", "which-python", f"PYTHON={NEWEST_PYTHON}"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
    if not resolved:
        pytest.skip(f"{NEWEST_PYTHON} is not installed here: the Quick start from a fresh clone is checked "
                    "on the newest supported Python only")
    return resolved


# make passes its command-line variables (make test VENV=.venv313) to what it runs as environment
# variables; a newcomer's shell has none of them.
MAKE_VARIABLES = {"PYTHON", "VENV", "PORT", "HOST"}


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without the test run's own settings and virtualenv: a newcomer's shell."""
    drop = ("PEERCHECK_", "VIRTUAL_ENV", "PYTHONPATH", "DATABASE_URL", "PYTEST_", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k not in MAKE_VARIABLES}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT / ".venv")))
    return {**env, **extra}


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory):
    """`make run` in a fresh clone on the newest Python; yields (clone folder, port)."""
    python = _newest_python()
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path_factory.mktemp("fresh") / "peercheck"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True, timeout=120)
    port = free_port()
    log = clone.parent / "make-run.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(["make", "run", f"PYTHON={python}", f"PORT={port}"], cwd=clone,
                                  env=_clean_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"make run exited ({server.returncode}) in a fresh clone:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"make run did not serve within {START_SECONDS} s:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield clone, port
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # make and the uvicorn it started: this test's own group
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def quick_start_blocks(readme: str) -> list[str]:
    """The shell blocks of the README's Quick start section, in order."""
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_make_run_from_a_fresh_clone_serves_with_only_what_serving_needs(fresh_clone):
    clone, port = fresh_clone
    base = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{base}/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["engine"] == "interpreter"
    home = httpx.get(f"{base}/", timeout=10)
    assert home.status_code == 200 and 'href="/ui"' in home.text
    decision = httpx.post(f"{base}/v1/evaluations", content=(clone / "fixtures/base.json").read_bytes(),
                          headers={"content-type": "application/json"}, timeout=30).json()
    assert decision["summary"]["status"] == "pass"
    venv_python = clone / ".venv" / "bin" / "python"
    version = subprocess.run([venv_python, "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout
    assert version.strip() == str(tuple(int(n) for n in NEWEST_PYTHON.removeprefix("python").split(".")))
    assert subprocess.run([venv_python, "-c", "import pytest"], capture_output=True).returncode != 0, \
        "make run installed the test tools"


def test_the_quick_start_commands_run_as_printed(fresh_clone):
    clone, port = fresh_clone
    blocks = quick_start_blocks((clone / "README.md").read_text())
    assert len(blocks) >= 3 and blocks[0].lstrip().startswith("make run")
    missing = [tool for tool in ("curl", "jq") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: the Quick start's examples need them")
    printed = ""
    for block in blocks[1:]:
        script = block.replace("localhost:8000", f"localhost:{port}").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=clone, env=_clean_env(COLUMNS="100"),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{block}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert result.stdout.strip(), block
        assert "Traceback" not in result.stderr and "command not found" not in result.stderr, result.stderr
        printed += result.stdout
    assert '"status": "pass"' in printed and '"needs_attention"' in printed  # the two profiles' answers
    assert "Needs attention" in printed  # the peercheck command's summary
