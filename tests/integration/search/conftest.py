from __future__ import annotations

from pathlib import Path

import pytest

from stratus.search.embedded import EmbeddedSearchIndex


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "search"


@pytest.fixture
def index(index_dir: Path) -> EmbeddedSearchIndex:
    return EmbeddedSearchIndex(index_dir)
