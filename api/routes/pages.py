"""The report over HTTP, and the page for TA providers.

* ``POST /v1/reports`` — a profile in (JSON, as for ``/v1/evaluations``), the report out:
  HTML, or Markdown with ``?format=markdown``. Invalid profiles get the usual RFC 9457 problem.
* ``POST /ui/evaluate`` — a profile pasted or uploaded on the page (api/routes/guided.py serves
  ``/ui``, the guided form), JSON or YAML, evaluated as it is: the report. A plain form post; no
  JavaScript. A file that cannot be read or an invalid profile shows each problem on the page with status 422
  — the field by its label, what is wrong, the fix, and for JSON that cannot be read the line
  with the problem marked — keeping what the user typed. The page is rendered before the
  decision is recorded, so a page that fails to render leaves nothing stored. Sent with an expired
  token, the pasted text comes back in its box (403) with a fresh token, unread and unrecorded.
* ``GET /ui/decisions/{id}`` — the report of a stored decision, for people: what report links in
  CDS cards open (a signed link opens it without a sign-in).
* ``/ui/sign-in``, ``/ui/sign-out`` — when the server has API keys, the page's sign-in: a session
  cookie instead of a key header (api/session.py); every form post carries a CSRF token.

Evaluation uses the app's loaded service (``app.state.service``). Nothing submitted is stored;
logs carry ids and counts, never profile content. HTML answers carry a strict
Content-Security-Policy (no scripts at all) and ``Cache-Control: no-store``: reports name
programs and people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.datastructures import UploadFile

from api.bodies import validate_off_loop
from api.deps import Service, get_service
from api.idempotency import IdempotentRoute
from api.logs import log
from api.problems import Problem, responses
from engine import Decision, Profile
from report import build, render_markdown
from report.markdown import md
from report.html import loader as report_loader
from report.html import make_environment, template_context
from api.profiles import check_request_profiles
from api.recording import record
from api import stored
from api.routes.evaluations import UUID_PATTERN
from engine.validation import InvalidDocument, LoadedProfile, check_rules, read_profile
from engine.validation import Problem as DocumentProblem
from api.session import CSRF_FIELD, CsrfRefused, PageSession, page_session, sessions

router = APIRouter(tags=["reports"], route_class=IdempotentRoute)

HERE = Path(__file__).resolve().parent.parent
EXAMPLE_FILE = HERE / "examples" / "ui-example.json"
MAX_UPLOAD_BYTES = 1_000_000  # a profile of 500 peers is well under this
MARKDOWN = "text/markdown; charset=utf-8"
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_env = make_environment(ChoiceLoader([FileSystemLoader(HERE / "templates"), report_loader()]))

EXPIRED_PASTE = ("This page had been open too long, so your profile was not read yet: nothing was evaluated or "
                 "stored. The text you pasted is shown again below; press the button again.")
EXPIRED_FILE = ("This page had been open too long, so your profile was not read yet: nothing was evaluated or "
                "stored. Choose the file again and press the button again.")


def expired_notice(refused: CsrfRefused) -> str:
    """What a page says when its form came back with an expired token (what was pasted is shown
    again; a file has to be chosen again)."""
    return EXPIRED_FILE if refused.file_sent else EXPIRED_PASTE


def example_text() -> str:
    """The example profile the page starts from (the base fixture with a few risks and one
    acknowledged risk)."""
    return EXAMPLE_FILE.read_text(encoding="utf-8")


def _log(decision: Decision, via: str, fmt: str) -> None:
    log.info("report", via=via, format=fmt, decision_id=decision.decision_id,
             ruleset_version=decision.ruleset_version, status=decision.summary.status,
             findings=decision.summary.findings, needs_information=decision.summary.needs_information)


# ---------------------------------------------------------------- POST /v1/reports


@router.post(
    "/v1/reports",
    response_class=HTMLResponse,
    summary="Evaluate a profile and return the report",
    description="Evaluates one program profile (the body of `POST /v1/evaluations`) and returns the report for "
    "people: program summary, a severity chart, findings by the five Ps and by category with evidence, "
    "remediation and the cited passage, acknowledged risks, needs-information, and the ruleset version and "
    "decision id. HTML (self-contained, printable) by default; `format=markdown` for Markdown.",
    responses={
        200: {"description": "The report.", "content": {"text/markdown": {"schema": {"type": "string"}}}},
        422: {"model": Problem, "description": "The profile is invalid; `errors` names each field."},
    },
)
def create_report(
    profile: Annotated[Profile, Body()],
    report_format: Annotated[Literal["html", "markdown"], Query(alias="format", description="`html` (default) or `markdown`.")] = "html",
    service: Service = Depends(get_service),
) -> Response:
    check_request_profiles(service.ruleset, profile=(profile, ("body",)))
    decision = service.evaluator.evaluate(profile)
    ctx = build(decision, service.ruleset, profile)
    text = render_markdown(ctx) if report_format == "markdown" else _env.get_template("report.html.j2").render(**template_context(ctx))
    record(service, [(decision, profile)], "report")  # once rendered: the decision id in the footer can be fetched
    _log(decision, "api", report_format)
    if report_format == "markdown":
        return Response(text, media_type=MARKDOWN, headers={"Cache-Control": "no-store"})
    return HTMLResponse(text, headers=HTML_HEADERS)


@router.get(
    "/v1/evaluations/{decision_id}/report",
    response_class=HTMLResponse,
    summary="The report of a stored decision",
    description="Renders a decision from the decision log as the report for people (HTML, or Markdown with "
    "`format=markdown`), with the texts of the ruleset version that made it. Findings, evidence, citations, "
    "acknowledged risks and needs-information always appear; the program summary, peer ids and titles, time in "
    "recovery and acknowledgement reasons only when the server stores profiles — otherwise the report says "
    "what is withheld.",
    responses={
        200: {"description": "The report.", "content": {"text/markdown": {"schema": {"type": "string"}}}},
        **responses(404, 422, 503),
    },
)
def stored_report(
    decision_id: Annotated[str, PathParam(pattern=UUID_PATTERN, description="The `decision_id` of an earlier answer.")],
    report_format: Annotated[Literal["html", "markdown"], Query(alias="format", description="`html` (default) or `markdown`.")] = "html",
    service: Service = Depends(get_service),
) -> Response:
    return _stored_report(service, decision_id, report_format)


def _stored_report(service: Service, decision_id: str, report_format: str) -> Response:
    found = stored.load(service, decision_id, placeholder_ids=True)
    decision = Decision.model_validate(found.restored.decision)
    profile = Profile.model_validate(found.profile) if found.profile else None
    ctx = build(decision, service.ruleset, profile)
    _log(decision, "stored", report_format)
    withheld = found.restored.withheld
    if report_format == "markdown":
        note = "".join(f"> {md(item)}\n" for item in ["Not shown: the decision log does not keep personal data."] + withheld)
        return Response((note + "\n" if withheld else "") + render_markdown(ctx), media_type=MARKDOWN,
                        headers={"Cache-Control": "no-store"})
    html = _env.get_template("stored_report.html.j2").render(**template_context(ctx), withheld=withheld)
    return HTMLResponse(html, headers=HTML_HEADERS)


# ---------------------------------------------------------------- the page


def _render(request: Request, session: PageSession, *, profile_text: str, ctx=None,
            invalid: InvalidDocument | None = None, notice: str = "") -> str:
    root = request.scope.get("root_path", "")
    values = template_context(ctx) if ctx is not None else {"ctx": None}
    title = ""
    if invalid is not None:
        count = len(invalid.problems)
        title = (f"The profile could not be evaluated: {invalid.summary()}" if invalid.total > count
                 else f"The profile could not be evaluated: {count} problem{'s' * (count != 1)}")
    return _env.get_template("ui.html.j2").render(
        **values, profile_text=profile_text, problems=invalid.problems if invalid else [], problems_title=title,
        notice=notice,
        action=f"{root}/ui/evaluate", home=f"{root}/ui", docs=f"{root}/docs",
        stores_profiles=request.app.state.service.settings.decision_log_store_profiles,
        csrf_token=sessions(request).csrf_token(session),
        sign_out=f"{root}/ui/sign-out" if session.signed_in else None,
    )


def _page(request: Request, session: PageSession, *, status: int = 200, profile_text: str, ctx=None,
          invalid: InvalidDocument | None = None, notice: str = "") -> HTMLResponse:
    html = _render(request, session, profile_text=profile_text, ctx=ctx, invalid=invalid, notice=notice)
    return sessions(request).attach(HTMLResponse(html, status_code=status, headers=HTML_HEADERS), session)


@router.get("/ui/decisions/{decision_id}", response_class=HTMLResponse, include_in_schema=False)
def ui_decision(
    request: Request,
    decision_id: Annotated[str, PathParam(pattern=UUID_PATTERN)],
    link: Annotated[str | None, Query(max_length=500)] = None,
    service: Service = Depends(get_service),
) -> Response:
    """A stored decision's report: with a valid signed link, or for a signed-in (or keyless) browser."""
    if not (link and sessions(request).link_opens(link, decision_id)):
        session = page_session(request)
        if session.signed_in and "read" not in session.scopes:
            raise HTTPException(403, "this key lacks the 'read' scope")
    return _stored_report(service, decision_id, "html")


