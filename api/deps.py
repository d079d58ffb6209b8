"""Dependencies the routes receive: the loaded service, nothing global."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.settings import Settings
from api.stored import RulesetTexts
from decisionlog import DecisionLog
from decisionlog.group_commit import GroupCommit
from engine import Evaluator, Ruleset


@dataclass(frozen=True)
class Service:
    settings: Settings
    ruleset: Ruleset
    evaluator: Evaluator
    decision_log: DecisionLog | None = None  # None when the decision log is disabled
    decision_writer: GroupCommit | None = None  # writes to decision_log; None with it
    texts: RulesetTexts | None = None  # the rule texts stored decisions are rendered with


async def get_service(request: Request) -> Service:
    return request.app.state.service
