"""Domain values of the platform and its pure decisions: password rules, sign-in backoff, ids, agent config."""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stratus.config.ai import OFFLINE_CHAT_MODEL_ID

_SLUG_RUN = re.compile(r"[^a-z0-9]+")
PRODUCTION_ALIAS: Final = "production"

# Tools an agent may name. A tool joins only with an implementation that keeps to the caller's tenant.
TOOL_REGISTRY: Final[Mapping[str, str]] = {}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def new_id(prefix: str) -> str:
    """``<prefix><12 hex of ms><8 random hex>``: unique, and later ids sort after earlier ones."""
    return f"{prefix}{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


def tenant_id_for(name: str) -> str:
    """A tenant id from its display name: a slug of it and a random suffix (names need not be unique)."""
    slug = _SLUG_RUN.sub("-", name.lower()).strip("-")[:40].strip("-") or "tenant"
    return f"{slug}-{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class WeakPassword:
    rule: str
    message: str


def weak_password(password: str, email: str, min_length: int) -> WeakPassword | None:
    """The first rule ``password`` breaks, or None. Length and variety only (NIST 800-63B: no composition rules)."""
    if len(password) < min_length:
        return WeakPassword("min_length", f"password must be at least {min_length} characters")
    if len(password) > 256:
        return WeakPassword("max_length", "password must be at most 256 characters")
    if len(set(password)) < 6:
        return WeakPassword("distinct_characters", "password must use at least 6 different characters")
    local_part = normalise_email(email).split("@", 1)[0]
    if len(local_part) >= 4 and local_part in password.lower():
        return WeakPassword("contains_email", "password must not contain the email address")
    return None


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    backoff_after: int
    backoff_base_s: float
    lockout_after: int
    lockout_s: int


def login_wait_s(failures: int, last_failure_at: float, now: float, policy: LoginPolicy) -> int:
    """Seconds before the next sign-in attempt of an email may be checked (0: now).

    The first ``backoff_after`` failures cost nothing; each later one doubles the wait; ``lockout_after``
    failures lock the email for ``lockout_s``. Counted per email, whether or not an account has it.
    """
    if failures < policy.backoff_after:
        return 0
    if failures >= policy.lockout_after:
        wait = float(policy.lockout_s)
    else:
        wait = min(policy.backoff_base_s * 2 ** (failures - policy.backoff_after), float(policy.lockout_s))
    return max(0, math.ceil(last_failure_at + wait - now))


def billable_model(model: str) -> bool:
    """A chat model the price table knows (usage must be billable); embedding models price no output."""
    if model == OFFLINE_CHAT_MODEL_ID:
        return True
    from stratus.ai.prices import price_of  # stratus.ai loads on the first config that names a model

    price = price_of(model)
    return price is not None and price.output_per_1k > 0


class AgentLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_output_tokens: int = Field(default=512, ge=1, le=4096)
    timeout_s: float = Field(default=20.0, gt=0, le=25, description="a run fails after this (at most 25 s)")
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)


class AgentConfig(BaseModel):
    """What a version freezes: the model, its instructions, its tools and its limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)
    model: str | None = Field(
        default=None, max_length=200, description="a chat model id from stratus.ai.prices; unset: the deployment's"
    )
    system_prompt: str = Field(default="", max_length=20_000)
    tools: tuple[str, ...] = Field(default=(), max_length=16, description="names from the tool registry")
    limits: AgentLimits = Field(default_factory=AgentLimits)

    @field_validator("name")
    @classmethod
    def _name_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str | None) -> str | None:
        if value is not None and not billable_model(value):
            raise ValueError(f"unknown chat model {value!r}: it must have a price in stratus.ai.prices")
        return value

    @field_validator("tools")
    @classmethod
    def _registered_tools(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(TOOL_REGISTRY))
        if unknown:
            known = ", ".join(sorted(TOOL_REGISTRY)) or "none yet"
            raise ValueError(f"unknown tools {unknown}; registered tools: {known}")
        return tuple(dict.fromkeys(value))


@dataclass(frozen=True, slots=True)
class User:
    tenant_id: str
    user_id: str
    email: str
    roles: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """What a sign-in or a refresh hands out."""

    user: User
    access_token: str
    access_expires_in: int
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True, slots=True)
class Invitation:
    tenant_id: str
    invitation_id: str
    email: str
    roles: tuple[str, ...]
    invited_by: str
    created_at: datetime
    expires_at: datetime
    accepted: bool


@dataclass(frozen=True, slots=True)
class Agent:
    tenant_id: str
    agent_id: str
    config: AgentConfig
    revision: int
    production_version: int | None
    latest_version: int
    created_at: datetime
    updated_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class AgentVersion:
    agent_id: str
    version: int
    config: AgentConfig
    revision: int
    created_at: datetime
    created_by: str


RunStatus = Literal["queued", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class Run:
    tenant_id: str
    run_id: str
    agent_id: str
    version: int
    status: RunStatus
    input: str
    output: str | None
    error: str | None
    model: str
    offline: bool
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    created_at: datetime
    user_id: str
    key_id: str | None
