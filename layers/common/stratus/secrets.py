"""Secrets: the one port for values that never belong in a table, a log or a response.

On AWS the adapter is Secrets Manager (the local stack uses the embedded one). Values are strings;
callers that keep several fields in one secret encode them as JSON themselves. Reads are cached per
container for a few minutes, so a hot path (a webhook signature check) rarely pays for a call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

from stratus import aws
from stratus.cache import per_container
from stratus.errors import NotFound, UpstreamFailed
from stratus.observability import logger

__all__ = ["SecretStore", "SecretsManagerStore", "get_secret_store"]

DEFAULT_CACHE_TTL_S = 300.0


class SecretStore(Protocol):
    def put(self, name: str, value: str, *, tags: Mapping[str, str] | None = None, description: str = "") -> str:
        """Create or replace the secret ``name``; returns its id (an ARN on AWS)."""
        ...

    def get(self, name: str, *, max_age_s: float = DEFAULT_CACHE_TTL_S) -> str:
        """The value, from the cache when younger than ``max_age_s``; ``NotFound`` when there is none."""
        ...

    def delete(self, name: str) -> None:
        """Idempotent: deleting a missing secret succeeds."""
        ...


class SecretsManagerStore:
    """Secrets Manager behind the port; client errors become ``UpstreamFailed`` without the provider's text."""

    def __init__(self, client: Any | None = None, *, recovery_window_days: int | None = None) -> None:
        self._client = client
        # None deletes at once (a rotated registration must not keep its old secret); 7-30 keeps a recovery window.
        self._recovery_window_days = recovery_window_days
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, str]] = {}
        self._names: dict[str, str] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("secretsmanager")
        return self._client

    def put(self, name: str, value: str, *, tags: Mapping[str, str] | None = None, description: str = "") -> str:
        client = self.client
        try:
            try:
                created = client.create_secret(
                    Name=name,
                    SecretString=value,
                    Description=description,
                    Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
                )
                arn = str(created["ARN"])
            except client.exceptions.ResourceExistsException:
                arn = str(client.put_secret_value(SecretId=name, SecretString=value)["ARN"])
        except client.exceptions.ClientError as error:
            logger.warning("secret not stored", extra={"secret": name, "error": str(error)})
            raise UpstreamFailed("the secret could not be stored; try again") from error
        with self._lock:
            self._cache[name] = (time.monotonic(), value)
            self._names[arn] = name  # delete(arn) must also forget the copy cached under the name
        return arn

    def get(self, name: str, *, max_age_s: float = DEFAULT_CACHE_TTL_S) -> str:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and now - cached[0] <= max_age_s:
            return cached[1]
        client = self.client
        try:
            response = client.get_secret_value(SecretId=name)
        except client.exceptions.ResourceNotFoundException as error:
            raise NotFound(f"secret {name} does not exist") from error
        except client.exceptions.ClientError as error:
            logger.warning("secret not read", extra={"secret": name, "error": str(error)})
            raise UpstreamFailed("the secret could not be read; try again") from error
        value = str(response["SecretString"])
        with self._lock:
            self._cache[name] = (now, value)
        return value

    def delete(self, name: str) -> None:
        client = self.client
        options: dict[str, Any] = (
            {"ForceDeleteWithoutRecovery": True}
            if self._recovery_window_days is None
            else {"RecoveryWindowInDays": self._recovery_window_days}
        )
        try:
            client.delete_secret(SecretId=name, **options)
        except client.exceptions.ResourceNotFoundException:
            logger.info("secret already gone", extra={"secret": name})
        with self._lock:
            self._cache.pop(name, None)
            self._cache.pop(self._names.pop(name, name), None)

    def cached_age_s(self, name: str) -> float | None:
        """How old the cached value is (None when not cached): lets callers decide to re-read after a miss."""
        with self._lock:
            cached = self._cache.get(name)
        return None if cached is None else time.monotonic() - cached[0]


@per_container
def get_secret_store() -> SecretsManagerStore:
    """The container's secret store (one cache per container, forgotten by ``reset_containers``)."""
    return SecretsManagerStore()
