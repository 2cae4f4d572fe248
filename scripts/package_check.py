"""``make package-check``: every function of template.yaml, as ``sam build`` left it, is deployable.

1. Size: function code plus every attached layer, unzipped (bytes of files, as Lambda counts them), against
   Lambda's 262,144,000-byte limit, printed as a table.
2. Binaries: what a function runs as a program (ruff) is in one of its layers' ``bin/`` with the execute bit,
   and an ``AWS_LAMBDA_EXEC_WRAPPER`` script is in its code, executable.
3. Import proof, on a second build of the same layers for this machine's architecture: each Handler imports in a
   fresh interpreter with only the artifact (function folder + its layers' ``python/``) and the stdlib on
   ``sys.path``; so does every third-party module the function's code imports anywhere (also lazily) whose package
   the artifact ships, and a ``matplotlib`` chart renders to PNG where matplotlib ships. This is what proves
   that the packages the layer builds leave out are never needed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratus.local.template import REPO_ROOT, Template

LIMIT_BYTES = 262_144_000
MIB = 2**20
# Programs a function runs, by logical id: the ReviewTools layer's ruff for the syntax stage and the agents' checks.
REQUIRED_BINARIES: dict[str, tuple[str, ...]] = {
    "CodeReviewStepsFunction": ("ruff",),
    "OrchestratorAgentFunction": ("ruff",),
}
PROBE_SCRIPT = REPO_ROOT / "tests" / "contract" / "handler_probe.py"
TASK_ROOT = "/var/task/"
PROBE_TIMEOUT_S = 180
# Each probe is a cold interpreter importing heavy packages: a few at a time, like the contract tests.
IMPORT_PROOF_WORKERS = 4
IMPORT_MODULES = """
import importlib, json, sys
failures = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as error:
        failures[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failures))
