"""Errors on the page's addresses (``/ui`` and below) as pages for people, not problem details.

A TA provider who follows an old report link, mistypes an address or sends a form that has
expired sees a page in plain words — what happened, what to do, and a link on — with the same
status code the API would give. The API's answers (RFC 9457 problem details, api/problems.py)
are unchanged everywhere else; ``api.problems.install`` asks ``is_page`` first.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.session import CsrfRefused

PAGE_PREFIX = "/ui"
START = ("/ui", "Start a new review")


def is_page(request: Request) -> bool:
    """True for the page's own addresses (``/ui``, ``/ui/…``), where people, not programs, read the answer."""
    root = request.scope.get("root_path", "")
    path = request.url.path
    path = path[len(root):] if root and path.startswith(root) else path
    return path == PAGE_PREFIX or path.startswith(PAGE_PREFIX + "/")


def _words(request: Request, status: int, exc: Exception | None) -> tuple[str, list[str], tuple[str, str]]:
    """(title, lines, (address, link text)) for an error on ``request``'s page."""
    path = request.url.path
    report = "/ui/decisions/" in path
    comparison = path.endswith("/ui/compare")
    if status == 404 and (report or comparison):
        service = getattr(request.app.state, "service", None)
        if service is not None and getattr(service, "decision_log", None) is None:
            return ("Reports are not saved here", ["This server does not keep the reports it makes, so a link to one "
                    "cannot be opened. Evaluate the profile again to see its report."], START)
        what = "One of the two reports compared" if comparison else "The report this link points to"
        return ("Report not found", [f"{what} is not saved here. Saved reports are kept for a limited time, so it may "
                "have been removed; or the link may be incomplete.", "Copy the whole link and try again, or evaluate the "
                "profile again to make a new report."], START)
    if status == 422 and (report or comparison):
        what = "comparison link" if comparison else "report link"
        return (f"This {what} is not complete", [f"The address does not name {'two reports' if comparison else 'a report'}"
                " the way PeerCheck writes it: part of the link may be missing or changed. Copy the whole link and try "
                "again."], START)
    if isinstance(exc, CsrfRefused) and not exc.same_site:
        return ("Form refused", ["This form was sent from another website, so nothing was done with it. Use the "
                "PeerCheck page itself."], START)
    if isinstance(exc, CsrfRefused):
        return ("The form had expired", ["For your safety, a form on this page works for a limited time and only in "
                "the browser that opened it. This one had expired, so nothing was done with it.",
                "Go back, copy anything you typed, then reload the page and send it again."], START)
    if status == 403:
        return ("Not allowed with this key", ["The key you signed in with does not allow this. Sign out and sign in "
                "with a key that does, or ask your administrator."], START)
    if status == 404:
        return ("Page not found", ["There is no page at this address. It may be mistyped, or the page may have moved."],
                START)
    if status == 405:
        return ("Use the page's buttons", ["This address is reached by pressing a button on the page, not by opening "
                "it directly. Start from the first step."], START)
    if status == 413:
        return ("Too much to send at once", ["The form is larger than PeerCheck accepts. A large program is best "
                "uploaded as a profile file."], START)
    if status in (429, 503):
        return ("Please try again shortly", ["PeerCheck cannot answer this right now. Nothing was lost on the server; "
                "wait a minute and try again."], START)
    if status >= 500:
        return ("Something went wrong", ["PeerCheck could not finish this, and nothing was stored. Try again; if it "
                "keeps happening, tell your administrator."], START)
    return ("This could not be done", ["PeerCheck could not do what was asked. Start again from the first step."], START)


def error_page(request: Request, status: int, exc: Exception | None = None,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """The page for an error (``exc``, when there is one) on one of the page's addresses, with ``status``."""
    from api.routes.pages import HTML_HEADERS, _env  # the page's templates and headers

    title, lines, way_on = _words(request, status, exc)
    html = _env.get_template("error.html.j2").render(title=title, lines=lines, way_on=way_on,
                                                     root=request.scope.get("root_path", ""))
    return HTMLResponse(html, status_code=status, headers={**(headers or {}), **HTML_HEADERS})
