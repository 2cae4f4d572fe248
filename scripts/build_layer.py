"""Build one Lambda layer into ``$ARTIFACTS_DIR`` (called by ``layers/<name>/Makefile`` under ``sam build``).

Every layer resolves against one lock (``requirements.lock``) for one platform, so a package has the same
version in every layer and in the dev venv. A layer sits on lower layers (``--base``): whatever they ship is
left out, so each package ships once across the layers a function attaches. ``--drop`` names packages that are
resolved but never imported on any code path (the import proof of ``make package-check`` shows it); the build
fails when one of them is no longer resolved, so the list cannot go stale. ``--binary`` moves a wheel's
executable to ``bin/`` (on ``PATH`` as ``/opt/bin`` on Lambda) with its execute bit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PYTHON_VERSION = "3.12"
# Wheels' test suites are never imported at run time; Lambda's interpreter compiles its own byte-code.
STRIPPED_DIRECTORIES = frozenset({"__pycache__"})
STRIPPED_TEST_DIRECTORIES = frozenset({"tests"})
# Byte-code, type stubs and the C/Cython sources some wheels ship beside their compiled modules.
STRIPPED_SUFFIXES = (".pyc", ".pyi", ".c", ".pyx", ".pxd")


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str

    @property
    def key(self) -> str:
        return canonical_name(self.name)

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: ``PyYAML``, ``pyyaml`` and ``py_yaml`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def platform_tags(arch: str, glibc_minor: int) -> list[str]:
    """Every manylinux tag a glibc 2.<glibc_minor> system runs (pip expands only the legacy aliases itself)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 16, -1)]
    return [*tags, f"manylinux2014_{arch}"]


def pip_target_options(arch: str, glibc_minor: int) -> list[str]:
    platforms = [option for tag in platform_tags(arch, glibc_minor) for option in ("--platform", tag)]
    return [*platforms, "--implementation", "cp", "--python-version", PYTHON_VERSION, "--only-binary=:all:"]


def _pip(arguments: Sequence[str]) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-8000:])
        raise SystemExit(f"pip failed ({completed.returncode}): {' '.join(command)}")


def resolve(requirements: Iterable[Path], lock: Path, target_options: Sequence[str]) -> list[Distribution]:
    """The distributions ``pip install -r requirements -c lock`` would install for the target platform."""
    paths = list(requirements)
    if not paths:
        return []
    with tempfile.TemporaryDirectory(prefix="stratus-layer-resolve-") as scratch:
        report = Path(scratch) / "report.json"
        arguments = ["install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report)]
        arguments += ["--target", str(Path(scratch) / "target"), *target_options, "-c", str(lock)]
        for path in paths:
            arguments += ["-r", str(path)]
        _pip(arguments)
        items = json.loads(report.read_text())["install"]
    return [Distribution(item["metadata"]["name"], item["metadata"]["version"]) for item in items]


def strip_tree(root: Path, patterns: Sequence[str] = ()) -> None:
    """Remove byte-code caches, type stubs, the test suites wheels ship inside their packages and ``patterns``."""
    for pattern in patterns:
        matches = list(root.glob(pattern))
        if not matches:
            raise SystemExit(f"--strip {pattern}: matches nothing (stale pattern?)")
        for match in matches:
            if match.is_dir():
                shutil.rmtree(match)
            else:
                match.unlink()
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        nested_tests = directory.name in STRIPPED_TEST_DIRECTORIES and directory.parent != root
        if directory.name in STRIPPED_DIRECTORIES or nested_tests:
            shutil.rmtree(directory, ignore_errors=True)
    for suffix in STRIPPED_SUFFIXES:
        for path in root.rglob(f"*{suffix}"):
            path.unlink()


def keep_only(root: Path, rules: Sequence[str]) -> None:
    """``package=a,b``: of ``package``'s entries keep only ``a`` and ``b`` (the modules a caller really imports)."""
    for rule in rules:
        package, _, kept = rule.partition("=")
        directory = root / package
        names = set(kept.split(","))
        missing = names - {entry.name for entry in directory.iterdir()} if directory.is_dir() else names
        if missing:
            raise SystemExit(f"--keep-only {rule}: {sorted(missing)} not in {directory}")
        for entry in directory.iterdir():
            if entry.name not in names:
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()


def install_binaries(python_dir: Path, artifacts: Path, binaries: Sequence[str]) -> None:
    """Move each named wheel executable from ``python/bin`` to ``bin`` with its execute bit; drop the rest.

    ``pip --target`` writes console scripts whose shebang names the build interpreter: useless on Lambda.
    """
    scripts = python_dir / "bin"
    for name in binaries:
        source = scripts / name
        if not source.is_file():
            raise SystemExit(f"{name}: no such executable in the installed wheels ({scripts})")
        destination = artifacts / "bin" / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, destination)
        destination.chmod(destination.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    shutil.rmtree(scripts, ignore_errors=True)


def copy_source_package(source: Path, python_dir: Path, excluded: Sequence[str]) -> None:
    """Copy a package of this repository (``stratus``) into the layer, without its excluded subpackages."""
    top_level_exclusions = {source / name for name in excluded}

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if Path(directory, n) in top_level_exclusions or n in STRIPPED_DIRECTORIES}

    shutil.copytree(source, python_dir / source.name, ignore=ignore, dirs_exist_ok=True)


