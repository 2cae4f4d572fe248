"""Tools agents may call: a registry of named, schema-validated functions with bounded work each.

A tool never raises for bad arguments or empty results: it returns a `ToolOutput` the agent reads as
an observation (``error=True`` when the call could not be served), so one bad call costs a turn, not
the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stratus.agents.sources import TaskInput

if TYPE_CHECKING:
    from stratus.agents.sources import Source

__all__ = ["Tool", "ToolContext", "ToolOutput", "ToolRegistry", "builtin_tools"]


@dataclass(frozen=True, slots=True)
class ToolContext:
    tenant_id: str
    task_id: str
    inputs: tuple[TaskInput, ...] = ()
    check_timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class ToolOutput:
    content: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    error: bool = False


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    arguments: type[BaseModel]
    run: Callable[[ToolContext, Any], ToolOutput]

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.arguments.model_json_schema()}

    def call(self, context: ToolContext, arguments: Mapping[str, Any]) -> tuple[ToolOutput, float]:
        """Validate the arguments, run, and time the call (milliseconds)."""
        started = time.perf_counter()
        try:
            parsed = self.arguments.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
            output = ToolOutput(f"invalid arguments for {self.name}: {problems}", "invalid arguments", error=True)
        else:
            output = self.run(context, parsed)
        return output, (time.perf_counter() - started) * 1000


class ToolRegistry:
    def __init__(self, tools: Sequence[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def catalog(self, names: Sequence[str]) -> list[dict[str, Any]]:
        return [self._tools[name].schema() for name in names if name in self._tools]


class _SearchArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=20)


class _CheckArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=200_000)
    filename: str = Field(default="snippet.py", pattern=r"^[A-Za-z0-9_./-]{1,200}\.py$")


def _sources_output(sources: list[Source], where: str) -> ToolOutput:
    if not sources:
        return ToolOutput(f"no passages in {where} match the query", "0 passage(s)", {"sources": []})
    listing = "\n\n".join(f"[{number}] ({s.title}) {s.text}" for number, s in enumerate(sources, start=1))
    return ToolOutput(listing, f"{len(sources)} passage(s) from {where}", {"sources": [s.as_dict() for s in sources]})


def _search_documents(context: ToolContext, arguments: _SearchArguments) -> ToolOutput:
    from stratus.agents.sources import search_documents
    from stratus.ai import get_embedder
    from stratus.search import get_search_index

    sources = search_documents(
        context.tenant_id, arguments.query, arguments.k, index=get_search_index, embedder=get_embedder
    )
    return _sources_output(sources, "the tenant's documents")


def _read_inputs(context: ToolContext, arguments: _SearchArguments) -> ToolOutput:
    from stratus.agents.sources import search_inputs

    if not context.inputs:
        return ToolOutput("the task has no inputs", "no inputs", {"sources": []})
    return _sources_output(search_inputs(context.inputs, arguments.query, arguments.k), "the task's inputs")


def _check_python(context: ToolContext, arguments: _CheckArguments) -> ToolOutput:
    from stratus.agents.code_checks import check_python
    from stratus.checks import ruff_version

    report = check_python(arguments.code, arguments.filename, timeout_s=context.check_timeout_s)
    data = {**report.as_dict(), "ruff_version": ruff_version() if "ruff" in report.checkers else None}
    if not report.findings:
        content = f"{arguments.filename}: no problems found by {' and '.join(report.checkers)}"
    else:
        content = "\n".join(finding.describe() for finding in report.findings)
    if report.notes:
        content += "\n" + "\n".join(report.notes)
    return ToolOutput(content, f"{len(report.findings)} findings in {arguments.filename}", data)


def builtin_tools() -> ToolRegistry:
    return ToolRegistry(
        [
            Tool(
                "search_documents",
                "Hybrid (keyword + vector) search of the tenant's indexed documents; returns numbered passages.",
                _SearchArguments,
                _search_documents,
            ),
            Tool(
                "read_inputs",
                "Keyword search of the texts attached to this task; returns numbered passages.",
                _SearchArguments,
                _read_inputs,
            ),
            Tool(
                "check_python",
                "Static checks of Python code: Python's compiler, then ruff (pyflakes, bugbear, bandit rules).",
                _CheckArguments,
                _check_python,
            ),
        ]
    )
