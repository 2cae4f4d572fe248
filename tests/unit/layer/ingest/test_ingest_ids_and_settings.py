"""Deterministic chunk ids, settings defaults and validation, and parsing never failing unexpectedly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from stratus.config.ingest import IngestSettings
from stratus.errors import StratusError
from stratus.ingest import chunk_id, parse_document


def test_chunk_id_is_stable_across_calls_and_processes() -> None:
    # Then: a pinned value, so ids survive restarts, deploys and redeliveries of the same object version
    assert chunk_id("acme", "doc-1", "v3", 0) == "c59c5cd449abb67064c75333168b7f3d"
    assert chunk_id("acme", "doc-1", 3, 7) == chunk_id("acme", "doc-1", "3", 7)
    assert chunk_id("other-tenant", "doc-1", "v3", 0) != chunk_id("acme", "doc-1", "v3", 0)


@given(
    first=st.tuples(st.text(max_size=8), st.text(max_size=8), st.text(max_size=4), st.integers(0, 10_000)),
    second=st.tuples(st.text(max_size=8), st.text(max_size=8), st.text(max_size=4), st.integers(0, 10_000)),
)
def test_chunk_ids_differ_whenever_an_input_differs(
    first: tuple[str, str, str, int], second: tuple[str, str, str, int]
) -> None:
    assert (chunk_id(*first) == chunk_id(*second)) == (first == second)


def test_chunk_id_fields_cannot_run_into_each_other() -> None:
    assert chunk_id("ab", "c", "1", 0) != chunk_id("a", "bc", "1", 0)
    assert chunk_id("t", "d", "1", 2) != chunk_id("t", "d", "12", 0)


def test_chunk_id_rejects_a_negative_index() -> None:
    with pytest.raises(ValueError):
        chunk_id("t", "d", "v", -1)


def test_ingest_settings_defaults() -> None:
    # When
    defaults = IngestSettings()
    # Then
    assert defaults.ingest_chunk_strategy == "recursive"
    assert (defaults.ingest_chunk_tokens, defaults.ingest_chunk_overlap_tokens) == (300, 50)
    assert defaults.ingest_max_document_bytes == 50 * 1024 * 1024
    assert defaults.ingest_max_pages == 2000


def test_ingest_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    monkeypatch.setenv("INGEST_CHUNK_TOKENS", "512")
    monkeypatch.setenv("INGEST_CHUNK_STRATEGY", "markdown")
    monkeypatch.setenv("INGEST_MAX_PAGES", "10")
    # When
    configured = IngestSettings()
    # Then
    assert (configured.ingest_chunk_tokens, configured.ingest_chunk_strategy) == (512, "markdown")
    assert configured.ingest_max_pages == 10


@pytest.mark.parametrize(
    "overrides",
    [
        {"ingest_chunk_tokens": 100, "ingest_chunk_overlap_tokens": 60},
        {"ingest_chunk_tokens": 8},
        {"ingest_chunk_strategy": "semantic"},
        {"ingest_max_document_bytes": 0},
    ],
)
def test_ingest_settings_refuse_unusable_values(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        IngestSettings(**overrides)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.binary(max_size=600).map(lambda tail: b"%PDF-1.4\n" + tail),
        st.text(max_size=300).map(lambda text: f"<html><body>{text}</body></html>".encode()),
    ),
    content_type=st.sampled_from([None, "application/pdf", "text/plain", "text/markdown", "text/html", "image/png"]),
)
def test_parsing_arbitrary_bytes_returns_text_or_a_domain_error(data: bytes, content_type: str | None) -> None:
    try:
        document = parse_document(data, content_type, None)
    except StratusError as error:
        assert error.status in {413, 415, 422}
    else:
        assert document.has_text()
