"""Where a single evaluation runs: on the event loop when the profile is small, in the thread
pool when it is large.

A typical profile (a few peers) evaluates in 0.1–0.5 ms, less than the hop to the thread pool
costs, so ``POST /v1/evaluations`` and the CDS service run it on the loop. A profile may list up
to 500 peers (~60 ms of evaluation): run there, it would hold every other request, health checks
included. Above ``LOOP_MAX_PEERS`` the evaluation goes to the thread pool, where the interpreter
hands the GIL over every few milliseconds and the loop keeps serving.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from starlette.concurrency import run_in_threadpool

from engine import Profile

T = TypeVar("T")
LOOP_MAX_PEERS = 20  # ~2 ms of evaluation at most on the loop (10 peers: ~1 ms here)


async def run_nearby(profile: Profile, work: Callable[..., T], *args) -> T:
    """``work(*args)`` — an evaluation or an explanation of ``profile`` — on the loop when the
    profile is small, in the thread pool when it is large."""
    if len(profile.peers) <= LOOP_MAX_PEERS:
        return work(*args)
    return await run_in_threadpool(work, *args)