"""
RENDER_PNG = """
import io
from matplotlib.figure import Figure
figure = Figure(figsize=(4, 3), layout="constrained")
axes = figure.subplots()
axes.bar(["a", "b"], [1.0, 2.0])
axes.set_title("chart")
buffer = io.BytesIO()
figure.savefig(buffer, format="png")
assert buffer.getvalue().startswith(b"\\x89PNG"), "not a PNG"
"""


@dataclass(frozen=True)
class FunctionPackage:
    """One function as built: its code folder and the built folders of its layers, in attach order."""

    logical_id: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    external_layers: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def code_bytes(self) -> int:
        return tree_bytes(self.code_dir)

    @property
    def layer_bytes(self) -> int:
        return sum(tree_bytes(layer) for layer in self.layer_dirs)

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + self.layer_bytes

    @property
    def python_path(self) -> list[Path]:
        return [self.code_dir, *(layer / "python" for layer in self.layer_dirs)]


def tree_bytes(root: Path) -> int:
    """Bytes of the files under ``root`` (what the unzipped limit counts), not the disk blocks ``du`` reports."""
    if not root.exists():
        return 0
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def attached_layers(template: Template, logical_id: str) -> list[Any]:
    """Globals' layers first, then the function's own: the order Lambda extracts them in."""
    own = template.resources[logical_id]["Properties"].get("Layers", [])
    return [*template.globals_function.get("Layers", []), *own]


def function_packages(template: Template, build_dir: Path) -> list[FunctionPackage]:
    packages = []
    for logical_id in sorted(template.functions()):
        built, external = [], []
        for layer in attached_layers(template, logical_id):
            if isinstance(layer, dict) and "Ref" in layer:
                built.append(build_dir / layer["Ref"])
            else:
                external.append(json.dumps(layer) if isinstance(layer, dict) else str(layer))
        packages.append(
            FunctionPackage(
                logical_id=logical_id,
                handler=template.handler(logical_id),
                code_dir=build_dir / logical_id,
                layer_dirs=tuple(built),
                external_layers=tuple(external),
                environment=template.function_environment(logical_id),
            )
        )
    return packages


def verdict(package: FunctionPackage) -> str:
    return "fits" if package.total_bytes <= LIMIT_BYTES else "TOO BIG"


def size_table(packages: Sequence[FunctionPackage]) -> str:
    header = ("function", "code MiB", "layers MiB", "total MiB", "limit MiB", "verdict")
    rows = [
        (
            p.logical_id,
            f"{p.code_bytes / MIB:.1f}",
            f"{p.layer_bytes / MIB:.1f}",
            f"{p.total_bytes / MIB:.1f}",
            f"{LIMIT_BYTES / MIB:.0f}",
            verdict(p) + (" (+ external layer, not measured here)" if p.external_layers else ""),
        )
        for p in packages
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in (header, *rows)]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def size_problems(packages: Sequence[FunctionPackage]) -> list[str]:
    problems = [f"{p.logical_id}: code folder {p.code_dir} is missing" for p in packages if not p.code_dir.is_dir()]
    problems += [f"{p.logical_id}: layer {d} is missing" for p in packages for d in p.layer_dirs if not d.is_dir()]
    problems += [
        f"{p.logical_id}: {p.total_bytes:,} bytes unzipped, over Lambda's {LIMIT_BYTES:,}"
        for p in packages
        if p.total_bytes > LIMIT_BYTES
    ]
    return problems


def binary_problems(package: FunctionPackage, required: Sequence[str]) -> list[str]:
    """A required program must be in a layer's ``bin/`` (``/opt/bin`` on Lambda's PATH) and executable."""
    problems = []
    for name in required:
        candidates = [layer / "bin" / name for layer in package.layer_dirs if (layer / "bin" / name).is_file()]
        if not candidates:
            problems.append(f"{package.logical_id}: {name} is not in bin/ of any attached layer")
        elif not any(os.access(candidate, os.X_OK) for candidate in candidates):
            problems.append(f"{package.logical_id}: {candidates[0]} is not executable")
    wrapper = package.environment.get("AWS_LAMBDA_EXEC_WRAPPER", "")
    if wrapper.startswith(TASK_ROOT):
        script = package.code_dir / wrapper.removeprefix(TASK_ROOT)
        if not (script.is_file() and os.access(script, os.X_OK)):
            problems.append(f"{package.logical_id}: exec wrapper {wrapper} is missing or not executable")
    return problems


def third_party_imports(sources: Sequence[Path], local_names: set[str]) -> set[str]:
    """Every absolute module name imported anywhere in ``sources`` (module level or inside functions)."""
    names: set[str] = set()
    for source in sources:
        for path in source.rglob("*.py") if source.is_dir() else [source]:
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
    stdlib = set(sys.stdlib_module_names)
    return {name for name in names if name.split(".")[0] not in stdlib | local_names}


def shipped_top_levels(package: FunctionPackage) -> set[str]:
    """Top-level import names present in the artifact (packages, modules, extension modules)."""
    names: set[str] = set()
    for directory in package.python_path:
        if directory.is_dir():
            names.update(entry.name.split(".")[0] for entry in directory.iterdir() if ".dist-info" not in entry.name)
    return names


def wrapper_modules(package: FunctionPackage) -> list[str]:
    """``python3 -m <module>`` in the exec wrapper script (DocqaStream runs uvicorn): it must import too."""
    wrapper = package.environment.get("AWS_LAMBDA_EXEC_WRAPPER", "")
    script = package.code_dir / wrapper.removeprefix(TASK_ROOT)
    if not wrapper.startswith(TASK_ROOT) or not script.is_file():
        return []
    return re.findall(r"python3?\s+-m\s+([A-Za-z_][\w.]*)", script.read_text())


def probe_environment(package: FunctionPackage) -> dict[str, str]:
    """The function's template environment as on AWS, a region, fake credentials and nothing from this shell."""
    bins = [str(layer / "bin") for layer in package.layer_dirs if (layer / "bin").is_dir()]
    return {
        "PATH": os.pathsep.join([*bins, os.environ.get("PATH", "/usr/bin:/bin")]),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        **package.environment,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "package-check",
        "AWS_SECRET_ACCESS_KEY": "package-check",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "LAMBDA_TASK_ROOT": str(package.code_dir),
        "MPLCONFIGDIR": "/tmp/package-check-matplotlib",
        "PYTHONPATH": os.pathsep.join(str(path) for path in package.python_path),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _isolated(package: FunctionPackage, arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter without site-packages (-S) nor the script's folder (-P): the artifact and the stdlib."""
    return subprocess.run(
        [sys.executable, "-S", "-P", *arguments],
        env=probe_environment(package),
        cwd=package.code_dir,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )


def import_problems(package: FunctionPackage, sources: Sequence[Path], local_names: set[str]) -> list[str]:
    problems = []
    handler = _isolated(package, [str(PROBE_SCRIPT), package.handler])
    try:
        report = json.loads(handler.stdout.strip().splitlines()[-1])
        if not (report["imported"] and report["callable"]):
            problems.append(f"{package.logical_id}: {package.handler} does not import:\n{report['error']}")
    except (IndexError, json.JSONDecodeError, KeyError):
        problems.append(f"{package.logical_id}: probe of {package.handler} failed:\n{handler.stderr[-3000:]}")

    shipped = shipped_top_levels(package)
    modules = sorted(m for m in third_party_imports(sources, local_names) if m.split(".")[0] in shipped)
    modules += wrapper_modules(package)
    completed = _isolated(package, ["-c", IMPORT_MODULES, *modules])
    try:
        failures: dict[str, str] = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        failures = {"(all)": completed.stderr[-3000:]}
    problems += [f"{package.logical_id}: import {name} fails: {error}" for name, error in failures.items()]

    if "matplotlib" in shipped:
        rendered = _isolated(package, ["-c", RENDER_PNG])
        if rendered.returncode != 0:
            problems.append(f"{package.logical_id}: a PNG chart does not render:\n{rendered.stderr[-3000:]}")
    for name in REQUIRED_BINARIES.get(package.logical_id, ()):
        for binary in (layer / "bin" / name for layer in package.layer_dirs if (layer / "bin" / name).is_file()):
            try:
                ran = subprocess.run([str(binary), "--version"], capture_output=True, timeout=60, check=False)
            except OSError as error:
                problems.append(f"{package.logical_id}: {binary} does not run here: {error}")
                continue
            if ran.returncode != 0:
                problems.append(f"{package.logical_id}: `{binary} --version` exits {ran.returncode}")
    return problems


def service_sources(package: FunctionPackage) -> tuple[list[Path], set[str]]:
    """The function's own service folder and the shipped stratus package, with the names that are not third-party."""
    service = package.handler.split(".", 1)[0]
    stratus = [layer / "python" / "stratus" for layer in package.layer_dirs if (layer / "python" / "stratus").is_dir()]
    services = {entry.name for entry in (REPO_ROOT / "functions").iterdir() if entry.is_dir()}
    return [package.code_dir / service, *stratus], {"stratus", *services}


def run_checks(template: Template, build_dir: Path, import_build_dir: Path | None) -> Iterator[str]:
    """Print the size table; yield every problem found."""
    packages = function_packages(template, build_dir)
    print(size_table(packages))
    yield from size_problems(packages)
    for package in packages:
        yield from binary_problems(package, REQUIRED_BINARIES.get(package.logical_id, ()))
    if import_build_dir is None:
        return
    built = function_packages(template, import_build_dir)
    with ThreadPoolExecutor(max_workers=IMPORT_PROOF_WORKERS) as pool:
        for found in pool.map(lambda package: import_problems(package, *service_sources(package)), built):
            yield from found
    print(f"import proof: {len(packages)} functions probed on {import_build_dir}")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / ".aws-sam" / "build")
    parser.add_argument("--import-build-dir", type=Path, help="a build of the same layers for this machine")
    parser.add_argument("--started-at", type=int, help="epoch seconds the builds started, to report the run time")
    arguments = parser.parse_args(argv)
    template = Template.load()
    import_build_dir = arguments.import_build_dir.resolve() if arguments.import_build_dir else None
    problems = list(run_checks(template, arguments.build_dir.resolve(), import_build_dir))
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr, flush=True)
    if arguments.started_at is not None:
        print(f"package-check: builds and checks took {time.time() - arguments.started_at:.0f} s")
    failing = {problem.split(":", 1)[0] for problem in problems}
    functions = set(template.functions())
    # The plain closing line CI reads: one count per function.
    print(f"package-check: {len(functions - failing)} passed, {len(failing)} failed", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
