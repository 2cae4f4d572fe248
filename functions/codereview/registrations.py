"""Registrations: which tenant owns a repository webhook or a GitHub App, and with which secrets.

A webhook is matched to registrations by the target GitHub names in its headers
(``X-GitHub-Hook-Installation-Target-Type/-ID``) before its body is read; the registration whose webhook
secret produced ``X-Hub-Signature-256`` is the owner. Two tenants claiming the same repository cannot
steal each other's deliveries: only the real owner knows the secret.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from codereview.items import RegistrationItem
from codereview.repository import RegistrationRepository
from codereview.schemas import (
    AppRegistrationRequest,
    InstallationView,
    RegistrationView,
    RepositoryRegistrationRequest,
)
from codereview.settings import CodeReviewServiceSettings
from stratus.cache import on_reset
from stratus.errors import NotFound, UpstreamUnavailable
from stratus.github.webhooks import signature_matches
from stratus.secrets import SecretStore

MAX_CANDIDATES = 10
CANDIDATES_TTL_S = 60.0  # another container sees a deleted registration this long; its worker then drops it
REFRESH_BEFORE_REJECT_S = 5.0


_candidates_lock = threading.Lock()
_candidates: dict[str, tuple[float, list[ResolvedRegistration]]] = {}
on_reset(_candidates.clear)


@dataclass(frozen=True)
class RegistrationSecret:
    """What one registration keeps in the secret store, as one JSON value."""

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


@dataclass(frozen=True)
class ResolvedRegistration:
    """The owner of a delivery, once its signature matched."""

    tenant_id: str
    registration_id: str
    kind: str
    secret_name: str
    repository: str | None
    app_id: int | None


def _view(item: RegistrationItem) -> RegistrationView:
    return RegistrationView(
        id=item.sk,
        kind="app" if item.kind == "app" else "repository",
        repository=item.repository,
        repository_id=int(item.repository_id) if item.repository_id is not None else None,
        app_id=int(item.app_id) if item.app_id is not None else None,
        hook_target=item.hook_target,
        has_token=bool(item.has_token),
        created_at=int(item.created_at),
        updated_at=int(item.updated_at),
    )


def hook_target(target_type: str, target_id: str) -> str | None:
    """``repository#<id>`` or ``app#<id>`` from the delivery headers; None for targets we do not serve."""
    kind = target_type.strip().lower()
    if not target_id.strip().isdigit():
        return None
    if kind == "repository":
        return f"repository#{int(target_id)}"
    if kind in ("integration", "app"):  # GitHub has used both names for App webhooks
        return f"app#{int(target_id)}"
    return None


def _target_and_secret(
    request: RepositoryRegistrationRequest | AppRegistrationRequest,
) -> tuple[str, str, RegistrationSecret]:
    """The registration id, its webhook target and what goes into its secret."""
    if isinstance(request, RepositoryRegistrationRequest):
        return (
            f"repo-{request.repository_id}",
            f"repository#{request.repository_id}",
            RegistrationSecret(
                webhook_secret=request.webhook_secret.get_secret_value(),
                github_token=request.github_token.get_secret_value() if request.github_token else None,
            ),
        )
    return (
        f"app-{request.app_id}",
        f"app#{request.app_id}",
        RegistrationSecret(
            webhook_secret=request.webhook_secret.get_secret_value(),
            private_key=request.private_key.get_secret_value().strip() + "\n",
        ),
    )


