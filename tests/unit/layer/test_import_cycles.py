"""The layer's modules import in one direction: no module reaches itself through its imports.

Every import counts, also those inside functions (factories load adapters on first use) and under
``TYPE_CHECKING``: a lazy import hides a cycle from the interpreter, not from the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import stratus

LAYER = Path(stratus.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(LAYER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in LAYER.rglob("*.py")}


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    yield base
    yield from (f"{base}.{alias.name}" for alias in node.names)


@cache
def import_graph() -> dict[str, set[str]]:
    """Each stratus module and the stratus modules it imports (a ``from p import m`` names module p.m)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found = [t for t in _imported(node, name, path.name == "__init__.py") if t in modules]
                # "from stratus.ai.prompts import render_prompt" names stratus.ai.prompts, not also stratus.ai
                targets.update(t for t in found if not any(other.startswith(f"{t}.") for other in found))
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]], within: str) -> list[list[str]]:
    """One cycle per strongly connected component of the modules under ``within`` (Tarjan)."""
    nodes = [n for n in graph if n == within or n.startswith(f"{within}.")]
    edges = {n: sorted(t for t in graph[n] if t in nodes) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    graph = import_graph()

    assert "stratus.ai.providers.offline" in graph["stratus.ai.chat"]  # imported inside a factory
    assert "stratus.ai.ports" in graph["stratus.ai.embeddings"]
    assert "stratus.ai.prompts" in graph["stratus.ai.providers.langchain"]
    assert "stratus.ai" not in graph["stratus.ai.providers.langchain"]


def test_a_cycle_is_found_when_there_is_one() -> None:
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}}

    assert cycles(graph, "p") == [["p.a", "p.b", "p.c"]]


def test_the_layer_has_no_import_cycle() -> None:
    assert cycles(import_graph(), "stratus") == []


def test_ai_adapters_import_ports_and_prompts_never_the_factories() -> None:
    graph = import_graph()
    factories = {"stratus.ai", "stratus.ai.chat", "stratus.ai.embeddings", "stratus.ai.rag"}

    reaching = {
        provider: sorted(graph[provider] & factories)
        for provider in graph
        if provider.startswith("stratus.ai.providers.")
    }

    assert {provider: found for provider, found in reaching.items() if found} == {}
