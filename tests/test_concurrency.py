"""Many threads, thousands of evaluations, on each engine: no crash, no cross-talk.

Each thread evaluates its own mix of profiles and compares every answer with the answer the
same engine gave single-threaded for that exact profile."""

import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import profile
from strategies import profiles
from test_engine_differential import comparable

THREADS = 8
PER_THREAD = 300  # 2,400 evaluations per engine


@pytest.fixture(scope="module")
def corpus():
    collected = []

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=profiles)
    def gather(data):
        collected.append(profile(data))

    gather()
    return collected


def test_threads_get_their_own_answers(evaluator, corpus):
    expected = [comparable(evaluator.evaluate(p)) for p in corpus]
    assert len({str(e["findings"]) for e in expected}) > 10, "corpus too uniform to detect cross-talk"
    errors: list[str] = []
    done = [0] * THREADS

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            for _ in range(PER_THREAD):
                i = rng.randrange(len(corpus))
                if comparable(evaluator.evaluate(corpus[i])) != expected[i]:
                    errors.append(f"thread {n}: wrong answer for profile {i}")
                done[n] += 1
        except Exception as exc:  # a crash in a thread must fail the test, not vanish
            errors.append(f"thread {n}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(done) == THREADS * PER_THREAD
