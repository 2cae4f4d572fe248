"""The secret store against an embedded Secrets Manager: put, get, the per-container cache, delete, NotFound."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stratus.cache import reset_containers
from stratus.errors import NotFound, UpstreamFailed
from stratus.secrets import SecretsManagerStore, get_secret_store


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture
def store(client: Any) -> SecretsManagerStore:
    return SecretsManagerStore(client)


def test_a_stored_secret_reads_back_with_its_tags_and_description(store: SecretsManagerStore, client: Any) -> None:
    # When
    arn = store.put("codereview/acme/app-42", '{"private_key": "pem"}', tags={"tenant": "acme"}, description="app")

    # Then
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:")
    assert SecretsManagerStore(client).get("codereview/acme/app-42") == '{"private_key": "pem"}'
    described = client.describe_secret(SecretId=arn)
    assert described["Description"] == "app" and described["Tags"] == [{"Key": "tenant", "Value": "acme"}]


def test_putting_an_existing_name_replaces_its_value(store: SecretsManagerStore, client: Any) -> None:
    first = store.put("webhook", "old")

    second = store.put("webhook", "new")

    assert second == first
    assert store.get("webhook") == "new"
    assert SecretsManagerStore(client).get("webhook") == "new"


def test_a_read_is_served_from_the_cache_until_it_is_older_than_max_age(
    store: SecretsManagerStore, client: Any
) -> None:
    # Given a value this container has read, then rotated by another container
    client.create_secret(Name="jwt", SecretString="v1")
    assert store.get("jwt") == "v1"
    client.put_secret_value(SecretId="jwt", SecretString="v2")

    # Then the cached value is served while young enough, the new one once it is too old
    assert store.get("jwt") == "v1"
    age = store.cached_age_s("jwt")
    assert age is not None and age < 5
    time.sleep(0.01)
    assert store.get("jwt", max_age_s=0.001) == "v2"


def test_a_missing_secret_is_not_found(store: SecretsManagerStore) -> None:
    with pytest.raises(NotFound, match="secret nothing-here does not exist"):
        store.get("nothing-here")
    assert store.cached_age_s("nothing-here") is None


def test_deleting_removes_the_secret_and_its_cached_value(store: SecretsManagerStore) -> None:
    # Given
    store.put("analyst/acme/db", "postgres://…")
    assert store.get("analyst/acme/db") == "postgres://…"

    # When
    store.delete("analyst/acme/db")

    # Then
    assert store.cached_age_s("analyst/acme/db") is None
    with pytest.raises(NotFound):
        store.get("analyst/acme/db")


def test_deleting_a_missing_secret_succeeds(store: SecretsManagerStore) -> None:
    store.delete("never-stored")
    store.delete("never-stored")


def test_a_provider_refusal_is_upstream_failed_without_the_providers_text(client: Any) -> None:
    # Given a secret scheduled for deletion with a recovery window (Secrets Manager refuses to read it)
    store = SecretsManagerStore(client, recovery_window_days=7)
    store.put("retired", "value")
    store.delete("retired")

    # When / Then
    with pytest.raises(UpstreamFailed) as refused:
        store.get("retired")
    assert refused.value.detail == "the secret could not be read; try again"
    assert "deletion" not in str(refused.value)


def test_each_container_has_one_store_and_a_reset_forgets_its_cache(client: Any) -> None:
    reset_containers()
    store = get_secret_store()
    store.put("shared", "one")

    assert get_secret_store() is store
    reset_containers()
    assert get_secret_store() is not store
    assert get_secret_store().cached_age_s("shared") is None
    reset_containers()


def test_a_deleted_secret_is_not_served_from_the_cache_under_its_arn(store: SecretsManagerStore) -> None:
    # Given a secret stored by name and read once by its ARN
    arn = store.put("analyst/acme/db-1", '{"password": "s3cret"}')
    assert store.get(arn) == '{"password": "s3cret"}'

    # When it is deleted by its ARN
    store.delete(arn)

    # Then neither its ARN nor its name still answers from the cache
    with pytest.raises(NotFound):
        store.get(arn)
    with pytest.raises(NotFound):
        store.get("analyst/acme/db-1")
