"""Static checks of Python code a task contains: Python's own compiler, then ruff (pyflakes, bugbear, bandit rules).

ruff runs as a subprocess of its binary (shipped in the ``ruff`` wheel), isolated from any project
configuration, with a timeout. When the binary is missing or times out, the report says so and keeps
the compiler's verdict: a check that did not run is never reported as clean.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from stratus.agents.sources import TaskInput

__all__ = ["CheckReport", "CodeBlock", "Finding", "check_python", "code_blocks"]

Severity = Literal["error", "security", "warning"]
RUFF_RULES = ("F", "E7", "E9", "B", "S", "W6")
RUFF_IGNORED = ("S101",)  # assert is fine in snippets
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_PYTHON_LANGS = {"python", "py", "python3"}
_ERROR_CODES = ("E9", "F63", "F7", "F82")


@dataclass(frozen=True, slots=True)
class CodeBlock:
    name: str
    language: str
    code: str

    @property
    def is_python(self) -> bool:
        return self.language in _PYTHON_LANGS


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    column: int
    code: str
    message: str
    severity: Severity
    checker: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "checker": self.checker,
        }

    def describe(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.code} {self.message} ({self.severity})"


@dataclass(frozen=True, slots=True)
class CheckReport:
    file: str
    findings: tuple[Finding, ...]
    checkers: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "findings": [finding.as_dict() for finding in self.findings],
            "checkers": list(self.checkers),
            "notes": list(self.notes),
        }


def code_blocks(goal: str, inputs: Sequence[TaskInput]) -> list[CodeBlock]:
    """Fenced code in the goal and the inputs, and inputs that are Python files, in order of appearance."""
    blocks: list[CodeBlock] = []

    def fenced(text: str, origin: str) -> None:
        for number, match in enumerate(_FENCE.finditer(text), start=1):
            language = match.group(1).lower() or "python"
            code = match.group(2)
            if code.strip():
                blocks.append(
                    CodeBlock(
                        f"{origin}-snippet-{number}.py"
                        if language in _PYTHON_LANGS
                        else f"{origin}-snippet-{number}.{language}",
                        language,
                        code,
                    )
                )

    fenced(goal, "goal")
    for item in inputs:
        if item.name.endswith(".py"):
            blocks.append(CodeBlock(item.name, "python", item.content))
        else:
            fenced(item.content, re.sub(r"[^A-Za-z0-9_.-]", "_", item.name) or "input")
    return blocks


@lru_cache(maxsize=1)
def _ruff_binary() -> str | None:
    try:
        from ruff import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


@lru_cache(maxsize=1)
def ruff_version() -> str | None:
    binary = _ruff_binary()
    if binary is None:
        return None
    try:
        completed = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() or None


def _severity(code: str) -> Severity:
    if code.startswith(_ERROR_CODES):
        return "error"
    if code.startswith("S"):
        return "security"
    return "warning"


def _compile(code: str, filename: str) -> Finding | None:
    try:
        compile(code, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return Finding(
            file=filename,
            line=exc.lineno or 1,
            column=exc.offset or 1,
            code="E999",
            message=f"SyntaxError: {exc.msg}",
            severity="error",
            checker="python",
        )
    except ValueError as exc:  # e.g. null bytes in the source
        return Finding(filename, 1, 1, "E999", f"cannot compile: {exc}", "error", "python")
    return None


def _ruff(code: str, filename: str, timeout_s: float) -> tuple[list[Finding] | None, str | None]:
    binary = _ruff_binary()
    if binary is None:
        return None, "ruff is not installed here: only Python's compiler checked this code"
    command = [
        binary,
        "check",
        "--isolated",
        "--no-cache",
        "--output-format",
        "json",
        "--select",
        ",".join(RUFF_RULES),
        "--ignore",
        ",".join(RUFF_IGNORED),
        "--stdin-filename",
        filename,
        "-",
    ]
    try:
        completed = subprocess.run(command, input=code, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return None, f"ruff did not finish within {timeout_s:.0f}s: only Python's compiler checked this code"
    except OSError as exc:
        return None, f"ruff could not run ({exc}): only Python's compiler checked this code"
    if completed.returncode not in (0, 1):
        return None, f"ruff failed (exit {completed.returncode}): {completed.stderr.strip()[:200]}"
    try:
        raw: list[dict[str, Any]] = json.loads(completed.stdout or "[]")
    except json.JSONDecodeError:
        return None, "ruff's report could not be read: only Python's compiler checked this code"
    findings = [
        Finding(
            file=filename,
            line=int(entry.get("location", {}).get("row") or 1),
            column=int(entry.get("location", {}).get("column") or 1),
            code=str(entry.get("code") or "ruff"),
            message=str(entry.get("message", "")),
            severity=_severity(str(entry.get("code") or "")),
            checker="ruff",
        )
        for entry in raw
    ]
    return findings, None


def check_python(code: str, filename: str = "snippet.py", *, timeout_s: float = 10.0) -> CheckReport:
    """Every problem the compiler and ruff find in ``code``, most severe first."""
    syntax = _compile(code, filename)
    if syntax is not None:
        return CheckReport(filename, (syntax,), ("python",), ("ruff skipped: the code does not parse",))
    findings, note = _ruff(code, filename, timeout_s)
    order = {"error": 0, "security": 1, "warning": 2}
    ranked = sorted(findings or [], key=lambda f: (order[f.severity], f.line, f.column, f.code))
    checkers = ("python", "ruff") if findings is not None else ("python",)
    return CheckReport(filename, tuple(ranked), checkers, (note,) if note else ())
