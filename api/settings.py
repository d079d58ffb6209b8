"""All settings in one place, read from the environment (prefix ``PEERCHECK_``) with embedded
defaults, so ``make run`` works with no configuration at all."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.catalog import RULES_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEERCHECK_", extra="ignore")

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
