"""Routes take their use cases from the wiring (so tests swap them), and the webhook's secret cache on the port."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from starlette.testclient import TestClient

from codereview import wiring
from codereview.domain import ReviewRules
from codereview.registrations import REFRESH_BEFORE_REJECT_S, RegistrationSecret, RegistrationService
from codereview.repository import RegistrationRepository
from codereview.schemas import ReviewSummaryView, RulesView
from codereview.settings import CodeReviewServiceSettings
from stratus.cache import reset_containers
from stratus.config import reset_settings
from stratus.github.webhooks import sign_payload
from stratus.identity import Principal
from stratus.web import current_principal, decode_cursor

ROLES: dict[str, tuple[str, ...]] = {"roles": ("member",)}


class FakeReviews:
    def __init__(self) -> None:
        self.starts: list[dict[str, Any] | None] = []

    def page(
        self, tenant_id: str, *, repository: str | None, state: str | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[ReviewSummaryView], dict[str, Any] | None]:
        self.starts.append(start)
        item = ReviewSummaryView(
            pr_id=7,
            repository="octo/app",
            number=3,
            title="t",
            url="",
            state="posted",
            head_sha="abc",
            last_reviewed_sha="abc",
            posted_review_ids=[1],
            updated_at=1,
        )
        return [item], None if start else {"pk": f"{tenant_id}#REVIEW", "sk": "7"}


class FakeRules:
    def __init__(self) -> None:
        self.stored: list[ReviewRules] = []

    def put(self, tenant_id: str, rules: ReviewRules) -> RulesView:
        self.stored.append(rules)
        return RulesView(rules=rules, configured=True, updated_at=1)


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    reset_settings()
    reset_containers()
    yield
    reset_settings()
    reset_containers()


@pytest.fixture
def app() -> Iterator[Any]:
    from codereview.app import app

    async def principal() -> Principal:
        return Principal(tenant_id="acme", user_id="alice", roles=ROLES["roles"])

    app.dependency_overrides[current_principal] = principal
    yield app
    app.dependency_overrides.clear()
    ROLES["roles"] = ("member",)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_swapped_review_service_answers_and_cursors_are_decoded_in_the_route(app: Any, client: TestClient) -> None:
    # Given the review use case swapped for a fake
    fake = FakeReviews()
    app.dependency_overrides[wiring.review_service] = lambda: fake

    # When a first page and then the next one are read
    first = client.get("/codereview/reviews", params={"limit": 1}).json()
    second = client.get("/codereview/reviews", params={"limit": 1, "cursor": first["next_cursor"]}).json()

    # Then the fake answered both; it saw positions (dicts), never the opaque cursor
    assert [item["pr_id"] for item in first["items"] + second["items"]] == [7, 7]
    assert decode_cursor("acme", first["next_cursor"]) == {"pk": "acme#REVIEW", "sk": "7"}
    assert fake.starts == [None, {"pk": "acme#REVIEW", "sk": "7"}] and second["next_cursor"] is None


def test_rules_go_to_the_swapped_service_only_for_an_admin(app: Any, client: TestClient) -> None:
    fake = FakeRules()
    app.dependency_overrides[wiring.rules_service] = lambda: fake

    refused = client.post("/codereview/settings/rules", json={"repository": "octo/app"})
    ROLES["roles"] = ("admin",)
    accepted = client.post("/codereview/settings/rules", json={"repository": "octo/app", "mode": "hold"})

    assert refused.status_code == 403 and refused.json()["required_role"] == "admin"
    assert accepted.status_code == 200 and accepted.json()["rules"]["mode"] == "hold"
    assert [rules.mode for rules in fake.stored] == ["hold"]


class AgingSecretStore:
    """A secret store whose cached copies have an age, like the Secrets Manager adapter's."""

    def __init__(self) -> None:
        self.provider: dict[str, str] = {}
        self.cache: dict[str, tuple[float, str]] = {}
        self.provider_reads = 0

    def put(self, name: str, value: str, *, tags: Mapping[str, str] | None = None, description: str = "") -> str:
        self.provider[name] = value
        self.cache[name] = (0.0, value)
        return name

    def get(self, name: str, *, max_age_s: float = 300.0) -> str:
        cached = self.cache.get(name)
        if cached is not None and cached[0] <= max_age_s:
            return cached[1]
        self.provider_reads += 1
        self.cache[name] = (0.0, self.provider[name])
        return self.provider[name]

    def delete(self, name: str) -> None:
        self.provider.pop(name, None)
        self.cache.pop(name, None)


def _rotated_elsewhere(cached_age_s: float) -> tuple[RegistrationService, AgingSecretStore, Any]:
    """A registration whose secret another container rotated; this container cached the old one."""
    from codereview.registrations import ResolvedRegistration

    store = AgingSecretStore()
    name = "stratus/test/codereview/acme/repo-1"
    store.provider[name] = RegistrationSecret(webhook_secret="new-secret-0123456789").to_json()
    store.cache[name] = (cached_age_s, RegistrationSecret(webhook_secret="old-secret-0123456789").to_json())
    settings = CodeReviewServiceSettings(codereview_table="codereview-test")
    service = RegistrationService(settings, RegistrationRepository(settings), store)
    candidate = ResolvedRegistration("acme", "repo-1", "repository", name, "octo/app", None)
    return service, store, candidate


def test_a_secret_rotated_by_another_container_is_re_read_once_before_a_delivery_is_refused() -> None:
    service, store, candidate = _rotated_elsewhere(cached_age_s=60.0)
    body = b'{"zen": "x"}'

    owner = service.owner([candidate], body, sign_payload("new-secret-0123456789", body))

    assert owner == candidate and store.provider_reads == 1


def test_a_secret_read_just_now_is_not_read_again_for_a_bad_signature() -> None:
    service, store, candidate = _rotated_elsewhere(cached_age_s=REFRESH_BEFORE_REJECT_S / 2)
    body = b'{"zen": "x"}'

    owner = service.owner([candidate], body, sign_payload("new-secret-0123456789", body))

    assert owner is None and store.provider_reads == 0
