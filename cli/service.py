"""The evaluator the CLI uses, built from the same settings as the API (``PEERCHECK_*``
environment variables: rules directory, operator overrides, engine), so a profile gets the same
answer on the command line as over HTTP."""

from __future__ import annotations

from api.settings import Settings
from engine import Evaluator, load_ruleset, make_engine


def build_evaluator(engine: str | None = None) -> Evaluator:
    """Load the ruleset (all-or-nothing; raises LoadError) and the chosen engine (ImportError
    when durable_rules is not installed on this Python)."""
    settings = Settings()
    ruleset = load_ruleset(settings.rules_dir, overrides_file=settings.overrides_file)
    return Evaluator(ruleset, make_engine(engine or settings.engine, ruleset))
