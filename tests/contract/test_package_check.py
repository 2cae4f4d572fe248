"""What `make package-check` reports, on small hand-made build folders (the real build is `make package-check`)."""

from __future__ import annotations

from pathlib import Path

from scripts.build_layer import keep_only, platform_tags, strip_tree
from scripts.package_check import (
    LIMIT_BYTES,
    FunctionPackage,
    binary_problems,
    size_problems,
    size_table,
    third_party_imports,
)


def write(path: Path, size: int, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: the size counts, no disk is written
    path.chmod(mode)
    return path


def package(
    tmp_path: Path, code_bytes: int, layer_bytes: int, environment: dict[str, str] | None = None
) -> FunctionPackage:
    write(tmp_path / "Fn" / "svc" / "app.py", code_bytes)
    write(tmp_path / "Layer" / "python" / "lib.py", layer_bytes)
    return FunctionPackage("Fn", "svc.app.handler", tmp_path / "Fn", (tmp_path / "Layer",), (), environment or {})


def test_a_function_over_the_limit_fails_with_its_unzipped_bytes(tmp_path: Path) -> None:
    # Given code plus a layer one byte over Lambda's limit
    over = package(tmp_path, 1_000, LIMIT_BYTES - 999)

    # When
    problems = size_problems([over])

    # Then
    assert problems == [f"Fn: {LIMIT_BYTES + 1:,} bytes unzipped, over Lambda's {LIMIT_BYTES:,}"]
    assert "TOO BIG" in size_table([over])


def test_a_function_at_the_limit_fits(tmp_path: Path) -> None:
    fitting = package(tmp_path, 1_000, LIMIT_BYTES - 1_000)

    assert size_problems([fitting]) == []
    assert "fits" in size_table([fitting])


def test_ruff_without_its_execute_bit_is_reported(tmp_path: Path) -> None:
    # Given ruff where SAM's python builder used to leave it: present, not executable
    function = package(tmp_path, 10, 10)
    write(tmp_path / "Layer" / "bin" / "ruff", 10, mode=0o644)

    # Then
    assert binary_problems(function, ["ruff"]) == [f"Fn: {tmp_path / 'Layer' / 'bin' / 'ruff'} is not executable"]


def test_ruff_missing_from_every_layer_is_reported_and_an_executable_one_passes(tmp_path: Path) -> None:
    function = package(tmp_path, 10, 10)

    assert binary_problems(function, ["ruff"]) == ["Fn: ruff is not in bin/ of any attached layer"]
    write(tmp_path / "Layer" / "bin" / "ruff", 10, mode=0o755)
    assert binary_problems(function, ["ruff"]) == []


def test_an_exec_wrapper_that_lost_its_execute_bit_is_reported(tmp_path: Path) -> None:
    function = package(tmp_path, 10, 10, {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/svc/serve.sh"})
    write(tmp_path / "Fn" / "svc" / "serve.sh", 10, mode=0o644)

    assert binary_problems(function, []) == ["Fn: exec wrapper /var/task/svc/serve.sh is missing or not executable"]


def test_lazy_imports_inside_functions_count_as_imports_to_prove(tmp_path: Path) -> None:
    source = "import json\nfrom svc import x\n\ndef f():\n    from matplotlib.figure import Figure\n"
    (tmp_path / "mod.py").write_text(source)

    assert third_party_imports([tmp_path], {"svc"}) == {"matplotlib.figure"}


def test_layers_accept_every_manylinux_tag_up_to_the_runtime_glibc() -> None:
    tags = platform_tags("aarch64", 28)

    assert tags[0] == "manylinux_2_28_aarch64"
    assert "manylinux_2_17_aarch64" in tags
    assert tags[-1] == "manylinux2014_aarch64"


def test_stripping_removes_nested_test_suites_and_caches_but_keeps_top_level_packages(tmp_path: Path) -> None:
    write(tmp_path / "numpy" / "_core" / "tests" / "test_a.py", 1)
    write(tmp_path / "numpy" / "__pycache__" / "x.pyc", 1)
    write(tmp_path / "numpy" / "__init__.pyi", 1)
    write(tmp_path / "tests" / "__init__.py", 1)

    strip_tree(tmp_path)

    remaining = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert remaining == ["tests/__init__.py"]


def test_keep_only_leaves_the_named_entries_of_a_package(tmp_path: Path) -> None:
    for name in ("__init__.py", "agl.py", "misc/textTools.py", "varLib/x.py"):
        write(tmp_path / "fontTools" / name, 1)

    keep_only(tmp_path, ["fontTools=__init__.py,agl.py,misc"])

    assert sorted(p.name for p in (tmp_path / "fontTools").iterdir()) == ["__init__.py", "agl.py", "misc"]
