"""ruff as a subprocess: isolated from any project configuration, without a cache, with a timeout.

The sources are written to a private temporary directory (each under its own folder, keeping its file
name, so rules that depend on the name behave as on the real file) and every diagnostic is reported
against the name the caller gave. A run that could not happen is never reported as clean: the report
carries a note saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from stratus.cache import per_container
from stratus.observability import logger

__all__ = ["Diagnostic", "RuffProblem", "RuffReport", "find_ruff", "ruff_version", "run_ruff"]

RuffProblem = Literal["not-installed", "timed-out", "failed"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One ruff diagnostic; ``code`` is empty for a syntax error (ruff reports those without a rule)."""

    path: str
    line: int
    column: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RuffReport:
    diagnostics: tuple[Diagnostic, ...] = ()
    problem: RuffProblem | None = None
    note: str | None = None

    @property
    def ran(self) -> bool:
        return self.problem is None


def _executable(path: str | None) -> str | None:
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


@per_container
def find_ruff() -> str | None:
    """The ``ruff`` wheel's binary when installed and executable, else ``ruff`` on PATH (``/opt/bin`` on Lambda)."""
    try:
        from ruff import find_ruff_bin  # type: ignore[import-untyped]

        found = _executable(str(find_ruff_bin()))
    except (ImportError, FileNotFoundError):
        found = None
    return found or _executable(shutil.which("ruff"))


@per_container
def ruff_version() -> str | None:
    binary = find_ruff()
    if binary is None:
        return None
    try:
        completed = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() or None


def _command(binary: str, select: Sequence[str], ignore: Sequence[str], target_version: str | None) -> list[str]:
    command = [binary, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json"]
    command += ["--select", ",".join(select)]
    if ignore:
        command += ["--ignore", ",".join(ignore)]
    if target_version:
        command += ["--target-version", target_version]
    return [*command, "."]


def _write(root: Path, files: Mapping[str, str]) -> dict[str, str]:
    """Write each source as ``<n>/<file name>`` (no caller path escapes ``root``); returns written path -> name."""
    written: dict[str, str] = {}
    for number, (name, source) in enumerate(files.items()):
        file_name = PurePosixPath(name.replace("\\", "/")).name
        if file_name in ("", ".", ".."):
            file_name = "snippet.py"
        elif not file_name.endswith((".py", ".pyi")):
            file_name += ".py"  # ruff only discovers Python files by their suffix
        target = root / str(number) / file_name
        target.parent.mkdir()
        target.write_text(source, encoding="utf-8", errors="replace")
        written[f"{number}/{file_name}"] = name
    return written


def _diagnostics(stdout: str, root: Path, names: Mapping[str, str]) -> tuple[Diagnostic, ...] | None:
    try:
        raw: list[dict[str, Any]] = json.loads(stdout or "[]")
    except json.JSONDecodeError:
        return None
    found: list[Diagnostic] = []
    resolved = root.resolve()
    for entry in raw:
        relative = Path(str(entry.get("filename", ""))).resolve().relative_to(resolved).as_posix()
        name = names.get(relative)
        if name is None:
            continue
        location = entry.get("location") or {}
        found.append(
            Diagnostic(
                path=name,
                line=int(location.get("row") or 1),
                column=int(location.get("column") or 1),
                code=str(entry.get("code") or ""),
                message=str(entry.get("message") or ""),
            )
        )
    return tuple(found)


def run_ruff(
    files: Mapping[str, str],
    *,
    select: Sequence[str],
    ignore: Sequence[str] = (),
    timeout_s: float,
    target_version: str | None = None,
) -> RuffReport:
    """ruff's diagnostics for ``files`` (name -> source) with only the ``select``ed rules."""
    if not files:
        return RuffReport()
    binary = find_ruff()
    if binary is None:
        return RuffReport(problem="not-installed", note="ruff is not installed")
    with tempfile.TemporaryDirectory(prefix="stratus-ruff-") as directory:
        root = Path(directory)
        names = _write(root, files)
        try:
            completed = subprocess.run(
                _command(binary, select, ignore, target_version),
                cwd=root,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return RuffReport(problem="timed-out", note=f"ruff did not finish within {timeout_s:.0f} s")
        except OSError as exc:
            return RuffReport(problem="failed", note=f"ruff could not run ({exc})")
        if completed.returncode != 0:
            logger.warning("ruff failed", extra={"stderr": completed.stderr[-500:]})
            return RuffReport(
                problem="failed", note=f"ruff failed (exit {completed.returncode}): {completed.stderr.strip()[:200]}"
            )
        diagnostics = _diagnostics(completed.stdout, root, names)
    if diagnostics is None:
        return RuffReport(problem="failed", note="ruff's report could not be read")
    return RuffReport(diagnostics=diagnostics)
