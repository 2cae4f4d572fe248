"""BlobStore.copy and size against an embedded S3: always inside the tenant's prefix, NotFound when missing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stratus.errors import NotFound, ValidationFailed
from stratus.storage import BlobStore

BUCKET = "stratus-blobs"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def blobs(s3: Any) -> BlobStore:
    return BlobStore(BUCKET, client=s3)


def test_copy_duplicates_the_object_inside_the_tenants_prefix(blobs: BlobStore, s3: Any) -> None:
    # Given
    blobs.put("acme", "uploads/chinook.sqlite", b"SQLite format 3\x00", "application/vnd.sqlite3")

    # When
    stored = blobs.copy("acme", "uploads/chinook.sqlite", "databases/db-1.sqlite")

    # Then
    assert stored == "acme/databases/db-1.sqlite"
    assert blobs.get("acme", "databases/db-1.sqlite") == b"SQLite format 3\x00"
    assert blobs.get("acme", "uploads/chinook.sqlite") == b"SQLite format 3\x00"
    assert s3.head_object(Bucket=BUCKET, Key=stored)["ContentType"] == "application/vnd.sqlite3"


def test_copying_a_missing_object_is_not_found(blobs: BlobStore) -> None:
    with pytest.raises(NotFound, match=r"object uploads/none\.sqlite not found"):
        blobs.copy("acme", "uploads/none.sqlite", "databases/db-1.sqlite")


def test_another_tenants_object_cannot_be_copied(blobs: BlobStore) -> None:
    # Given globex's object
    blobs.put("globex", "uploads/secret.sqlite", b"globex data", "application/octet-stream")

    # When acme names it, with or without climbing out of its prefix
    with pytest.raises(NotFound):
        blobs.copy("acme", "globex/uploads/secret.sqlite", "mine.sqlite")
    with pytest.raises(ValidationFailed) as climbing:
        blobs.copy("acme", "../globex/uploads/secret.sqlite", "mine.sqlite")

    # Then nothing was written for acme
    assert climbing.value.extensions == {"field": "key"}
    with pytest.raises(NotFound):
        blobs.size("acme", "mine.sqlite")


def test_a_copy_target_cannot_leave_the_tenants_prefix(blobs: BlobStore) -> None:
    blobs.put("acme", "a.txt", b"a", "text/plain")

    with pytest.raises(ValidationFailed):
        blobs.copy("acme", "a.txt", "../globex/a.txt")


def test_size_is_the_stored_byte_count(blobs: BlobStore) -> None:
    blobs.put("acme", "reports/r-1.md", "résumé\n".encode(), "text/markdown")

    assert blobs.size("acme", "reports/r-1.md") == 9


def test_size_of_a_missing_object_is_not_found(blobs: BlobStore) -> None:
    with pytest.raises(NotFound, match=r"object reports/none\.md not found"):
        blobs.size("acme", "reports/none.md")
