"""Who is calling the CDS routes: a CDS client's signed JWT, as CDS Hooks 2.0 asks.

Implements the specification's section *Security and Safety → Trusting CDS Clients*
(https://cds-hooks.hl7.org/2.0/#trusting-cds-clients) and *JWT Signing Algorithm*:

* every CDS request — discovery, service call, feedback — carries ``Authorization: Bearer <JWT>``;
* the JWT header has ``alg``, ``kid`` and ``typ: JWT``, optionally ``jku``; ``none`` and symmetric
  (HMAC) algorithms are refused, whatever a client is configured with;
* the issuer (``iss``) must be one the operator allowlisted (``Settings.cds_clients``), with its JWK
  Set given inline or at a URL; a ``jku`` header must name that same URL — PeerCheck never
  fetches keys from an address the token itself chose;
* ``aud`` must be the URL of the endpoint being called (``{base}/cds-services``,
  ``{base}/cds-services/{id}``, ``{base}/cds-services/{id}/feedback``), the base being
  ``Settings.public_base_url`` or, unset, the address of the request;
* ``exp``, ``iat`` and ``jti`` are required; ``exp`` is checked with a minute of leeway for clock
  skew, ``iat`` may not lie in the future, and a token may live at most ``MAX_LIFETIME_S``;
* a ``jti`` already seen from that issuer is refused (replay); seen tokens are kept in the
  decision-log store until they expire, so every worker and replica refuses the replay (in this
  process's memory when the decision log is off).

With no CDS clients configured the CDS routes fall back to the API keys of the rest of the API
(``X-API-Key`` or a bearer key), or to no authentication when there are none. Keys are checked by
``api.guards.KeyGuard`` everywhere else; this module is the CDS routes' own check, as a dependency.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import HTTPException, Request

from api.guards import match_key
from api.settings import ASYMMETRIC_ALGORITHMS, CdsClient, Settings
from decisionlog import DecisionLog, LogUnavailable

LEEWAY_S = 60
MAX_LIFETIME_S = 3600
JWKS_CACHE_S = 300


@dataclass(frozen=True)
class CdsCaller:
    """The authenticated caller of a CDS route."""

    client: str  # the JWT issuer (plus tenant), the API key id, or "anonymous"
    tenant: str | None = None


class Unauthorized(HTTPException):
    def __init__(self, detail: str):
        super().__init__(401, detail, headers={
            "WWW-Authenticate": f'Bearer realm="peercheck-cds", error="invalid_token", error_description="{detail[:120]}"'})


class SeenTokens:
    """``jti``s already used, per issuer, until the token would have expired anyway."""

    def __init__(self, store: DecisionLog | None):
        self.store = store
        self._memory: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        key = hashlib.sha256(f"{iss}\x00{jti}".encode()).hexdigest()
        if self.store is not None:
            try:
                with self.store.transaction() as tx:
                    return bool(tx.execute(
                        "INSERT INTO cds_tokens (token_key, expires_at) VALUES (%s, %s) ON CONFLICT (token_key) DO NOTHING",
                        (key, expires_at)).rowcount)
            except LogUnavailable:
                raise HTTPException(503, "the store of seen client tokens cannot be reached; retry") from None
        now = time.time()
        with self._lock:
            if len(self._memory) > 10_000:
                self._memory = {k: v for k, v in self._memory.items() if v > now}
            if key in self._memory and self._memory[key] > now:
                return False
            self._memory[key] = expires_at
            return True


class CdsAuthenticator:
    """Checks a CDS request's credentials against the settings (one per app)."""

    def __init__(self, settings: Settings, store: DecisionLog | None):
        self.settings = settings
        self.clients = {client.iss: client for client in settings.cds_clients}
        self.seen = SeenTokens(store)
        self._jwk_clients: dict[str, jwt.PyJWKClient] = {}
        self._lock = threading.Lock()

    def authenticate(self, request: Request) -> CdsCaller:
        authorization = request.headers.get("authorization", "")
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        if self.clients:
            if not token:
                raise Unauthorized("send 'Authorization: Bearer <JWT>' signed by a trusted CDS client")
            return self._check_jwt(token, request)
        if self.settings.api_keys:
            found = match_key(self.settings.api_keys, token or request.headers.get("x-api-key", ""))
            if found is None:
                raise Unauthorized("send a valid key as 'Authorization: Bearer <key>' or 'X-API-Key'")
            needed = "read" if request.method in ("GET", "HEAD") else "evaluate"
            if needed not in found.scopes:
                raise HTTPException(403, f"this key lacks the '{needed}' scope")
            return CdsCaller(client=f"key:{found.id}")
        return CdsCaller(client="anonymous")

    # ------------------------------------------------------------------ JWT

    def _check_jwt(self, token: str, request: Request) -> CdsCaller:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("the bearer token is not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ASYMMETRIC_ALGORITHMS:
            raise Unauthorized(f"JWT algorithm {alg!r} is not accepted: sign with an asymmetric algorithm such as ES384 or RS384")
        if not kid or header.get("typ", "JWT").upper() != "JWT":
            raise Unauthorized("the JWT header needs 'kid' and 'typ: JWT'")
        client = self.clients.get(unverified.get("iss")) if isinstance(unverified.get("iss"), str) else None
        if client is None:
            raise Unauthorized("the JWT issuer (iss) is not a trusted CDS client of this service")
        if alg not in client.algorithms:
            raise Unauthorized(f"algorithm {alg} is not accepted from this client")
        jku = header.get("jku")
        if jku is not None and jku != client.jwks_url:
            raise Unauthorized("the JWT's jku is not the key set configured for this issuer")
        key = self._signing_key(client, kid, token)
        audience = self.audience(request)
        try:
            claims = jwt.decode(
                token, key, algorithms=[alg], audience=audience, issuer=client.iss, leeway=LEEWAY_S,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.InvalidAudienceError:
            raise Unauthorized(f"the JWT's aud must be {audience}") from None
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the JWT has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the JWT was issued in the future (iat)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"the JWT lacks the '{exc.claim}' claim") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the JWT is not valid: {type(exc).__name__}") from None
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise Unauthorized("the JWT's jti must be a non-empty string")
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_S:
            raise Unauthorized(f"the JWT lives longer than {MAX_LIFETIME_S} s (exp - iat); issue one per request")
        if not self.seen.first_use(client.iss, claims["jti"], claims["exp"] + LEEWAY_S):
            raise Unauthorized("this JWT was already used (jti replayed): sign a new one for every request")
        tenant = claims.get("tenant") if isinstance(claims.get("tenant"), str) else None
        return CdsCaller(client=client.iss + (f"#{tenant}" if tenant else ""), tenant=tenant)

    def _signing_key(self, client: CdsClient, kid: str, token: str) -> Any:
        try:
            if client.jwks is not None:
                keys = jwt.PyJWKSet.from_dict(client.jwks)
                for jwk in keys.keys:
                    if jwk.key_id == kid:
                        return jwk.key
                raise Unauthorized(f"no key {kid!r} in this client's key set")
            return self._jwk_client(client.jwks_url).get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise HTTPException(503, "the CDS client's key set cannot be fetched right now") from None
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, jwt.InvalidKeyError):
            raise Unauthorized(f"no usable key {kid!r} in this client's key set") from None

    def _jwk_client(self, url: str) -> jwt.PyJWKClient:
        with self._lock:
            found = self._jwk_clients.get(url)
            if found is None:
                found = self._jwk_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_CACHE_S, timeout=5)
            return found

    def audience(self, request: Request) -> str:
        """The URL of the endpoint called: what ``aud`` must be."""
        return service_base(request, self.settings) + route_path(request)


def route_path(request: Request) -> str:
    """The request's path below the application's root (a proxy's prefix removed)."""
    root = request.scope.get("root_path", "")
    path = request.scope["path"]
    return path[len(root):] if root and path.startswith(root) else path


def service_base(request: Request, settings: Settings) -> str:
    """Where callers reach this service: the configured public address, else the request's own."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def cds_caller(request: Request) -> CdsCaller:
    """The dependency of the CDS routes (sync: a JWK Set fetch blocks, so FastAPI runs it in the thread pool)."""
    return request.app.state.cds_auth.authenticate(request)
