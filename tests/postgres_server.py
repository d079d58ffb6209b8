"""A throwaway PostgreSQL server for the decision-log tests, when this machine has one.

``PEERCHECK_TEST_DATABASE_URL`` wins when set. Otherwise, if PostgreSQL's server binaries are
installed (Debian: /usr/lib/postgresql/<version>/bin) and psycopg imports, a cluster is created
in a temporary folder, started on a free loopback port, and removed afterwards. PostgreSQL
refuses to run as root, so under root the cluster belongs to the ``postgres`` system user.
When none of that is possible the caller skips, saying why.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from typing import Iterator


class Unavailable(Exception):
    """No PostgreSQL to test against here; the message says why."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Yield a ``postgresql://`` URL of an empty database; raise ``Unavailable`` if there is none."""
    if os.environ.get("PEERCHECK_TEST_DATABASE_URL"):
        yield os.environ["PEERCHECK_TEST_DATABASE_URL"]
        return
    try:
        import psycopg
    except ImportError:
        raise Unavailable("psycopg is not installed (the postgres extra)") from None
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        raise Unavailable("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin); "
                          "or set PEERCHECK_TEST_DATABASE_URL=postgresql://…")
    bin_dir = os.path.dirname(binaries[-1])
    as_user: list[str] = []
    folder = tempfile.mkdtemp(prefix="peercheck-pg-")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            raise Unavailable("running as root and there is no 'postgres' user to run the server") from None
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(folder, "data"), _free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise Unavailable(f"{os.path.basename(command[0])} failed: {done.stderr.strip()[-300:]}")

    started = False
    try:
        run(f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(folder, "server.log"), "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        started = True
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE peercheck_test")
        yield f"postgresql://postgres@127.0.0.1:{port}/peercheck_test"
    finally:
        if started:
            subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