def tree_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def build_layer(arguments: argparse.Namespace) -> str:
    artifacts: Path = arguments.artifacts
    python_dir = artifacts / "python"
    python_dir.mkdir(parents=True, exist_ok=True)
    target_options = pip_target_options(arguments.arch, arguments.glibc_minor)

    own = resolve([arguments.requirements], arguments.lock, target_options)
    below = {d.key for d in resolve(arguments.base, arguments.lock, target_options)}
    dropped = {canonical_name(name) for name in arguments.drop}
    stale = dropped - {d.key for d in own}
    if stale:
        raise SystemExit(f"--drop names packages this layer no longer resolves: {sorted(stale)}")
    shipped = [d for d in own if d.key not in below and d.key not in dropped]

    if shipped:
        _pip(["install", "--no-deps", "--quiet", "--target", str(python_dir), *target_options]
             + [d.pin for d in shipped])
    install_binaries(python_dir, artifacts, arguments.binary)
    if arguments.source is not None:
        copy_source_package(arguments.source, python_dir, arguments.exclude)
    keep_only(python_dir, arguments.keep_only)
    strip_tree(python_dir, arguments.strip)

    in_lower = sorted(d.name for d in own if d.key in below)
    return (
        f"{arguments.artifacts.name or 'layer'}: {len(shipped)} packages, {tree_bytes(artifacts) / 2**20:.1f} MiB "
        f"for {arguments.arch}; shipped by a lower layer: {', '.join(in_lower) or 'none'}; "
        f"dropped (never imported): {', '.join(sorted(dropped)) or 'none'}"
    )


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements", type=Path, help="the layer's requirements.txt")
    parser.add_argument("--artifacts", type=Path, default=os.environ.get("ARTIFACTS_DIR"), help="$ARTIFACTS_DIR")
    parser.add_argument("--lock", type=Path, required=True)
    parser.add_argument("--arch", default="aarch64", choices=["aarch64", "x86_64"])
    parser.add_argument("--glibc-minor", type=int, default=28, help="newest manylinux_2_<n> tag accepted")
    parser.add_argument("--base", type=Path, action="append", default=[], help="a lower layer's requirements.txt")
    parser.add_argument("--drop", action="append", default=[], help="a resolved package no code path imports")
    parser.add_argument("--binary", action="append", default=[], help="a wheel executable to ship in bin/")
    parser.add_argument("--strip", action="append", default=[], help="a glob under python/ nothing imports")
    parser.add_argument("--keep-only", action="append", default=[], help="package=entry,... kept of a package")
    parser.add_argument("--source", type=Path, help="a package of this repository to ship in python/")
    parser.add_argument("--exclude", action="append", default=[], help="a subpackage of --source left out")
    arguments = parser.parse_args(argv)
    if arguments.artifacts is None:
        parser.error("--artifacts (or ARTIFACTS_DIR) is required")
    return arguments


if __name__ == "__main__":
    print(build_layer(parse_arguments(sys.argv[1:])))
