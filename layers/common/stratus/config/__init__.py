"""Settings for every function, built from small mixins and validated at cold start.

Nothing outside this package reads ``os.environ``: handlers ask for ``get_settings()``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from stratus.cache import per_container, reset_containers
from stratus.config.base import ConfigBase

Stage = Literal["local", "test", "dev", "prod"]


_Base = ConfigBase


class AwsSettings(_Base):
    aws_region: str = Field(
        default="",
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
        description="Region of every AWS client; Lambda always sets AWS_REGION.",
    )
    aws_endpoint_url: str | None = Field(default=None, description="Embedded AWS (moto server) endpoint; unset on AWS.")
    aws_connect_timeout_s: float = Field(default=3.0, gt=0, le=30)
    aws_read_timeout_s: float = Field(default=10.0, gt=0, le=300)
    aws_max_attempts: int = Field(default=4, ge=1, le=10)

    @field_validator("aws_region")
    @classmethod
    def _region_required(cls, value: str) -> str:
        if not value:
            raise ValueError("AWS_REGION must be set (Lambda sets it; the local stack sets it too)")
        return value


class ObservabilitySettings(_Base):
    stage: Stage = "local"
    service_name: str = Field(
        default="stratus", validation_alias=AliasChoices("POWERTOOLS_SERVICE_NAME", "SERVICE_NAME")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias=AliasChoices("POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")
    )
    metrics_namespace: str = Field(default="Stratus", validation_alias="POWERTOOLS_METRICS_NAMESPACE")


class IdentitySettings(_Base):
    identity_table: str = Field(default="", description="DynamoDB table of tenants and API keys")
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 signing secret (dev/test)")
    jwt_secret_arn: str | None = Field(default=None, description="Secrets Manager ARN of the signing secret")
    jwt_public_key: str | None = Field(default=None, description="PEM public key for RS256/ES256 tokens")
    jwt_issuer: str = "stratus"
    jwt_audience: str = "stratus-api"
    jwt_leeway_s: int = Field(default=30, ge=0, le=300)


class WebSettings(_Base):
    max_body_bytes: int = Field(default=6 * 1024 * 1024, gt=0, description="API Gateway payload limit")
    cors_origins: list[str] = Field(default_factory=list)


class RealtimeSettings(_Base):
    connections_table: str = ""
    websocket_callback_url: str | None = Field(
        default=None, description="https://{api}.execute-api.{region}.amazonaws.com/{stage} on AWS"
    )
    realtime_publisher: Literal["apigateway", "local"] = "apigateway"
    connection_ttl_s: int = Field(default=2 * 60 * 60, ge=60, description="idle connections expire after this")


from stratus.config.ai import AiSettings  # noqa: E402
from stratus.config.ingest import IngestSettings  # noqa: E402
from stratus.config.search import SearchSettings  # noqa: E402


class Settings(
    AwsSettings,
    ObservabilitySettings,
    IdentitySettings,
    WebSettings,
    RealtimeSettings,
    AiSettings,
    SearchSettings,
    IngestSettings,
):
    """Everything the layer needs; services extend it with their own mixins."""

    @model_validator(mode="after")
    def _jwt_key_source(self) -> Settings:
        if self.stage == "prod" and self.jwt_secret is not None and self.jwt_secret_arn is None:
            raise ValueError("in prod the JWT secret comes from Secrets Manager (JWT_SECRET_ARN), not plain env")
        return self


@per_container
def get_settings() -> Settings:
    """The process-wide settings, validated once per container."""
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    reset_containers()
