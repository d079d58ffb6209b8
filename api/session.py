"""Browser sessions for the page at ``/ui``, its CSRF protection, and signed report links.

A browser cannot send ``X-API-Key``, so when the server has API keys the page asks for one once,
on a sign-in form (``/ui/sign-in``), and keeps the sign-in in a session cookie:

* the cookie holds the key's id (never the key), its scopes and a random session id, signed with
  ``itsdangerous`` (HMAC) and timestamped: it cannot be forged or altered, and it expires after
  ``session_hours``. It is ``HttpOnly`` (no script can read it), ``SameSite=Strict`` (never sent
  with another site's request) and ``Secure`` when ``secure_cookies`` is set (serve over TLS);
* the key must still be configured when the cookie comes back: removing a key ends its sessions;
* signing in starts a new session id (no session fixation); signing out clears the cookie.

Failed sign-ins count against the same per-address limit as failed API-key requests
(``auth_failure_limit``): past it the form answers 429 without checking the key.

Every form post carries a CSRF token bound to the session (the session id, signed with its own
salt) and is refused (403) without the matching one; a post whose browser says it came from
another site (``Sec-Fetch-Site: cross-site``, or an ``Origin`` of another host) is refused too.
Without API keys the page still gets a session (no key in it) so that its forms carry the token.

Report links in CDS cards open one stored decision's report without signing in: the link holds
the decision id signed with its own salt and expires after ``report_link_hours`` — it opens that
report and nothing else.

The secret is ``Settings.session_secret``; unset, it is generated once into
``<data_dir>/session.key`` (mode 0600) and shared by the workers of the machine.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse as parse_limit

from api.guards import match_key
from api.settings import Settings
from decisionlog.files import private_dir

COOKIE = "peercheck_session"
SECRET_FILE = "session.key"
CSRF_FIELD = "csrf_token"


def load_secret(settings: Settings) -> str:
    """The configured secret, else the machine's generated one (created on first use)."""
    if settings.session_secret:
        return settings.session_secret
    path = Path(settings.data_dir) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
    return path.read_text().strip()


class CsrfRefused(HTTPException):
    """A form post refused by the CSRF check (403). ``same_site``: it came from this site but its
    token had expired or belongs to another session — the sender's own page, which may show what
    was sent again with a fresh token (nothing done with it); False for a post from another site."""

    def __init__(self, detail: str, *, same_site: bool):
        super().__init__(403, detail)
        self.same_site = same_site
        self.form: dict[str, list[str]] = {}  # what was posted, when the route keeps it to show again
        self.file_sent = False  # a file came with it (never shown again: the browser must choose it again)


@dataclass(frozen=True)
class PageSession:
    sid: str
    key_id: str | None
    scopes: tuple[str, ...]
    new: bool = False  # made for this request: the answer must set the cookie

    @property
    def signed_in(self) -> bool:
        return self.key_id is not None