def _sign_in_page(request: Request, session: PageSession, next_path: str, problem: str = "", status: int = 200) -> HTMLResponse:
    keeper = sessions(request)
    html = _env.get_template("signin.html.j2").render(
        action=f"{request.scope.get('root_path', '')}/ui/sign-in", csrf_token=keeper.csrf_token(session),
        next=next_path, problem=problem, hours=round(request.app.state.service.settings.session_hours, 1))
    return keeper.attach(HTMLResponse(html, status_code=status, headers=HTML_HEADERS), session)


def _safe_next(value: object) -> str:
    """Where to go after signing in: a path on the page, never another site."""
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/ui") and not text.startswith("//") and "\\" not in text else "/ui"


@router.get("/ui/sign-in", response_class=HTMLResponse, include_in_schema=False)
def sign_in_form(request: Request, next_path: Annotated[str, Query(alias="next", max_length=500)] = "/ui") -> Response:
    keeper = sessions(request)
    session = keeper.current(request)
    if not keeper.keys_required or session.signed_in:
        return RedirectResponse(_safe_next(next_path), status_code=303)
    return _sign_in_page(request, session, _safe_next(next_path))


@router.post("/ui/sign-in", response_class=HTMLResponse, include_in_schema=False)
async def sign_in(request: Request) -> Response:
    keeper = sessions(request)
    session = keeper.current(request)
    form = await request.form(max_files=0, max_fields=4, max_part_size=4096)
    keeper.check_csrf(request, session, form.get(CSRF_FIELD))
    next_path = _safe_next(form.get("next"))
    address = request.client.host if request.client else "unknown"
    if not keeper.may_try(address):
        log.info("page_sign_in", ok=False, limited=True)
        return _sign_in_page(request, session, next_path, "Too many failed sign-ins from here: wait a minute and try again.",
                             status=429)
    key = form.get("api_key")
    signed = keeper.sign_in(key if isinstance(key, str) else "")
    if signed is None:
        keeper.failed(address)
        log.info("page_sign_in", ok=False)
        return _sign_in_page(request, session, next_path, "That key is not valid here.", status=401)
    log.info("page_sign_in", ok=True, key_id=signed.key_id)
    return keeper.attach(RedirectResponse(next_path, status_code=303), signed)


