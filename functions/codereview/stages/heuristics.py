"""Offline logic findings: deterministic heuristics that stand in for the model, labelled ``offline``.

Python files are read with ``ast`` (mutable defaults, bare or swallowed exceptions, ``is`` with a literal,
``== None``, unreachable code, shadowed built-ins, leftover ``print``); other languages get line patterns
(``console.log``, ``==`` in JavaScript, ``printStackTrace``, empty ``catch``). Only added lines are reported.
"""

from __future__ import annotations

import ast
import builtins
import re
import warnings
from collections.abc import Iterator

from codereview.domain import Category, Finding, Severity
from codereview.prepared import PreparedFile
from stratus.github.diff import parse_patch

_SHADOWABLE = frozenset(
    {"list", "dict", "set", "str", "int", "id", "type", "input", "filter", "map", "max", "min", "sum"}
)
_TODO = re.compile(r"(#|//|/\*|--)\s*(TODO|FIXME|XXX)\b", re.IGNORECASE)


def _finding(
    item: PreparedFile,
    line: int,
    text: str,
    rule: str,
    severity: Severity,
    category: Category,
    message: str,
    suggestion: str | None = None,
) -> Finding:
    return Finding(
        path=item.path,
        line=line,
        severity=severity,
        category=category,
        message=message,
        suggestion=suggestion,
        rule=rule,
        stage="logic",
        source="heuristic",
        offline=True,
        line_text=text,
    )


def _added_lines(item: PreparedFile, lines: set[int]) -> Iterator[tuple[int, str]]:
    for line in parse_patch(item.patch).lines:
        if line.kind == "add" and line.new is not None and line.new in lines:
            yield line.new, line.text


class _PythonChecks(ast.NodeVisitor):
    def __init__(self) -> None:
        self.hits: list[tuple[int, str, Severity, Category, str]] = []

    def _hit(self, node: ast.AST, rule: str, severity: Severity, category: Category, message: str) -> None:
        self.hits.append((getattr(node, "lineno", 1), rule, severity, category, message))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            mutable = isinstance(default, ast.List | ast.Dict | ast.Set) or (
                isinstance(default, ast.Call)
                and isinstance(default.func, ast.Name)
                and default.func.id in ("list", "dict", "set")
            )
            if mutable:
                self._hit(
                    default,
                    "mutable-default-argument",
                    "medium",
                    "bug",
                    f"`{node.name}` has a mutable default argument: it is shared between calls. Default to None "
                    "and create the value inside the function.",
                )
        self._unreachable(node.body)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _unreachable(self, body: list[ast.stmt]) -> None:
        for index, statement in enumerate(body[:-1]):
            if isinstance(statement, ast.Return | ast.Raise | ast.Continue | ast.Break):
                self._hit(
                    body[index + 1],
                    "unreachable-code",
                    "medium",
                    "bug",
                    f"this code never runs: the `{type(statement).__name__.lower()}` above always leaves the block.",
                )
                return

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None:
            self._hit(
                node,
                "bare-except",
                "medium",
                "error-handling",
                "a bare `except:` also catches KeyboardInterrupt and SystemExit; catch the exceptions you expect.",
            )
        elif all(
            isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            for s in node.body
        ):
            self._hit(
                node,
                "swallowed-exception",
                "medium",
                "error-handling",
                "the exception is silently swallowed: log it, handle it, or let it propagate.",
            )
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for operator, right in zip(node.ops, node.comparators, strict=True):
            if (
                isinstance(operator, ast.Is | ast.IsNot)
                and isinstance(right, ast.Constant)
                and isinstance(right.value, str | int | float | bytes)
                and not isinstance(right.value, bool)
            ):
                self._hit(
                    node,
                    "is-literal-comparison",
                    "medium",
                    "bug",
                    "`is` compares identity, not value: use `==` to compare with a literal.",
                )
            if isinstance(operator, ast.Eq | ast.NotEq) and isinstance(right, ast.Constant) and right.value is None:
                self._hit(node, "none-equality", "low", "style", "compare with None using `is` / `is not`.")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id in _SHADOWABLE and hasattr(builtins, target.id):
                self._hit(
                    target,
                    "shadowed-builtin",
                    "low",
                    "maintainability",
                    f"assigning to `{target.id}` hides the built-in of that name for the rest of this scope.",
                )
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            self._hit(
                node,
                "debug-print",
                "low",
                "style",
                "`print` left in the code: use the logger so the output is structured and can be silenced.",
            )
        self.generic_visit(node)


def python_findings(item: PreparedFile, lines: set[int]) -> list[Finding]:
    if item.content is None:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(item.content)
    except SyntaxError:
        return []  # the syntax stage reports it
    checks = _PythonChecks()
    checks.visit(tree)
    source = item.content.splitlines()
    findings = []
    for line, rule, severity, category, message in checks.hits:
        if line in lines:
            text = source[line - 1] if line <= len(source) else ""
            findings.append(_finding(item, line, text, rule, severity, category, message))
    return findings


_LINE_RULES: dict[str, list[tuple[re.Pattern[str], str, Severity, Category, str]]] = {
    "javascript": [
        (re.compile(r"\bconsole\.(log|debug)\("), "debug-console", "low", "style", "`console.log` left in the code."),
        (
            re.compile(r"\bdebugger\s*;"),
            "debugger-statement",
            "medium",
            "bug",
            "a `debugger` statement stops every run.",
        ),
        (
            re.compile(r"[^=!<>]==[^=]|!=[^=]"),
            "loose-equality",
            "low",
            "bug",
            "`==` converts types before comparing; use `===` (or `!==`).",
        ),
    ],
    "java": [
        (
            re.compile(r"\.printStackTrace\(\s*\)"),
            "print-stack-trace",
            "low",
            "error-handling",
            "`printStackTrace()` writes to stderr and loses the context: log the exception instead.",
        ),
        (
            re.compile(r"catch\s*\([^)]*\)\s*\{\s*\}"),
            "empty-catch",
            "medium",
            "error-handling",
            "an empty `catch` hides the failure: handle it or rethrow.",
        ),
        (re.compile(r"System\.(out|err)\.print"), "system-out", "low", "style", "use a logger rather than System.out."),
    ],
}
_LINE_RULES["typescript"] = _LINE_RULES["javascript"]
_LINE_RULES["kotlin"] = _LINE_RULES["java"][:1]


def line_findings(item: PreparedFile, lines: set[int]) -> list[Finding]:
    findings: list[Finding] = []
    rules = _LINE_RULES.get(item.language, [])
    for line, text in _added_lines(item, lines):
        code = text.split("//")[0] if item.language in ("javascript", "typescript", "java", "kotlin") else text
        for pattern, rule, severity, category, message in rules:
            if pattern.search(code):
                findings.append(_finding(item, line, text, rule, severity, category, message))
        if _TODO.search(text):
            findings.append(
                _finding(item, line, text, "todo-comment", "info", "maintainability", "a TODO/FIXME is being added.")
            )
    return findings


def offline_logic_findings(item: PreparedFile, lines: set[int]) -> list[Finding]:
    """Heuristic findings on ``lines`` (added lines of this chunk) of one file."""
    if item.language == "python":
        return python_findings(item, lines) + [f for f in line_findings(item, lines) if f.rule == "todo-comment"]
    return line_findings(item, lines)
