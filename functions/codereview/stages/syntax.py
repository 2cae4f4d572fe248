"""The syntax stage: parsers on whole files (Python ``ast``, JSON, TOML), ruff (`stratus.checks`) on Python files."""

from __future__ import annotations

import ast
import json
import re
import tomllib
import warnings
from collections.abc import Sequence

from codereview.domain import Category, Finding, Severity
from codereview.prepared import PreparedFile
from stratus import checks

RUFF_RULES = ("E9", "F", "B")
_TOML_LINE = re.compile(r"at line (\d+)")


def _line_text(content: str, line: int) -> str:
    lines = content.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _syntax_error(path: str, line: int, message: str, content: str, rule: str) -> Finding:
    line = max(1, line)
    return Finding(
        path=path,
        line=line,
        severity="high",
        category="syntax",
        message=message,
        rule=rule,
        stage="syntax",
        source="parser",
        line_text=_line_text(content, line),
    )


def parse_python(path: str, content: str) -> list[Finding]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are ruff's business
            ast.parse(content, filename=path)
    except SyntaxError as exc:
        message = f"Python cannot parse this file: {exc.msg}"
        return [_syntax_error(path, exc.lineno or 1, message, content, "python-syntax-error")]
    return []


def parse_json(path: str, content: str) -> list[Finding]:
    try:
        json.loads(content)
    except json.JSONDecodeError as exc:
        return [_syntax_error(path, exc.lineno, f"invalid JSON: {exc.msg}", content, "json-syntax-error")]
    return []


def parse_toml(path: str, content: str) -> list[Finding]:
    try:
        tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.12's TOMLDecodeError has no line attribute; its message ends "(at line N, column M)".
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else 1
        reason = str(exc).split(" (at ")[0]
        return [_syntax_error(path, line, f"invalid TOML: {reason}", content, "toml-syntax-error")]
    return []


PARSERS = {"python": parse_python, "json": parse_json, "toml": parse_toml}


def _ruff_rating(code: str) -> tuple[Severity, Category]:
    if code.startswith("E9"):
        return "high", "syntax"
    if code in ("F821", "F822", "F823", "F706", "F704"):
        return "high", "bug"
    if code.startswith(("F40", "F81")) and code != "F811":
        return "low", "maintainability"
    if code in ("F841", "F811"):
        return "low", "maintainability"
    if code.startswith(("F", "B")):
        return "medium", "bug"
    return "low", "style"


def run_ruff(files: Sequence[PreparedFile], timeout_s: float) -> tuple[list[Finding], list[str]]:
    """Ruff diagnostics for the Python files (with their content); notes say why it could not run."""
    python = {f.path: f.content for f in files if f.language == "python" and f.content is not None}
    if not python:
        return [], []
    report = checks.run_ruff(python, select=RUFF_RULES, timeout_s=timeout_s, target_version="py312")
    if report.problem == "not-installed":
        return [], [f"{report.note}: Python files were checked with the parser only"]
    if not report.ran:
        return [], [str(report.note)]
    findings: list[Finding] = []
    for diagnostic in report.diagnostics:
        if not diagnostic.code:
            continue  # ruff reports syntax errors without a code; the parser already did
        severity, category = _ruff_rating(diagnostic.code)
        findings.append(
            Finding(
                path=diagnostic.path,
                line=diagnostic.line,
                severity=severity,
                category=category,
                message=f"{diagnostic.code} {diagnostic.message}".strip(),
                rule=diagnostic.code,
                stage="syntax",
                source="linter",
                line_text=_line_text(python[diagnostic.path], diagnostic.line),
            )
        )
    return findings, []


def syntax_findings(files: Sequence[PreparedFile], timeout_s: float) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    parsed_ok: list[PreparedFile] = []
    for item in files:
        parser = PARSERS.get(item.language)
        if parser is None or item.content is None:
            continue
        problems = parser(item.path, item.content)
        findings.extend(problems)
        if not problems:
            parsed_ok.append(item)
    lint, notes = run_ruff(parsed_ok, timeout_s)
    return findings + lint, notes