@router.post("/ui/sign-out", include_in_schema=False)
async def sign_out(request: Request) -> Response:
    keeper = sessions(request)
    session = keeper.current(request)
    form = await request.form(max_files=0, max_fields=2, max_part_size=4096)
    keeper.check_csrf(request, session, form.get(CSRF_FIELD))
    return keeper.clear(RedirectResponse("/ui", status_code=303))


def _unreadable(detail: str, fix: str) -> InvalidDocument:
    return InvalidDocument([DocumentProblem("", "The form", detail, fix, code="unreadable")])


async def _submitted(request: Request, session: PageSession) -> tuple[str | bytes, str | None]:
    """The profile the user sent and the file's name: the uploaded file (bytes) if one was chosen,
    else the text box (no name). Raises InvalidDocument (too large, no form); 403 without this
    session's CSRF token (CsrfRefused keeps the pasted text, to be shown again)."""
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_UPLOAD_BYTES)
    except Exception:  # noqa: BLE001 - malformed or oversized multipart bodies
        raise _unreadable("could not be read", f"Send a profile of at most {MAX_UPLOAD_BYTES:,} bytes.") from None
    try:
        try:
            sessions(request).check_csrf(request, session, form.get(CSRF_FIELD))
        except CsrfRefused as exc:
            keep_pasted(exc, form)
            raise
        data, name = await upload_or_paste(form)
        if name is not None and len(data) > MAX_UPLOAD_BYTES:
            raise _unreadable(f"holds a file larger than {MAX_UPLOAD_BYTES:,} bytes", "Upload a single profile.")
        return data, name
    finally:
        await form.close()  # the upload's temporary file, now rather than whenever it is collected


