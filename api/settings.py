"""All settings in one place, read from the environment (prefix ``PEERCHECK_``) with embedded
defaults, so ``make run`` works with no configuration at all."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.catalog import RULES_DIR

# The CDS Hooks 2.0 "JWT Signing Algorithm" section: never `none`, never a symmetric (HMAC) algorithm;
# ES384 and RS384 recommended.
ASYMMETRIC_ALGORITHMS = ("ES384", "RS384", "ES256", "ES512", "RS256", "RS512", "PS256", "PS384", "PS512", "EdDSA")


class ApiKey(BaseModel):
    """One API key, stored as the hex SHA-256 of the key (`python -m api.guards KEY` prints it)."""

    id: str = Field(min_length=1, max_length=64, description="Who holds the key; used for rate limits and logs.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[Literal["read", "evaluate"]] = Field(
        min_length=1, description="`read`: GET endpoints; `evaluate`: POST endpoints, which write decisions."
    )


class CdsClient(BaseModel):
    """A CDS client this service trusts (CDS Hooks 2.0, "Trusting CDS Clients"): the ``iss`` its JWTs
    carry and where its public keys are — a JWK Set URL, or the JWK Set itself."""

    model_config = ConfigDict(extra="forbid")

    iss: str = Field(min_length=1, max_length=500, description="The issuer, exactly as in the JWT's `iss`.")
    jwks_url: str | None = Field(
        default=None, pattern=r"^https?://", max_length=2000,
        description="The client's JWK Set URL (fetched, cached); a JWT whose `jku` header names another URL is refused.",
    )
    jwks: dict[str, Any] | None = Field(default=None, description="The client's JWK Set, given here instead of a URL.")
    algorithms: list[str] = Field(
        default_factory=lambda: list(ASYMMETRIC_ALGORITHMS), min_length=1,
        description="Signing algorithms accepted from this client (asymmetric only; the spec forbids `none` and HMAC).",
    )

    @model_validator(mode="after")
    def _keys(self) -> "CdsClient":
        if (self.jwks_url is None) == (self.jwks is None):
            raise ValueError(f"CDS client {self.iss!r}: give exactly one of jwks_url and jwks")
        bad = [a for a in self.algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad:
            raise ValueError(f"CDS client {self.iss!r}: {bad} not allowed; use {', '.join(ASYMMETRIC_ALGORITHMS)}")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEERCHECK_", extra="ignore", populate_by_name=True)

    engine: Literal["interpreter", "durable_rules"] = Field(
        default="interpreter",
        description="Which engine evaluates the rules. Both give identical answers (tested); the interpreter is faster and runs on every Python.",
    )
    rules_dir: Path = Field(default=RULES_DIR, description="Folder with the rule files, catalog/ and sources/.")
    overrides_file: Path | None = Field(
        default=None,
        description="Operator file (YAML) overriding rule parameters and state-table rows; changes the ruleset version.",
    )
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True, description="JSON log lines (false: human-readable console lines).")

    batch_max_items: int = Field(
        default=1000, ge=1, le=100_000,
        description="Most profiles one `POST /v1/evaluations:batch` may carry; more is refused whole (413) so a "
        "caller splits the batch instead of timing out.",
    )

    # Asynchronous batch jobs (api/jobs.py), kept in the decision-log store
    batch_job_max_items: int = Field(
        default=20_000, ge=1, le=1_000_000,
        description="Most profiles one `POST /v1/batch-jobs` may carry (more: 413).",
    )
    batch_job_max_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024,
        description="Largest `POST /v1/batch-jobs` body (413 above); 20,000 typical profiles are about 30 MB.",
    )
    batch_job_workers: int = Field(
        default=1, ge=0, le=16,
        description="Threads per server process that work through queued job items (0: this process takes no job "
        "work, e.g. an API-only replica). Every replica sharing a PostgreSQL decision log works the same queue.",
    )
    batch_job_chunk: int = Field(
        default=20, ge=1, le=1000,
        description="Items one worker evaluates and commits in one transaction (with SQLite, the time other "
        "writers wait; about 0.5 ms per typical profile).",
    )
    webhook_hosts: list[str] = Field(
        default_factory=list,
        description="Host names a job's `webhook_url` may point to, e.g. ['portal.example.org']. Empty (default): "
        "webhooks are refused, so the server never calls addresses a caller chose.",
    )
    webhook_secret: str | None = Field(
        default=None, min_length=24,
        description="Secret that signs webhook deliveries (HMAC-SHA256, Standard Webhooks headers); shared with "
        "the portal. Needed for webhooks.",
    )

    # Decision log (package decisionlog/): every decision appended, OPA style.
    decision_log_enabled: bool = Field(
        default=True, description="Append every decision to the decision log (false: nothing is stored; answers carry recorded=false).",
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the embedded SQLite decision log (created if missing); relative to the working directory.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "PEERCHECK_DATABASE_URL"),
        description="`postgresql://…` stores the decision log in PostgreSQL (needs the `postgres` extra: psycopg); "
        "unset: SQLite under data_dir. Read from DATABASE_URL, as most platforms set it.",
    )
    decision_log_retention_days: int = Field(
        default=90, ge=0,
        description="Decisions older than this are pruned at start-up and now and then on write; 0 keeps them forever.",
    )
    decision_log_sync: Literal["full", "normal"] = Field(
        default="full",
        description="SQLite durability of each commit. `full` (default): a decision answered as recorded survives a "
        "power cut (an fsync per commit). `normal`: it survives the process being killed, not a power cut or OS "
        "crash (WAL fsynced at checkpoints only); faster under load. PostgreSQL follows its own synchronous_commit.",
    )
    decision_log_wait_ms: int = Field(
        default=250, ge=1, le=10_000,
        description="Longest a decision-log write waits for a lock (SQLite busy timeout, PostgreSQL lock_timeout). "
        "A write that cannot go through in time is answered with recorded=false, and the log is retried after a "
        "back-off (1 s, doubling up to 30 s) instead of making every answer wait.",
    )
    decision_log_max_mb: int = Field(
        default=2048, ge=0,
        description="Size budget of the decision log in MiB (0: none). When the stored decisions reach it, new decisions "
        "are answered with recorded=false and not stored, and a warning is logged, until retention pruning frees room.",
    )
    decision_log_store_profiles: bool = Field(
        default=False,
        description="Also store the submitted profile with each decision. Off by default: profiles name people and may "
        "carry sensitive data (time in recovery); the digest is enough to match a later resubmission.",
    )

    idempotency_ttl_hours: float = Field(
        default=24, gt=0, le=24 * 30,
        description="How long the answer to a POST with an `Idempotency-Key` is kept for retries (api/idempotency.py).",
    )

    public_base_url: str | None = Field(
        default=None, pattern=r"^https?://[^/?#]+(/[^?#]*)?$", max_length=500,
        description="The address callers reach this service at, e.g. https://peercheck.example.org. CDS clients sign "
        "their JWTs for it (`aud`), and CDS cards link to the report under it. Unset: the address of each request.",
    )

    # CDS Hooks (api/cds.py, api/cds_auth.py)
    cds_clients: list[CdsClient] = Field(
        default_factory=list,
        description="CDS clients allowed to call the CDS routes, each with its JWT issuer and keys, as JSON, e.g. "
        "PEERCHECK_CDS_CLIENTS='[{\"iss\":\"https://ehr.example.org\",\"jwks_url\":\"https://ehr.example.org/jwks\"}]'. "
        "Set: every CDS call (discovery included) needs a JWT signed by one of them. Empty: the CDS routes take API keys "
        "like the rest of the API (or nothing when there are none).",
    )
    cds_cors_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the CDS routes (CORS), e.g. ['https://sandbox.cds-hooks.org']. "
        "Empty (default): none; '*' allows any origin (no cookies are involved).",
    )
    cds_max_cards: int = Field(
        default=10, ge=3, le=100,
        description="Most cards in one CDS answer: the most severe first, then one card saying how many more there "
        "are, with a link to the full report.",
    )

    # The page's sign-in, signed report links and webhook signatures (api/session.py, api/jobs.py)
    session_secret: str | None = Field(
        default=None, min_length=32,
        description="Secret that signs the page's session cookie, its CSRF tokens and report links in CDS cards, and "
        "keys CDS feedback to its program (an HMAC: changing it forgets the standing overrides). "
        "Unset: one is generated into <data_dir>/session.key and shared by the workers of this machine; set it "
        "(the same on every replica) when running several machines.",
    )
    session_hours: float = Field(default=8, gt=0, le=24 * 7, description="How long a page sign-in lasts.")
    secure_cookies: bool = Field(
        default=False, description="Mark the session cookie Secure (only sent over HTTPS): set it when served over TLS.",
    )
    report_link_hours: float = Field(
        default=72, gt=0, le=24 * 90, description="How long a report link in a CDS card opens the report without a sign-in.",
    )

    # Guards (api/guards.py)
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="Largest request body accepted (413 above); a batch of 1,000 typical profiles is about 1.5 MB.",
    )
    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description="API keys as JSON, e.g. PEERCHECK_API_KEYS='[{\"id\":\"portal\",\"sha256\":\"…\",\"scopes\":[\"read\",\"evaluate\"]}]'. "
        "Empty (default): no keys needed. /healthz and the API docs stay open.",
    )
    rate_limit: str | None = Field(
        default=None,
        description="Per-key (per client address without keys) rate limit such as '600/minute'; unset: no limit. "
        "Counted across the worker processes of a machine (a SQLite file in data_dir); replicas count separately.",
    )
    auth_failure_limit: str | None = Field(
        default="10/minute",
        description="With API keys: failed authentications allowed per client address, e.g. '10/minute'; above it the "
        "address gets 429 until its window frees up, whatever key it sends. Unset: no limit.",
    )
    forwarded_allow_ips: str = Field(
        default="",
        validation_alias=AliasChoices("FORWARDED_ALLOW_IPS", "PEERCHECK_FORWARDED_ALLOW_IPS"),
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed "
        "(rate limits and failed authentications count per client address). Empty (default): none. The same "
        "variable uvicorn reads, so both agree; docs/deployment.md explains.",
    )
    body_timeout_s: float = Field(
        default=30.0, gt=0, le=3600,
        description="Seconds a request body may take to arrive in full; a stalled or trickling upload gets 408.",
    )


class SettingsError(ValueError):
    """Settings from the environment that cannot be used; ``str()`` is one line per bad variable,
    naming it and saying what it takes."""


def load_settings() -> Settings:
    """The settings from ``PEERCHECK_*`` environment variables (and ``FORWARDED_ALLOW_IPS``); a bad
    value raises SettingsError in plain words, not the validator's report."""
    from pydantic import ValidationError

    from engine.fields import node_for
    from engine.validation import describe

    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            info = Settings.model_fields.get(name)
            variable = "FORWARDED_ALLOW_IPS" if name == "forwarded_allow_ips" else f"PEERCHECK_{name.upper()}"
            node = node_for(info.annotation, info.metadata) if info is not None else None
            worded = describe({**err, "loc": ()}, node) if node is not None else None
            detail = f"{worded.detail}." + (f" {worded.fix}" if worded and worded.fix else "") if worded else err["msg"]
            lines.append(f"{variable}={err.get('input')!r}: {detail}")
        raise SettingsError("; ".join(lines)) from None
