"""Questionnaire routes: the questions PeerCheck asks, and the next ones for a profile in progress.

Stateless: the caller (a form, a portal, ``peercheck interview``) keeps the draft and sends it
whole each time. Nothing is recorded in the decision log — a draft is not a decision.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Service, get_service
from api.evaluating import LOOP_MAX_PEERS
from api.logs import log
from api.problems import responses
from api.responses import model_response
from engine.questions import Interview, NextQuestions, Questionnaire
from engine.questions.interview import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["questionnaire"])

START = {"schema_version": "1.2", "program": {"name": "County Recovery Court Peer Program", "state": "OH"}}
IN_PROGRESS = {
    "schema_version": "1.2",
    "program": {"name": "County Recovery Court Peer Program", "state": "OH", "host_agency": "treatment_court"},
    "peers": [{"id": "p1", "title": "Peer Recovery Specialist", "duties": ["peer_support_group", "attend_court"]},
              {"id": "p2", "title": "Peer Support Worker"}],
    "policies": {"consent_protocol": True},
    "dont_know": ["/peers/0/months_in_recovery"],
}


@router.get(
    "/questionnaire",
    response_model=Questionnaire,
    summary="Every question PeerCheck may ask",
    description="The question catalog, generated from the profile schema and the loaded rules: every profile field "
    "a rule reads (and the few a profile must have) as a question in plain words, with its label, help, answer type "
    "and options with labels (the Appendix C activities in their tables), its section, and the rules that read it. "
    "Questions about a peer have a pointer template (`/peers/{i}/duties`) and are asked once per peer. Any question "
    "but a required one may be answered \"don't know\" (the profile's `dont_know`).",
)
def questionnaire(service: Service = Depends(get_service)) -> Response:
    return model_response(service.evaluator.questions.out())


@router.post(
    "/questionnaire/next",
    response_model=NextQuestions,
    summary="The next questions for a profile in progress",
    description="Send the profile so far — from just a program name and a state to a complete profile; it is read "
    "leniently. Returns the required questions still unanswered (name, state, the peers, each peer's title), then "
    "the unanswered questions ordered by value: how many undecided rules an answer would decide, weighted by "
    "severity (`GET /v1/questionnaire` lists the weights). Each says why we ask (the waiting rules) and what an "
    "answer looks like. Fields listed in `dont_know` are not asked again. Invalid parts of the draft come back as "
    "`problems` (a JSON pointer into the draft and what is wrong) and are left out; the answer is still 200. "
    "`progress` counts what is answered and what remains. Nothing is recorded.",
    responses=responses(422),
)
async def next_questions(
    draft: Annotated[dict[str, Any], Body(
        description="A profile in progress: any part of a program profile (`GET /v1/schema/profile`).",
        openapi_examples={
            "start": {"summary": "Only a name and a state", "value": START},
            "in_progress": {"summary": "Two peers listed, some answers, one \"don't know\"", "value": IN_PROGRESS},
        })],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many questions to return.")] = DEFAULT_LIMIT,
    service: Service = Depends(get_service),
) -> Response:
    interview = Interview(service.evaluator)
    peers = draft.get("peers")
    if isinstance(peers, list) and len(peers) > LOOP_MAX_PEERS:  # large drafts off the event loop
        result = await run_in_threadpool(interview.next, draft, limit)
    else:
        result = interview.next(draft, limit)
    log.info("next_questions", returned=len(result.questions), remaining=result.progress.remaining,
             problems=len(result.problems), complete=result.complete)
    return model_response(result)
