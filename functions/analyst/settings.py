"""Settings of the analyst service (``ANALYST_*``), on top of the layer's settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from stratus.cache import per_container
from stratus.config import Settings

# functions/analyst/sample/chinook.sqlite is built by `make analyst-sample` and shipped with the function code.
DEFAULT_SAMPLE = Path(__file__).resolve().parent / "sample" / "chinook.sqlite"
# In a checkout the shared data sits beside the repository; a missing sample is built from it on first use.
DEFAULT_SAMPLE_SOURCE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "text-to-sql" / "chinook" / "Chinook_Sqlite.sql"
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class AnalystSettings(Settings):
    analyst_table: str = Field(default="", description="DynamoDB table of databases, sessions, queries, cache")
    analyst_bucket: str = Field(default="", description="S3 bucket: database files, schemas, results, charts")
    analyst_sample_database: Path = Field(default=DEFAULT_SAMPLE, description="the Chinook SQLite sample")
    analyst_sample_source: Path = Field(
        default=DEFAULT_SAMPLE_SOURCE, description="Chinook SQL script to build the sample from when it is missing"
    )
    analyst_work_dir: Path = Field(default=Path("/tmp/stratus-analyst"), description="local copies of S3 files")
    analyst_max_rows: int = Field(default=1000, ge=1, le=50_000, description="row cap of every query")
    analyst_max_result_bytes: int = Field(default=2_000_000, ge=10_000, le=20_000_000)
    analyst_statement_timeout_s: float = Field(default=5.0, gt=0, le=25, description="per execution")
    analyst_max_database_bytes: int = Field(default=256 * 1024 * 1024, ge=1024, description="SQLite/DuckDB file size")
    analyst_max_repairs: int = Field(default=2, ge=0, le=5, description="model retries after a refusal or error")
    analyst_cache_ttl_s: int = Field(default=3600, ge=0, le=7 * 24 * 3600, description="0 disables the cache")
    analyst_preview_rows: int = Field(default=20, ge=1, le=200, description="rows kept in history items")
    analyst_allowed_db_hosts: list[str] = Field(
        default_factory=list, description="PostgreSQL hosts: names, *.suffix, CIDRs; loopback is allowed locally"
    )
    analyst_secret_prefix: str = Field(default="stratus/analyst", description="Secrets Manager name prefix")
    analyst_download_url_ttl_s: int = Field(default=900, ge=60, le=7 * 24 * 3600)

    @field_validator("analyst_allowed_db_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _loopback_when_local(self) -> AnalystSettings:
        if not self.analyst_allowed_db_hosts and self.stage in ("local", "test"):
            object.__setattr__(self, "analyst_allowed_db_hosts", list(LOOPBACK_HOSTS))
        return self


@per_container
def get_analyst_settings() -> AnalystSettings:
    return AnalystSettings()
