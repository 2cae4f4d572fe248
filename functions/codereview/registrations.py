"""Registrations: which tenant owns a repository webhook or a GitHub App, and with which secrets.

A webhook is matched to registrations by the target GitHub names in its headers
(``X-GitHub-Hook-Installation-Target-Type/-ID``) before its body is read; the registration whose webhook
secret produced ``X-Hub-Signature-256`` is the owner. Two tenants claiming the same repository cannot
steal each other's deliveries: only the real owner knows the secret.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from codereview import secrets
from codereview.domain import validate_repository
from codereview.models import InstallationItem, RegistrationItem, bind_tables
from codereview.settings import CodeReviewServiceSettings
from stratus.cache import on_reset
from stratus.errors import NotFound
from stratus.github.webhooks import signature_matches
from stratus.storage import tenant_key

MAX_CANDIDATES = 10
CANDIDATES_TTL_S = 60.0  # another container sees a deleted registration this long; its worker then drops it
REFRESH_BEFORE_REJECT_S = 5.0
WEBHOOK_PATH = "/codereview/webhooks/github"


_candidates_lock = threading.Lock()
_candidates: dict[str, tuple[float, list[ResolvedRegistration]]] = {}
on_reset(_candidates.clear)


class RepositoryRegistration(BaseModel):
    """A repository webhook you created on GitHub, with the secret you gave it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["repository"]
    repository: str = Field(description="owner/name")
    repository_id: int = Field(gt=0, description="GitHub's numeric repository id (gh api repos/OWNER/NAME --jq .id)")
    webhook_secret: SecretStr = Field(min_length=16, max_length=256)
    github_token: SecretStr | None = Field(
        default=None, description="token with pull_requests:write and contents:read for this repository"
    )

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        return validate_repository(value)


