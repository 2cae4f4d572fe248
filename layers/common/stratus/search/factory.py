"""The one place that picks the `SearchIndex` adapter from settings."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from stratus.config import get_settings

if TYPE_CHECKING:
    from stratus.config import Settings
    from stratus.search.models import SearchIndex

_lock = threading.Lock()
_indexes: dict[tuple[object, ...], SearchIndex] = {}


def get_search_index(settings: Settings | None = None) -> SearchIndex:
    """The process-wide index for ``settings`` (default: `get_settings()`), built on first use.

    Adapters are imported here, not at module load: numpy, tantivy and opensearch-py stay out of cold
    start until a search is actually made.
    """
    settings = settings or get_settings()
    if settings.search_backend == "embedded":
        key: tuple[object, ...] = ("embedded", settings.search_index_dir.resolve())
    else:
        key = (
            "opensearch",
            settings.opensearch_endpoint,
            settings.opensearch_index,
            settings.opensearch_service,
        )
    with _lock:
        index = _indexes.get(key)
        if index is None:
            index = _build(settings)
            _indexes[key] = index
        return index


def reset_search_indexes() -> None:
    """Forget built indexes (tests and the local stack change settings)."""
    with _lock:
        _indexes.clear()


def _build(settings: Settings) -> SearchIndex:
    if settings.search_backend == "embedded":
        from stratus.search.embedded import EmbeddedSearchIndex

        return EmbeddedSearchIndex(settings.search_index_dir)
    from stratus.search.opensearch import open_search_index

    return open_search_index(settings)
