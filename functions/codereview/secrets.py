"""Registration secrets (webhook secret, GitHub token or App private key) in Secrets Manager.

One secret per registration, named ``<CODEREVIEW_SECRET_PREFIX>/<tenant>/<registration>``; values are cached
per container for a few minutes so the webhook path rarely pays for a Secrets Manager call.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from stratus import aws
from stratus.cache import on_reset
from stratus.errors import UpstreamUnavailable
from stratus.observability import logger

CACHE_TTL_S = 300.0
_lock = threading.Lock()
_cache: dict[str, tuple[float, RegistrationSecret]] = {}
on_reset(_cache.clear)


@dataclass(frozen=True)
class RegistrationSecret:
    webhook_secret: str
    github_token: str | None = None
    private_key: str | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v is not None})

    @classmethod
    def from_json(cls, text: str) -> RegistrationSecret:
        data = json.loads(text)
        return cls(
            webhook_secret=str(data["webhook_secret"]),
            github_token=data.get("github_token"),
            private_key=data.get("private_key"),
        )


def secret_name(prefix: str, tenant_id: str, registration_id: str) -> str:
    return f"{prefix.rstrip('/')}/{tenant_id}/{registration_id}"


def save_secret(name: str, value: RegistrationSecret, *, tags: dict[str, str]) -> None:
    client = aws.client("secretsmanager")
    try:
        client.create_secret(
            Name=name, SecretString=value.to_json(), Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=value.to_json())
    with _lock:
        _cache[name] = (time.monotonic(), value)


def delete_secret(name: str) -> None:
    client = aws.client("secretsmanager")
    try:
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    except client.exceptions.ResourceNotFoundException:
        logger.info("registration secret already gone", extra={"secret": name})
    with _lock:
        _cache.pop(name, None)


def load_secret(name: str, *, max_age_s: float = CACHE_TTL_S) -> RegistrationSecret:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(name)
    if cached is not None and now - cached[0] <= max_age_s:
        return cached[1]
    client = aws.client("secretsmanager")
    try:
        response = client.get_secret_value(SecretId=name)
    except client.exceptions.ResourceNotFoundException as exc:
        raise UpstreamUnavailable(f"the secret of this registration is missing ({name}); register it again") from exc
    value = RegistrationSecret.from_json(str(response["SecretString"]))
    with _lock:
        _cache[name] = (now, value)
    return value


def cached_age_s(name: str) -> float | None:
    with _lock:
        cached = _cache.get(name)
    return None if cached is None else time.monotonic() - cached[0]
