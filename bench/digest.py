"""A fingerprint of every decision on the bench corpus, to show that a change kept the answers.

    python -m bench.digest                       # sha256 per engine
    python -m bench.digest --write before.jsonl  # also the decisions, one JSON line each, to diff

Each profile of the varied corpus (bench/run.py: every fixture plus generated profiles, the same
1,000 every run) is validated and evaluated, and the decision is encoded as the API encodes it —
without ``decision_id`` and ``evaluated_at``, which differ on every call. Run it before and after a
change that should not alter any answer: the hashes must be equal. (A change to the ruleset, the
decision's shape or the corpus changes them, as it should.)
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from bench.run import corpus
from engine import ENGINES, Evaluator, Profile, load_ruleset, make_engine

VOLATILE = {"decision_id", "evaluated_at"}


def decisions(engine: str, raw: list[dict], ruleset=None):
    """The encoded decisions, in corpus order (bytes, without the volatile fields)."""
    ruleset = ruleset or load_ruleset()
    evaluator = Evaluator(ruleset, make_engine(engine, ruleset))
    try:
        for data in raw:
            yield evaluator.evaluate(Profile.model_validate(data)).model_dump_json(exclude=VOLATILE).encode()
    finally:
        close = getattr(evaluator.engine, "close", None)
        if close:
            close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=ENGINES, action="append", help="default: every engine")
    parser.add_argument("--write", type=Path, help="also write the decisions of the first engine, one JSON line each")
    args = parser.parse_args()
    raw = corpus()
    ruleset = load_ruleset()
    for i, engine in enumerate(args.engine or ENGINES):
        digest = hashlib.sha256()
        out = args.write.open("wb") if args.write and i == 0 else None
        for line in decisions(engine, raw, ruleset):
            digest.update(line + b"\n")
            if out:
                out.write(line + b"\n")
        if out:
            out.close()
        print(f"{engine:<14} {len(raw):,} decisions  sha256:{digest.hexdigest()}")


if __name__ == "__main__":
    main()