class AppRegistration(BaseModel):
    """Your own GitHub App: its webhook secret and private key; every installation of it belongs to you."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["app"]
    app_id: int = Field(gt=0)
    webhook_secret: SecretStr = Field(min_length=16, max_length=256)
    private_key: SecretStr = Field(description="the App's PEM private key")

    @field_validator("private_key")
    @classmethod
    def _pem(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value().strip()
        if not (text.startswith("-----BEGIN") and "PRIVATE KEY-----" in text.splitlines()[0]):
            raise ValueError("private_key must be the PEM file GitHub generated for the App")
        return value


RegistrationRequest = Annotated[RepositoryRegistration | AppRegistration, Field(discriminator="kind")]


class Installation(BaseModel):
    id: int
    account: str | None
    status: str
    repositories: list[str]
    updated_at: int


class Registration(BaseModel):
    id: str
    kind: Literal["repository", "app"]
    repository: str | None = None
    repository_id: int | None = None
    app_id: int | None = None
    hook_target: str = Field(description="what GitHub's delivery headers name: repository#<id> or app#<id>")
    webhook_path: str = WEBHOOK_PATH
    has_token: bool
    created_at: int
    updated_at: int
    installations: list[Installation] = Field(default_factory=list, description="App installations seen so far")


@dataclass(frozen=True)
class ResolvedRegistration:
    """The owner of a delivery, once its signature matched."""

    tenant_id: str
    registration_id: str
    kind: str
    secret_name: str
    repository: str | None
    app_id: int | None


def _view(item: RegistrationItem) -> Registration:
    return Registration(
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


class Registrations:
    def __init__(self, settings: CodeReviewServiceSettings) -> None:
        self._settings = settings
        bind_tables(settings.codereview_table)

    def register(self, tenant_id: str, request: RepositoryRegistration | AppRegistration) -> tuple[Registration, bool]:
        """Create or replace (rotate secrets of) a registration; returns it and whether it is new."""
        now = int(time.time())
        if isinstance(request, RepositoryRegistration):
            registration_id = f"repo-{request.repository_id}"
            target = f"repository#{request.repository_id}"
            value = secrets.RegistrationSecret(
                webhook_secret=request.webhook_secret.get_secret_value(),
                github_token=request.github_token.get_secret_value() if request.github_token else None,
            )
        else:
            registration_id = f"app-{request.app_id}"
            target = f"app#{request.app_id}"
            value = secrets.RegistrationSecret(
                webhook_secret=request.webhook_secret.get_secret_value(),
                private_key=request.private_key.get_secret_value().strip() + "\n",
            )
        pk = tenant_key(tenant_id, "REGISTRATION")
        try:
            existing: RegistrationItem | None = RegistrationItem.get(pk, registration_id, consistent_read=True)
        except RegistrationItem.DoesNotExist:
            existing = None
        name = secrets.secret_name(self._settings.codereview_secret_prefix, tenant_id, registration_id)
        # The secret first: a registration item never points at a secret that does not exist.
        secrets.save_secret(name, value, tags={"tenant": tenant_id, "service": "codereview"})
        item = RegistrationItem(
            pk,
            registration_id,
            kind=request.kind,
            hook_target=target,
            repository=request.repository if isinstance(request, RepositoryRegistration) else None,
            repository_id=request.repository_id if isinstance(request, RepositoryRegistration) else None,
            app_id=request.app_id if isinstance(request, AppRegistration) else None,
            secret_name=name,
            has_token=value.github_token is not None or value.private_key is not None,
            created_at=int(existing.created_at) if existing else now,
            updated_at=now,
        )
        try:
            item.save()
        except Exception:
            if existing is None:  # nothing half-written: a new registration's secret goes with it
                secrets.delete_secret(name)
            raise
        with _candidates_lock:
            _candidates.pop(target, None)
        return _view(item), existing is None

    def list_for(self, tenant_id: str) -> list[Registration]:
        return [_view(item) for item in RegistrationItem.query(tenant_key(tenant_id, "REGISTRATION"))]

    def get(self, tenant_id: str, registration_id: str) -> Registration:
        view = _view(self._item(tenant_id, registration_id))
        if view.kind == "app":
            view.installations = [
                Installation(
                    id=int(item.sk),
                    account=item.account,
                    status=item.status,
                    repositories=[str(name) for name in item.repositories or []],
                    updated_at=int(item.updated_at),
                )
                for item in InstallationItem.query(tenant_key(tenant_id, "INSTALLATION"))
                if item.registration_id == registration_id
            ]
        return view

    def _item(self, tenant_id: str, registration_id: str) -> RegistrationItem:
        try:
            item: RegistrationItem = RegistrationItem.get(tenant_key(tenant_id, "REGISTRATION"), registration_id)
        except RegistrationItem.DoesNotExist as exc:
            raise NotFound(f"registration {registration_id} not found") from exc
        return item

    def delete(self, tenant_id: str, registration_id: str) -> None:
        item = self._item(tenant_id, registration_id)
        item.delete()
        secrets.delete_secret(item.secret_name)
        with _candidates_lock:
            _candidates.pop(item.hook_target, None)

    def resolved(self, tenant_id: str, registration_id: str) -> ResolvedRegistration:
        item = self._item(tenant_id, registration_id)
        return ResolvedRegistration(
            tenant_id, item.sk, item.kind, item.secret_name, item.repository, int(item.app_id) if item.app_id else None
        )

    # -- webhook ownership ---------------------------------------------------------------------

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
        for item in RegistrationItem.by_hook_target.query(target, limit=MAX_CANDIDATES):
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

    @staticmethod
    def owner(candidates: list[ResolvedRegistration], body: bytes, signature: str) -> ResolvedRegistration | None:
        """The candidate whose webhook secret signed ``body``; every candidate is checked in constant time."""
        owner: ResolvedRegistration | None = None
        for candidate in candidates:
            secret = secrets.load_secret(candidate.secret_name)
            matched = signature_matches(secret.webhook_secret, body, signature)
            age = secrets.cached_age_s(candidate.secret_name)
            if not matched and age is not None and age > REFRESH_BEFORE_REJECT_S:
                # The secret may have been rotated by another container: re-read it once before refusing.
                secret = secrets.load_secret(candidate.secret_name, max_age_s=0)
                matched = signature_matches(secret.webhook_secret, body, signature)
            if matched and owner is None:
                owner = candidate
        return owner

    # -- App installations ---------------------------------------------------------------------

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
        InstallationItem(
            tenant_key(tenant_id, "INSTALLATION"),
            str(installation_id),
            registration_id=registration_id,
            account=account,
            status=status,
            repositories=repositories,
            updated_at=int(time.time()),
        ).save()

    def installation_status(self, tenant_id: str, installation_id: int) -> str | None:
        try:
            item = InstallationItem.get(tenant_key(tenant_id, "INSTALLATION"), str(installation_id))
        except InstallationItem.DoesNotExist:
            return None
        return str(item.status)
