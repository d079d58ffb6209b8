"""The evaluator the CLI uses, built from the same settings as the API (``PEERCHECK_*``
environment variables: rules directory, operator overrides, engine), so a profile gets the same
answer on the command line as over HTTP."""

from __future__ import annotations

from rich.console import Console

from api.settings import load_settings
from engine import Evaluator, LoadError, load_ruleset, make_engine


def build_evaluator(engine: str | None = None) -> Evaluator:
    """Load the ruleset (all-or-nothing; raises LoadError) and the chosen engine (ImportError
    when durable_rules is not installed on this Python)."""
    settings = load_settings()
    ruleset = load_ruleset(settings.rules_dir, overrides_file=settings.overrides_file)
    return Evaluator(ruleset, make_engine(engine or settings.engine, ruleset))


def evaluator_or_report(engine: str | None, err: Console) -> Evaluator | None:
    """The evaluator, or None after telling the user on ``err`` why PeerCheck could not start
    (bad rule data, durable_rules missing, unknown engine); callers then exit with FAILED."""
    try:
        return build_evaluator(engine)
    except (LoadError, ImportError, ValueError) as exc:
        err.print(f"PeerCheck could not start: {exc}", markup=False)
        return None
