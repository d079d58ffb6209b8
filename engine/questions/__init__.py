"""Questions, not pointers: what PeerCheck asks a program, in plain words, most valuable first.

* ``catalog`` — every question, generated from the profile schema and the rules that read each
  field (``GET /v1/questionnaire``);
* ``ranking`` — the rules waiting on each open question and its value (``SEVERITY_WEIGHTS``);
  every decision's ``questions`` is built here;
* ``draft`` — reading a profile in progress leniently: problems named, missing required answers
  turned into questions;
* ``interview`` — the next questions for a draft (``POST /v1/questionnaire/next``).

This package never imports ``engine.evaluate`` at run time (evaluate imports it): the interview
is given the evaluator.
"""

from engine.questions.catalog import QuestionCatalog
from engine.questions.draft import Draft, read_draft
from engine.questions.interview import Interview
from engine.questions.models import (
    AnswerSpec,
    DraftProblem,
    NextQuestion,
    NextQuestions,
    OpenQuestion,
    Progress,
    QuestionDef,
    Questionnaire,
    WaitingRule,
)
from engine.questions.ranking import SEVERITY_WEIGHTS, Ranker, heading, peer_name, why

__all__ = [
    "AnswerSpec", "Draft", "DraftProblem", "Interview", "NextQuestion", "NextQuestions", "OpenQuestion", "Progress",
    "QuestionCatalog", "QuestionDef", "Questionnaire", "Ranker", "SEVERITY_WEIGHTS", "WaitingRule", "heading",
    "peer_name", "read_draft", "why",
]
