"""PeerCheck's decision engine: profiles, rules, facts and the two engines that match them.

The public surface is small::

    ruleset = load_ruleset()                 # all-or-nothing; LoadError names the bad file
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    decision = evaluator.evaluate(Profile.model_validate(data))

This package never imports the HTTP layer (``api``).
"""

from engine.catalog import LoadError
from engine.evaluate import Decision, Evaluator, Finding
from engine.profile import SCHEMA_VERSION, Profile
from engine.ruleset import Ruleset, load_ruleset

ENGINES = ("interpreter", "durable_rules")


def make_engine(name: str, ruleset: Ruleset):
    """Build the named engine over the ruleset's conditions."""
    if name == "interpreter":
        from engine.interpreter import Interpreter

        return Interpreter(ruleset.engine_rules())
    if name == "durable_rules":
        from engine.durable_engine import DurableEngine

        return DurableEngine(ruleset.engine_rules())
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")


__all__ = [
    "Decision", "ENGINES", "Evaluator", "Finding", "LoadError", "Profile", "Ruleset",
    "SCHEMA_VERSION", "load_ruleset", "make_engine",
]
