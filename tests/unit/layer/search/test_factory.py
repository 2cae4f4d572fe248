"""Choosing the adapter from settings, and keeping heavy imports out of cold start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from stratus.config import Settings
from stratus.search import get_search_index, reset_search_indexes
from stratus.search.embedded import EmbeddedSearchIndex
from stratus.search.opensearch import OpenSearchIndex

from ..fresh_imports import loaded_after


@pytest.fixture(autouse=True)
def fresh_indexes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    reset_search_indexes()
    yield
    reset_search_indexes()


def test_the_embedded_backend_is_the_default_and_built_once_per_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given settings that only name a directory
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "search"))
    settings = Settings()

    # When the index is asked for twice
    first = get_search_index(settings)
    second = get_search_index(Settings())

    # Then one embedded index on that directory serves both
    assert isinstance(first, EmbeddedSearchIndex)
    assert first is second
    assert first.directory == tmp_path / "search"


def test_the_opensearch_backend_signs_with_the_session_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given OpenSearch settings and credentials in the environment, as Lambda provides them
    monkeypatch.setenv("SEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "https://abc123.eu-west-1.aoss.amazonaws.com")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")

    # When the index is built
    index = get_search_index(Settings())

    # Then it is the OpenSearch adapter; nothing was sent yet
    assert isinstance(index, OpenSearchIndex)


def test_opensearch_without_an_endpoint_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_BACKEND", "opensearch")

    with pytest.raises(RuntimeError, match="OPENSEARCH_ENDPOINT"):
        get_search_index(Settings())


def test_settings_refuse_an_endpoint_that_is_not_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "abc123.aoss.amazonaws.com")

    with pytest.raises(ValidationError, match="must be a URL"):
        Settings()


def test_importing_the_package_loads_no_search_engine() -> None:
    # numpy, tantivy and opensearch-py cost cold start; they load when an adapter is built
    assert loaded_after("import stratus.search", ["numpy", "tantivy", "opensearchpy"]) == []