class RegistrationService:
    def __init__(
        self, settings: CodeReviewServiceSettings, repository: RegistrationRepository, secrets: SecretStore
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._secrets = secrets

    def register(
        self, tenant_id: str, request: RepositoryRegistrationRequest | AppRegistrationRequest
    ) -> tuple[RegistrationView, bool]:
        """Create or replace (rotate secrets of) a registration; returns it and whether it is new."""
        now = int(time.time())
        registration_id, target, value = _target_and_secret(request)
        existing = self._repository.find(tenant_id, registration_id, consistent=True)
        name = secret_name(self._settings.codereview_secret_prefix, tenant_id, registration_id)
        # The secret first: a registration item never points at a secret that does not exist.
        self._secrets.put(name, value.to_json(), tags={"tenant": tenant_id, "service": "codereview"})
        repository = request if isinstance(request, RepositoryRegistrationRequest) else None
        try:
            item = self._repository.save(
                tenant_id,
                registration_id,
                kind=request.kind,
                hook_target=target,
                repository=repository.repository if repository else None,
                repository_id=repository.repository_id if repository else None,
                app_id=request.app_id if isinstance(request, AppRegistrationRequest) else None,
                secret_name=name,
                has_token=value.github_token is not None or value.private_key is not None,
                created_at=int(existing.created_at) if existing else now,
                updated_at=now,
            )
        except Exception:
            if existing is None:  # nothing half-written: a new registration's secret goes with it
                self._secrets.delete(name)
            raise
        with _candidates_lock:
            _candidates.pop(target, None)
        return _view(item), existing is None

    def secret_of(self, registration: ResolvedRegistration, *, max_age_s: float | None = None) -> RegistrationSecret:
        """The registration's secret, from the container's cache unless older than ``max_age_s``."""
        try:
            if max_age_s is None:
                text = self._secrets.get(registration.secret_name)
            else:
                text = self._secrets.get(registration.secret_name, max_age_s=max_age_s)
        except NotFound as exc:
            raise UpstreamUnavailable(
                f"the secret of registration {registration.registration_id} is missing; register it again"
            ) from exc
        return RegistrationSecret.from_json(text)

    def list_for(self, tenant_id: str) -> list[RegistrationView]:
        return [_view(item) for item in self._repository.list_for(tenant_id)]

    def get(self, tenant_id: str, registration_id: str) -> RegistrationView:
        view = _view(self._item(tenant_id, registration_id))
        if view.kind == "app":
            view.installations = [
                InstallationView(
                    id=int(item.sk),
                    account=item.account,
                    status=item.status,
                    repositories=[str(name) for name in item.repositories or []],
                    updated_at=int(item.updated_at),
                )
                for item in self._repository.installations(tenant_id, registration_id)
            ]
        return view

    def _item(self, tenant_id: str, registration_id: str) -> RegistrationItem:
        item = self._repository.find(tenant_id, registration_id)
        if item is None:
            raise NotFound(f"registration {registration_id} not found")
        return item

    def delete(self, tenant_id: str, registration_id: str) -> None:
        item = self._item(tenant_id, registration_id)
        self._repository.delete(item)
        self._secrets.delete(item.secret_name)
        with _candidates_lock:
            _candidates.pop(item.hook_target, None)

    def resolved(self, tenant_id: str, registration_id: str) -> ResolvedRegistration:
        item = self._item(tenant_id, registration_id)
        return ResolvedRegistration(
            tenant_id, item.sk, item.kind, item.secret_name, item.repository, int(item.app_id) if item.app_id else None
        )

    def candidates(self, target: str) -> list[ResolvedRegistration]:
        """Registrations naming this webhook target; a found list is cached briefly (the webhook is hot)."""
        now = time.monotonic()
        with _candidates_lock:
            cached = _candidates.get(target)
        if cached is not None and now - cached[0] < CANDIDATES_TTL_S:
            return cached[1]
        found = self._query_candidates(target)
        if found:  # never cache "not registered": a registration made a second ago must work at once
            with _candidates_lock:
                _candidates[target] = (now, found)
        return found

    def _query_candidates(self, target: str) -> list[ResolvedRegistration]:
        found: list[ResolvedRegistration] = []
        for item in self._repository.by_hook_target(target, MAX_CANDIDATES):
            found.append(
                ResolvedRegistration(
                    tenant_id=item.tenant_id,
                    registration_id=item.sk,
                    kind=item.kind,
                    secret_name=item.secret_name,
                    repository=item.repository,
                    app_id=int(item.app_id) if item.app_id is not None else None,
                )
            )
        return found

    def owner(
        self, candidates: list[ResolvedRegistration], body: bytes, signature: str
    ) -> ResolvedRegistration | None:
        """The candidate whose webhook secret signed ``body``; every candidate is checked in constant time."""
        owner: ResolvedRegistration | None = None
        for candidate in candidates:
            secret = self.secret_of(candidate)
            matched = signature_matches(secret.webhook_secret, body, signature)
            if not matched:
                # The secret may have been rotated by another container: re-read it (once) unless read just now.
                fresh = self.secret_of(candidate, max_age_s=REFRESH_BEFORE_REJECT_S)
                if fresh.webhook_secret != secret.webhook_secret:
                    matched = signature_matches(fresh.webhook_secret, body, signature)
            if matched and owner is None:
                owner = candidate
        return owner

    def record_installation(
        self,
        tenant_id: str,
        registration_id: str,
        installation_id: int,
        action: str,
        account: str | None,
        repositories: list[str],
    ) -> None:
        status = {"deleted": "deleted", "suspend": "suspended"}.get(action, "active")
        self._repository.save_installation(
            tenant_id,
            installation_id,
            registration_id=registration_id,
            account=account,
            status=status,
            repositories=repositories,
            updated_at=int(time.time()),
        )
