"""Import boundaries, read from the source (AST): a new service or module is covered the day it lands.

- services (top-level packages of ``functions/``) never import each other;
- the layer (``layers/common/stratus``) never imports a service;
- Lambda code (``functions/`` and the layer except ``stratus.local``) never imports ``stratus.local``;
- nothing but ``stratus.local`` and the tests imports moto.
Imports inside functions (lazy imports) count as much as module-level ones.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
LAYER_ROOT = REPO / "layers" / "common"
LAYER = LAYER_ROOT / "stratus"
LOCAL = LAYER / "local"
# Python code outside the tests that is not shipped but still must not reach for moto itself.
TOOLING = (REPO / "bench", REPO / "scripts")


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str

    def __str__(self) -> str:
        shown = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{shown}:{self.line} imports {self.module}"


def services() -> list[str]:
    """Every top-level package of functions/: a directory holding Python code."""
    return sorted(
        entry.name
        for entry in FUNCTIONS.iterdir()
        if entry.is_dir() and not entry.name.startswith((".", "_")) and any(entry.rglob("*.py"))
    )


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts):
            yield path


def _package_of(path: Path, root: Path) -> list[str]:
    """The dotted package a file sits in, relative to its import root (``functions`` or ``layers/common``)."""
    return list(path.relative_to(root).parts[:-1])


def imports_of(path: Path, root: Path | None) -> Iterator[Import]:
    """Every module a file imports (relative imports resolved against ``root``), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and root is not None:
                package = _package_of(path, root)
                package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*package, base] if base else package)
            # `from stratus import local` imports stratus.local: count the names as submodules too.
            yield Import(path, node.lineno, base)
            for alias in node.names:
                yield Import(path, node.lineno, f"{base}.{alias.name}" if base else alias.name)


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_boundaries_see_every_service_and_the_layer() -> None:
    found = services()
    assert found, "no service found under functions/"
    assert all((FUNCTIONS / name).is_dir() for name in found)
    assert (LAYER / "__init__.py").is_file() and (LOCAL / "__init__.py").is_file()


@pytest.mark.parametrize("service", services())
def test_a_service_never_imports_another_service(service: str) -> None:
    others = [name for name in services() if name != service]
    crossings = [
        str(found)
        for path in python_files(FUNCTIONS / service)
        for found in imports_of(path, FUNCTIONS)
        if any(_is_within(found.module, other) for other in others)
    ]
    assert not crossings, (
        f"{service} imports another service (services talk through AWS or a layer port):\n" + "\n".join(crossings)
    )


def test_the_layer_never_imports_a_service() -> None:
    names = services()
    crossings = [
        str(found)
        for path in python_files(LAYER)
        for found in imports_of(path, LAYER_ROOT)
        if any(_is_within(found.module, service) for service in names)
    ]
    assert not crossings, "the layer imports a service (move what both need into the layer):\n" + "\n".join(crossings)


def _lambda_code() -> Iterator[tuple[Path, Path]]:
    for path in python_files(FUNCTIONS):
        yield path, FUNCTIONS
    for path in python_files(LAYER):
        if not path.is_relative_to(LOCAL):
            yield path, LAYER_ROOT


def test_lambda_code_never_imports_the_local_stack() -> None:
    crossings = [
        str(found)
        for path, root in _lambda_code()
        for found in imports_of(path, root)
        if _is_within(found.module, "stratus.local")
    ]
    assert not crossings, "Lambda code imports stratus.local (the embedded AWS never deploys):\n" + "\n".join(
        crossings
    )


def test_only_the_local_stack_and_the_tests_import_moto() -> None:
    sources = [*_lambda_code(), *((path, REPO) for root in TOOLING if root.is_dir() for path in python_files(root))]
    crossings = [
        str(found) for path, root in sources for found in imports_of(path, root) if _is_within(found.module, "moto")
    ]
    assert not crossings, "moto imported outside stratus.local and tests:\n" + "\n".join(crossings)


def test_a_crossing_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    # Given a service module that imports another service lazily, relatively and absolutely
    package = tmp_path / "billing"
    package.mkdir()
    module = package / "charges.py"
    module.write_text("import os\n\ndef f():\n    from docqa.answering import x\n    from ..docqa import y\n")

    # When its imports are read
    found = [str(item) for item in imports_of(module, tmp_path) if _is_within(item.module, "docqa")]

    # Then each names the line it is on
    assert [entry.rsplit(" imports ", 1)[0].rsplit(":", 1)[1] for entry in found] == ["4", "4", "5", "5"]
