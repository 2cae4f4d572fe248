"""Chinook for the analyst's unit tests: a private copy per session, its catalog, and a digest to prove that
nothing ever wrote to it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from stratus.sql import Catalog
from stratus.sql.sqlite import SqliteDatabase
from tests.unit.analyst.chinook import chinook_sample


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def chinook_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("chinook-copy")
    source = chinook_sample(directory)
    copy = directory / "chinook-under-test.sqlite"
    shutil.copyfile(source, copy)
    return copy


@pytest.fixture(scope="session")
def chinook(chinook_path: Path) -> SqliteDatabase:
    return SqliteDatabase(chinook_path)


@pytest.fixture(scope="session")
def catalog(chinook: SqliteDatabase) -> Catalog:
    return chinook.introspect()
