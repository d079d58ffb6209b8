"""All settings in one place, read from the environment (prefix ``PEERCHECK_``) with embedded
defaults, so ``make run`` works with no configuration at all."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.catalog import RULES_DIR


class ApiKey(BaseModel):
    """One API key, stored as the hex SHA-256 of the key (`python -m api.guards KEY` prints it)."""

    id: str = Field(min_length=1, max_length=64, description="Who holds the key; used for rate limits and logs.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[Literal["read", "evaluate"]] = Field(
        min_length=1, description="`read`: GET endpoints; `evaluate`: POST endpoints, which write decisions."
    )


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
    decision_log_store_profiles: bool = Field(
        default=False,
        description="Also store the submitted profile with each decision. Off by default: profiles name people and may "
        "carry sensitive data (time in recovery); the digest is enough to match a later resubmission.",
    )

    idempotency_ttl_hours: float = Field(
        default=24, gt=0, le=24 * 30,
        description="How long the answer to a POST with an `Idempotency-Key` is kept for retries (api/idempotency.py).",
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
        description="Per-key (per client address without keys) rate limit such as '600/minute'; unset: no limit.",
    )
