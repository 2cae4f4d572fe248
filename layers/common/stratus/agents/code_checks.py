"""Static checks of Python code a task contains: Python's own compiler, then ruff (pyflakes, bugbear, bandit rules).

ruff runs through the layer's one runner (`stratus.checks`). When the binary is missing, times out or
fails, the report says so and keeps the compiler's verdict: a check that did not run is never reported as clean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from stratus.agents.sources import TaskInput
from stratus.checks import run_ruff

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
    report = run_ruff({filename: code}, select=RUFF_RULES, ignore=RUFF_IGNORED, timeout_s=timeout_s)
    if not report.ran:
        return None, f"{report.note}: only Python's compiler checked this code"
    findings = [
        Finding(
            file=filename,
            line=diagnostic.line,
            column=diagnostic.column,
            code=diagnostic.code or "ruff",
            message=diagnostic.message,
            severity=_severity(diagnostic.code),
            checker="ruff",
        )
        for diagnostic in report.diagnostics
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
