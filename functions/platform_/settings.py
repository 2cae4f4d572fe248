"""Settings of the platform: the layer's settings, metering, and the platform mixin, validated at cold start."""

from __future__ import annotations

from pydantic import Field, model_validator

from stratus.cache import per_container
from stratus.config import Settings
from stratus.config.base import ConfigBase
from stratus.metering import MeteringSettings


class PlatformMixin(ConfigBase):
    platform_table: str = Field(default="", description="DynamoDB table of users, sessions, agents, versions, runs")
    platform_access_token_ttl_s: int = Field(default=900, ge=60, le=3600, description="lifetime of an access token")
    platform_refresh_token_ttl_s: int = Field(
        default=30 * 24 * 3600, ge=3600, le=365 * 24 * 3600, description="a sign-in's refresh tokens end after this"
    )
    platform_refresh_reuse_grace_s: float = Field(
        default=5.0, ge=0, le=60, description="a spent refresh token presented again this soon is a concurrent refresh"
    )
    platform_invitation_ttl_s: int = Field(
        default=7 * 24 * 3600, ge=3600, le=90 * 24 * 3600, description="an invitation can be accepted this long"
    )
    platform_password_min_length: int = Field(default=12, ge=8, le=64)
    # argon2id cost: RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes) by default.
    platform_password_time_cost: int = Field(default=3, ge=1, le=10)
    platform_password_memory_kib: int = Field(default=65536, ge=8, le=1024 * 1024)
    platform_password_parallelism: int = Field(default=4, ge=1, le=16)
    platform_login_backoff_after: int = Field(
        default=3, ge=1, le=20, description="failed sign-ins of an email before each next one must wait"
    )
    platform_login_backoff_base_s: float = Field(default=1.0, ge=0, le=60, description="first wait; doubles each time")
    platform_login_lockout_after: int = Field(default=10, ge=2, le=100, description="failed sign-ins that lock it")
    platform_login_lockout_s: int = Field(default=900, ge=1, le=24 * 3600, description="how long a lockout lasts")
    platform_run_timeout_s: float = Field(
        default=20.0, gt=0, le=25, description="longest synchronous run (API Gateway answers 503 at 29 s)"
    )

    platform_run_state_machine_arn: str = Field(default="", description="the state machine of asynchronous runs")

    @model_validator(mode="after")
    def _lockout_after_backoff(self) -> PlatformMixin:
        if self.platform_login_lockout_after <= self.platform_login_backoff_after:
            raise ValueError("PLATFORM_LOGIN_LOCKOUT_AFTER must exceed PLATFORM_LOGIN_BACKOFF_AFTER")
        return self


class PlatformSettings(Settings, MeteringSettings, PlatformMixin):
    """Everything the platform function reads from its environment."""


@per_container
def get_platform_settings() -> PlatformSettings:
    return PlatformSettings()
