"""One peer engine in its own process, for a version that cannot share the harness's virtualenv
(GoRules ZEN 0.37.x and the current zen-engine are the same package).

    <venv>/bin/python -m bench.peers.worker DRIVER CORPUS_JSON

It prints one JSON line when ready (``{"name": ..., "version": ...}`` or ``{"unavailable": why}``),
then answers one JSON line per command read from standard input:

* ``outcomes`` — every profile's outcomes, in the common form (``engines.py``);
* ``constants`` — the catalog data in the rule source;
* ``time matching`` / ``time decision`` — seconds for one pass over the corpus, timed here so the
  pipe is not counted;
* ``quit``.

The harness sends the timing commands in turn with its own measurements, so the worker's runs
are interleaved with everyone else's.
"""

from __future__ import annotations

import json
import sys
import time

from bench.peers.engines import DRIVERS, Unavailable


def main() -> None:
    name, corpus_path = sys.argv[1], sys.argv[2]
    try:
        driver = DRIVERS[name]()
    except Unavailable as exc:
        print(json.dumps({"unavailable": str(exc)}), flush=True)
        return
    with open(corpus_path) as handle:
        corpus = json.load(handle)
    print(json.dumps({"name": driver.name, "version": driver.version}), flush=True)
    passes = {"matching": driver.evaluate, "decision": driver.decision}
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        if command[0] == "outcomes":
            answer: object = [driver.outcomes(driver.evaluate(raw)) for raw in corpus]
        elif command[0] == "constants":
            answer = driver.constants()
        elif command[0] == "time":
            run = passes[command[1]]
            started = time.perf_counter()
            for raw in corpus:
                run(raw)
            answer = time.perf_counter() - started
        else:
            answer = {"error": f"unknown command {line.strip()!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
