"""The guided form for TA providers: a program's review, one section at a time (api/guided/).

* ``GET /ui`` — the first step (about the program), with an empty profile; a box to upload or
  paste a profile file (JSON or YAML) to continue from it, or to evaluate it as it is.
* ``POST /ui/step`` — saves the answers of the step shown and goes where the button says: the
  next step, back, another step, add or remove a peer, or the review. Answers that do not fit
  come back on the same step with status 422, each error tied to its field. The review evaluates
  the profile, records the decision and links to its report, and — when the profile changed
  since the previous evaluation on this form — to a before/after comparison.
* ``POST /ui/continue`` — an uploaded or pasted profile, complete or not, continued in the form.
* ``POST /ui/download`` — the profile so far as a file: JSON, or YAML with ``format=yaml``.
* ``GET /ui/compare`` — two stored decisions side by side: what a change resolved, kept and added.

The profile so far travels in the form (api/guided/state.py): nothing about it is kept between
steps or logged; logs carry counts. Every post carries the session's CSRF token.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from api import stored
from api.deps import Service, get_service
from api.guided import REVIEW, FormState, build_step, decode, encode, read_answers, read_state, so_far, steps, still_needed
from api.guided.form import TITLES
from api.guided.state import MAX_FORM_PEERS, add_peer, given_ids, name_peers, remove_peer
from api.logs import log
from api.recording import record
from api.routes.evaluations import UUID_PATTERN
from api.routes.pages import HTML_HEADERS, MAX_UPLOAD_BYTES, _env, empty_submission, example_text, expired_notice, keep_pasted, upload_or_paste
from api.session import CSRF_FIELD, CsrfRefused, PageSession, page_session, sessions
from engine import Decision
from engine.comparison import compare
from engine.questions import Interview
from engine.validation import InvalidDocument, read_document
from report import build
from report.evidence import who
from report.format import counted, open_first
from report.html import template_context

router = APIRouter()

MAX_FIELDS = 20_000  # a step of 30 peers with every option drawn stays well under this


def _interview(service: Service) -> Interview:
    return Interview(service.evaluator)


def _form_lists(form: FormData) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def _render(request: Request, session: PageSession, service: Service, state: FormState, step: str, *,
            status: int = 200, seen: frozenset[str] = frozenset(), posted: dict[str, list[str]] | None = None,
            errors: dict[str, str] | None = None, evaluated: str = "", review: dict[str, Any] | None = None,
            notice: str = "", peer_ids: int = 0, paste_text: str | None = None) -> HTMLResponse:
    interview = _interview(service)
    view = build_step(interview, state, step, skip=seen, posted=posted, errors=errors)
    progress = view.progress  # build_step's own look at the questions: the progress comes with it
    ctx = review["ctx"] if review else so_far(service, state)
    root = request.scope.get("root_path", "")
    html = _env.get_template("guided.html.j2").render(
        **(template_context(ctx) if ctx is not None else {"ctx": None}),
        view=view, review=review, progress=progress, state_json=encode(state), problems=state.problems,
        steps=[(s, TITLES[s]) for s in steps(interview)], TITLES=TITLES, evaluated=evaluated, seen=sorted(seen),
        peers=len(state.peers), max_peers=MAX_FORM_PEERS, notice=notice, still_needed=still_needed(state),
        peer_ids=peer_ids, paste_text=paste_text,
        csrf_token=sessions(request).csrf_token(session), root=root, example=example_text(),
        stores_profiles=service.settings.decision_log_store_profiles, has_log=service.decision_log is not None,
        sign_out=f"{root}/ui/sign-out" if session.signed_in else None,
    )
    return sessions(request).attach(HTMLResponse(html, status_code=status, headers=HTML_HEADERS), session)


def _may_evaluate(session: PageSession) -> None:
    if session.signed_in and "evaluate" not in session.scopes:
        raise HTTPException(403, "this key lacks the 'evaluate' scope")


async def _form(request: Request, session: PageSession, files: int = 0) -> FormData:
    """The posted form, once its CSRF token is checked (CsrfRefused, 403, otherwise)."""
    try:
        form = await request.form(max_files=files, max_fields=MAX_FIELDS, max_part_size=MAX_UPLOAD_BYTES)
    except Exception:  # noqa: BLE001 - malformed or oversized multipart bodies
        raise HTTPException(413, f"the form is too large: at most {MAX_UPLOAD_BYTES:,} bytes a part") from None
    try:
        sessions(request).check_csrf(request, session, form.get(CSRF_FIELD))
    except CsrfRefused as exc:
        if files:
            keep_pasted(exc, form)  # the pasted text, not a file
        else:
            exc.form = _form_lists(form)  # what was sent, for the sender's own page to show again
        await form.close()
        raise
    return form


@router.get("/ui", response_class=HTMLResponse, include_in_schema=False)
def ui(request: Request, service: Service = Depends(get_service),
       session: PageSession = Depends(page_session)) -> HTMLResponse:
    """The first step, with nothing answered."""
    return _render(request, session, service, read_state({}, service.evaluator.questions), "program")


@router.post("/ui/step", response_class=HTMLResponse, include_in_schema=False)
async def ui_step(request: Request, service: Service = Depends(get_service),
                  session: PageSession = Depends(page_session)) -> HTMLResponse:
    _may_evaluate(session)
    try:
        form = await _form(request, session)
    except CsrfRefused as exc:
        if not exc.same_site:
            raise
        return await run_in_threadpool(_refused_step, request, session, service, exc.form)
    outcome = await run_in_threadpool(_step, request, session, service, _form_lists(form))  # off the event loop
    if isinstance(outcome, HTMLResponse):
        return outcome
    return await _review(request, session, service, *outcome)


def _step(request: Request, session: PageSession, service: Service,
          fields: dict[str, list[str]]) -> HTMLResponse | tuple[FormState, str, int]:
    """Save the step's answers and answer with the page the button asks for — or, for the review,
    the profile to evaluate, the previous evaluation (``decision_id digest``) and the count of
    peer ids given."""
    order = steps(_interview(service))
    step = _one(fields, "step")
    step = step if step in order else order[0]
    raw, carried = decode(_one(fields, "state"))
    state = read_state(raw, service.evaluator.questions, carried)
    evaluated = _one(fields, "evaluated")
    given = given_ids(_one(fields, "peer_ids"))
    shown = fields.get("shown", [])
    seen_before = frozenset(fields.get("seen", []))  # shown earlier on this visit of the step, left blank
    seen = seen_before | frozenset(shown)
    action = _one(fields, "action") or "next"

    doc, errors = read_answers(_interview(service), state, shown, fields)
    if not errors:
        updated = read_state(doc, service.evaluator.questions)
        errors = {p.pointer: _draft_error(service, p.pointer, p.detail + "." + (f" {p.fix}" if p.fix else ""))
                  for p in updated.problems if p.pointer in shown}
    if errors:
        log.info("guided_step", step=step, errors=len(errors))
        return _render(request, session, service, state, step, status=422, seen=seen_before, posted=fields,
                       errors=errors, evaluated=evaluated, peer_ids=given)
    doc = updated.doc
    target, notice = step, ""
    if action.startswith("remove_peer:") and action[12:].isdigit():
        remove_peer(doc, int(action[12:]))
        target, seen = "peers", frozenset()
    elif action == "add_peer":
        if not add_peer(doc):
            notice = f"The form lists at most {MAX_FORM_PEERS} peers: for a larger program, upload a profile file."
        target, seen = "peers", frozenset()
    given = name_peers(doc, given)  # a peer just listed, added or read from a file: its own id
    state = read_state(doc, service.evaluator.questions, list(state.problems))  # what was left out, still said
    if action == "back":
        target, seen = order[max(0, order.index(step) - 1)], frozenset()
    elif action.startswith("goto:") and action[5:] in order:
        target, seen = action[5:], frozenset()
    elif action == "next":
        target = step
        if step == REVIEW or not _more_here(service, state, step, seen):
            target, seen = order[min(len(order) - 1, order.index(step) + 1)], frozenset()
    log.info("guided_step", step=step, to=target, peers=len(state.peers), answered_fields=len(shown))
    if target == REVIEW:
        return state, evaluated, given
    return _render(request, session, service, state, target, seen=seen, evaluated=evaluated, notice=notice,
                   peer_ids=given)


def _refused_step(request: Request, session: PageSession, service: Service,
                  fields: dict[str, list[str]]) -> HTMLResponse:
    """A step sent with an expired token (or from a browser session that has since ended): nothing
    is saved, evaluated or recorded — the same step comes back (403) with what was sent filled in
    and a fresh token, to be sent again. A post from another site never gets here."""
    order = steps(_interview(service))
    step = _one(fields, "step")
    step = step if step in order else order[0]
    raw, carried = decode(_one(fields, "state"))
    state = read_state(raw, service.evaluator.questions, carried)
    log.info("guided_step", step=step, refused="csrf")
    return _render(request, session, service, state, step, status=403, seen=frozenset(fields.get("seen", [])),
                   posted=fields, evaluated=_one(fields, "evaluated"), peer_ids=given_ids(_one(fields, "peer_ids")),
                   notice="This page had been open too long, so your answers were not saved yet. They are shown "
                          "again below: check them and press the button again.")


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    return values[0] if values else ""


def _more_here(service: Service, state: FormState, step: str, seen: frozenset[str]) -> bool:
    """Questions of this step not yet shown on this visit (the rest of a long section, or questions an
    answer just opened, such as a new peer's): the step is shown again with them."""
    view = build_step(_interview(service), state, step, skip=seen)
    if step == "peers":
        return any(len(block.fields) > 1 for block in view.peers)
    return bool(view.fields)


def _draft_error(service: Service, pointer: str, detail: str) -> str:
    located = service.evaluator.questions.locate(pointer)
    if located is None:
        return detail
    from api.guided.form import heading

    return f"{heading(located[0], pointer)}: {detail}"


async def _review(request: Request, session: PageSession, service: Service, state: FormState,
                  evaluated: str, peer_ids: int) -> HTMLResponse:
    """Evaluate the profile so far, record the decision, show the report with its links."""
    missing = state.draft.unanswered_required
    if missing:
        first = "program" if any(p.startswith("/program") for p in missing) else "peers"
        errors = {}
        for pointer in missing:
            located = service.evaluator.questions.locate(pointer if pointer != "/peers" else "/peers/0/title")
            if located is not None:
                key = pointer if pointer != "/peers" else "/peers/0/title"
                errors[key] = _draft_error(service, key, "needed for any review: answer it first")
        errors = {k: v for k, v in errors.items() if k.startswith(f"/{first}")}
        return await run_in_threadpool(_render, request, session, service, state, first, status=422, errors=errors,
                                       evaluated=evaluated, peer_ids=peer_ids)

    def evaluate() -> tuple[Decision, Any, bool]:
        decision = service.evaluator.evaluate(state.draft.profile)
        ctx = build(decision, service.ruleset, state.draft.profile)
        return decision, ctx, record(service, [(decision, state.draft.profile)], "report")

    decision, ctx, recorded = await run_in_threadpool(evaluate)
    root = request.scope.get("root_path", "")
    before_id, _, before_digest = evaluated.partition(" ")
    compare_link = None
    if recorded and before_id and before_digest != decision.profile_digest and _is_id(before_id):
        compare_link = f"{root}/ui/compare?before={before_id}&after={decision.decision_id}"
    review = {"ctx": ctx, "recorded": recorded, "report_link": f"{root}/ui/decisions/{decision.decision_id}" if recorded else None,
              "compare_link": compare_link}
    log.info("report", via="guided", format="html", decision_id=decision.decision_id,
             ruleset_version=decision.ruleset_version, status=decision.summary.status,
             findings=decision.summary.findings, needs_information=decision.summary.needs_information)
    return await run_in_threadpool(_render, request, session, service, state, REVIEW, review=review,
                   evaluated=f"{decision.decision_id} {decision.profile_digest}", peer_ids=peer_ids)


def _is_id(text: str) -> bool:
    import re

    return re.fullmatch(UUID_PATTERN, text) is not None


@router.post("/ui/continue", response_class=HTMLResponse, include_in_schema=False)
async def ui_continue(request: Request, service: Service = Depends(get_service),
                      session: PageSession = Depends(page_session)) -> HTMLResponse:
    """A profile file (uploaded or pasted; JSON or YAML; complete or not) continued in the form, at
    the step of its most valuable open question."""
    _may_evaluate(session)
    try:
        form = await _form(request, session, files=1)
    except CsrfRefused as exc:
        if not exc.same_site:
            raise
        log.info("guided_continue", refused="csrf")  # nothing read or kept: the text comes back to be sent again
        return await run_in_threadpool(_render, request, session, service, read_state({}, service.evaluator.questions),
                                       "program", status=403, notice=expired_notice(exc),
                                       paste_text=(exc.form.get("profile_json") or [""])[0])
    try:
        data, name = await upload_or_paste(form)
    finally:
        await form.close()  # the upload's temporary file, now
    empty = read_state({}, service.evaluator.questions)
    if len(data) > MAX_UPLOAD_BYTES:
        return await run_in_threadpool(_render, request, session, service, empty, "program", status=422,
                       notice=f"The file is larger than {MAX_UPLOAD_BYTES:,} bytes: upload a single profile.")
    blank = empty_submission(data, name)
    if blank is not None:
        return await run_in_threadpool(_render, request, session, service, empty, "program", status=422,
                                       notice=f"{blank.field} {blank.detail}: {blank.fix[0].lower()}{blank.fix[1:]}")
    try:
        doc = await run_in_threadpool(read_document, data, name=name, sniff=True)
    except InvalidDocument as exc:
        first = exc.problems[0]  # its detail says where, by line and column, when the text says
        where = f"{first.field}: " if first.pointer else ""
        return await run_in_threadpool(_render, request, session, service, empty, "program", status=422,
                       notice=f"{'The file' if name else 'The text you pasted'} could not be read: {where}{first.detail}. "
                              f"{first.fix or ''}".strip())
    if isinstance(doc, dict) and isinstance(doc.get("profile"), dict):
        doc = doc["profile"]  # a fixture file: the profile under "profile"
    state = await run_in_threadpool(_entered, doc, service)
    first = _interview(service).next(state.doc, limit=1).questions
    step = first[0].section if first else REVIEW
    log.info("guided_continue", peers=len(state.peers), problems=len(state.problems))
    if step == REVIEW:
        step = "program"
    return await run_in_threadpool(_render, request, session, service, state, step, peer_ids=name_peers(state.doc))


def _entered(doc: Any, service: Service) -> FormState:
    """A continued profile as the form's state, each of its peers with an id (``name_peers``); what
    was left out of it, still said."""
    state = read_state(doc, service.evaluator.questions)
    named = dict(state.doc, peers=[dict(p) for p in state.peers])
    if name_peers(named) and named != state.doc:
        state = read_state(named, service.evaluator.questions, list(state.problems))
    return state


@router.post("/ui/download", include_in_schema=False)
async def ui_download(request: Request, service: Service = Depends(get_service),
                      session: PageSession = Depends(page_session)) -> Response:
    """The profile so far as a file to keep, share or upload later: JSON, or YAML."""
    form = await _form(request, session)
    fields = _form_lists(form)
    raw, carried = decode(_one(fields, "state"))
    state = read_state(raw, service.evaluator.questions, carried)
    doc, errors = read_answers(_interview(service), state, fields.get("shown", []), fields)
    if not errors:  # the answers on the page count too, when they fit
        name_peers(doc, given_ids(_one(fields, "peer_ids")))
        state = read_state(doc, service.evaluator.questions)
    name = _file_name(state.doc)
    log.info("guided_download", peers=len(state.peers), format=_one(fields, "format") or "json")
    if _one(fields, "format") == "yaml":
        text = "# PeerCheck program profile (questions not yet answered are left out)\n" + yaml.safe_dump(
            state.doc, sort_keys=False, allow_unicode=True)
        return Response(text, media_type="application/yaml; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}.yaml"', "Cache-Control": "no-store"})
    return Response(json.dumps(state.doc, indent=2, ensure_ascii=False) + "\n", media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{name}.json"', "Cache-Control": "no-store"})


def _file_name(doc: dict[str, Any]) -> str:
    import re

    name = (doc.get("program") or {}).get("name") or "profile"
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:60]
    return f"{slug or 'profile'}-profile"


@router.get("/ui/compare", response_class=HTMLResponse, include_in_schema=False)
def ui_compare(
    request: Request,
    before: Annotated[str, Query(pattern=UUID_PATTERN)],
    after: Annotated[str, Query(pattern=UUID_PATTERN)],
    service: Service = Depends(get_service),
    session: PageSession = Depends(page_session),
) -> HTMLResponse:
    """Two stored decisions of one program: the findings a change resolved, kept and added."""
    if session.signed_in and "read" not in session.scopes:
        raise HTTPException(403, "this key lacks the 'read' scope")
    decisions = [Decision.model_validate(stored.load(service, d, placeholder_ids=True).restored.decision)
                 for d in (before, after)]
    changes = compare(*decisions)
    root = request.scope.get("root_path", "")

    html = _env.get_template("compare.html.j2").render(
        before=decisions[0], after=decisions[1], groups=[
            ("resolved", "Resolved by the change", changes.resolved), ("new", "New since the change", changes.new),
            *([("undecided", "No longer judged: the change removed an answer these rules need", changes.undecided)]
              if changes.undecided else []),
            ("remaining", "Still found", changes.remaining)],
        who=who, open_first=open_first, counted=counted, root=root, links={"before": f"{root}/ui/decisions/{before}", "after": f"{root}/ui/decisions/{after}"},
        sign_out=f"{root}/ui/sign-out" if session.signed_in else None, csrf_token=sessions(request).csrf_token(session))
    log.info("guided_compare", **{name: len(found) for name, found in changes._asdict().items()})
    return sessions(request).attach(HTMLResponse(html, headers=HTML_HEADERS), session)