class Sessions:
    """Signs and reads the page's cookies and tokens (one per app)."""

    def __init__(self, settings: Settings, limiter: Any = None):
        self.settings = settings
        self.max_age = int(settings.session_hours * 3600)
        # failed sign-ins count against the same per-address limit as failed API-key requests
        self._limiter = limiter
        self._failure_limit = (parse_limit(settings.auth_failure_limit)
                               if limiter is not None and settings.auth_failure_limit and settings.api_keys else None)
        self._signers: dict[str, URLSafeTimedSerializer] | None = None

    def _signer(self, purpose: str) -> URLSafeTimedSerializer:
        """One signer per purpose (its own salt), made on first use: the secret file is only
        created on a server that serves the page or signs links."""
        if self._signers is None:
            secret = load_secret(self.settings)
            self._signers = {name: URLSafeTimedSerializer(secret, salt=f"peercheck-{name}")
                             for name in ("session", "csrf", "report-link")}
        return self._signers[purpose]

    @property
    def keys_required(self) -> bool:
        return bool(self.settings.api_keys)

    # ------------------------------------------------------------------ sessions

    def read(self, request: Request) -> PageSession | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: dict[str, Any] = self._signer("session").loads(raw, max_age=self.max_age)
        except BadSignature:
            return None
        key_id = data.get("k")
        if key_id is not None and not any(k.id == key_id for k in self.settings.api_keys):
            return None  # the key was removed: its sessions end
        return PageSession(sid=str(data.get("s")), key_id=key_id, scopes=tuple(data.get("c", ())))

    def current(self, request: Request) -> PageSession:
        """This browser's session, or a new anonymous one (to be set on the answer)."""
        return self.read(request) or PageSession(sid=secrets.token_urlsafe(18), key_id=None, scopes=(), new=True)

    def may_try(self, address: str) -> bool:
        """False while this client address is over the failed-authentication limit."""
        return self._failure_limit is None or self._limiter.allows(self._failure_limit, f"auth-failures:{address}")

    def failed(self, address: str) -> None:
        if self._failure_limit is not None:
            self._limiter.hit(self._failure_limit, f"auth-failures:{address}")

    def sign_in(self, presented: str) -> PageSession | None:
        """A new session for the key presented, or None when it is not a configured key."""
        found = match_key(self.settings.api_keys, presented)
        if found is None:
            return None
        return PageSession(sid=secrets.token_urlsafe(18), key_id=found.id, scopes=tuple(found.scopes), new=True)

    def attach(self, response: Response, session: PageSession) -> Response:
        if session.new:
            value = self._signer("session").dumps({"s": session.sid, "k": session.key_id, "c": list(session.scopes)})
            response.set_cookie(COOKIE, value, max_age=self.max_age, httponly=True, samesite="strict",
                                secure=self.settings.secure_cookies, path="/")
        return response

    def clear(self, response: Response) -> Response:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=self.settings.secure_cookies)
        return response

    # ------------------------------------------------------------------ CSRF

    def csrf_token(self, session: PageSession) -> str:
        return self._signer("csrf").dumps(session.sid)

    def check_csrf(self, request: Request, session: PageSession, token: Any) -> None:
        """Raise CsrfRefused (403) unless the form post is same-site and carries this session's token."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise CsrfRefused("form posts from another site are refused", same_site=False)
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
            raise CsrfRefused("form posts from another site are refused", same_site=False)
        try:
            sid = self._signer("csrf").loads(token, max_age=self.max_age) if isinstance(token, str) and token else None
        except BadSignature:
            sid = None
        if session.new or sid is None or not hmac.compare_digest(str(sid), session.sid):
            raise CsrfRefused("the form has expired or did not come from this page: reload the page and send it again",
                              same_site=True)

    # ------------------------------------------------------------------ report links

    def link_token(self, decision_id: str) -> str:
        return self._signer("report-link").dumps(decision_id)

    def link_opens(self, token: str, decision_id: str) -> bool:
        try:
            return self._signer("report-link").loads(token, max_age=int(self.settings.report_link_hours * 3600)) == decision_id
        except BadSignature:
            return False


def sessions(request: Request) -> Sessions:
    return request.app.state.sessions


def page_session(request: Request) -> PageSession:
    """The dependency of the page routes: the browser's session; with API keys, a signed-in one —
    otherwise a redirect to the sign-in form, which comes back here afterwards."""
    keeper = sessions(request)
    session = keeper.current(request)
    if keeper.keys_required and not session.signed_in:
        root = request.scope.get("root_path", "")
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": f"{root}/ui/sign-in?next={quote(back)}"})
    return session


def report_link(request: Request, service: Any, decision_id: str) -> str:
    """The address of a stored decision's report page, opening without a sign-in for a while."""
    from api.cds_auth import service_base

    token = sessions(request).link_token(decision_id)
    return f"{service_base(request, service.settings)}/ui/decisions/{decision_id}?link={token}"