async def upload_or_paste(form) -> tuple[str | bytes, str | None]:
    """The profile a page's form sent and the file's name: the chosen file's bytes (read to one byte
    past MAX_UPLOAD_BYTES, so that a larger file shows as such), else the text box's text and no name."""
    upload = form.get("profile_file")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(MAX_UPLOAD_BYTES + 1), upload.filename
    text = form.get("profile_json")
    return (text if isinstance(text, str) else ""), None


def keep_pasted(refused: CsrfRefused, form) -> None:
    """On a refused form, what its own page may show again: the pasted text (a file's content never)."""
    text = form.get("profile_json")
    refused.form = {"profile_json": [text]} if isinstance(text, str) else {}
    upload = form.get("profile_file")
    refused.file_sent = isinstance(upload, UploadFile) and bool(upload.filename)


def _shown(data: str | bytes) -> str:
    """What the user sent, for the text box (never fails: bad bytes are shown replaced)."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    return text.encode("utf-8", errors="replace").decode("utf-8")


def empty_submission(data: str | bytes, name: str | None) -> DocumentProblem | None:
    """An empty box or file, said as the page says it (not as a parser would: "give a JSON object")."""
    if data.strip():
        return None
    if name is None:
        return DocumentProblem("", "The box", "is empty", "Paste a profile or choose a file.", code="empty")
    return DocumentProblem("", "The file", "is empty", "Choose the profile file, or paste a profile in the box.",
                           code="empty")


def _read(data: str | bytes, name: str | None, ruleset) -> LoadedProfile:
    """The one reader of uploads and pastes (as ``/ui/continue``): JSON or YAML — by the file's
    name, or for pasted text by how it starts."""
    empty = empty_submission(data, name)
    if empty is not None:
        raise InvalidDocument([empty])
    loaded = read_profile(data, name=name, sniff=True)
    check_rules(loaded, ruleset)
    return loaded


def _evaluate_page(request: Request, session: PageSession, service: Service, loaded: LoadedProfile) -> tuple[Decision, str]:
    """Evaluate, render the page, and only then record the decision: a page that cannot be
    rendered leaves nothing stored."""
    decision = service.evaluator.evaluate(loaded.profile)
    ctx = build(decision, service.ruleset, loaded.profile)
    html = _render(request, session, profile_text=json.dumps(loaded.document, indent=2, ensure_ascii=False), ctx=ctx)
    record(service, [(decision, loaded.profile)], "report")
    return decision, html


@router.post("/ui/evaluate", response_class=HTMLResponse, include_in_schema=False)
async def ui_evaluate(request: Request, service: Service = Depends(get_service),
                      session: PageSession = Depends(page_session)) -> HTMLResponse:
    if session.signed_in and "evaluate" not in session.scopes:
        raise HTTPException(403, "this key lacks the 'evaluate' scope")
    data: str | bytes = ""
    try:
        data, name = await _submitted(request, session)
    except InvalidDocument as exc:
        invalid: InvalidDocument | None = exc
    except CsrfRefused as exc:
        if not exc.same_site:
            raise
        log.info("report_refused", via="ui", refused="csrf")  # nothing read, evaluated or recorded
        return _page(request, session, status=403, profile_text=(exc.form.get("profile_json") or [""])[0],
                     notice=expired_notice(exc))
    else:
        loaded, invalid = await validate_off_loop(len(data), _read, data, name, service.ruleset)
    if invalid is not None:
        log.info("report_invalid", via="ui", problems=invalid.total)
        return _page(request, session, status=422, profile_text=_shown(data), invalid=invalid)
    decision, html = await run_in_threadpool(_evaluate_page, request, session, service, loaded)
    _log(decision, "ui", "html")
    return sessions(request).attach(HTMLResponse(html, headers=HTML_HEADERS), session)
