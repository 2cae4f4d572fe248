"""Write ``docs/openapi/<service>.json`` for every service app behind the template's HTTP API.

The services are read from template.yaml (each HttpApi route's Handler ``<service>.app.handler`` names the
module ``<service>.app`` and its FastAPI ``app``), so a new service gets its spec the day its routes land.
Output is stable: sorted keys, two-space indent, one trailing newline. ``--check`` writes nothing and exits 1
when a checked-in spec is missing, stale or left over from a removed service.

    make openapi                                  # regenerate every spec
    python scripts/export_openapi.py --check      # what the contract test runs (PYTHONPATH as make sets it)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stratus.local.embedded import LOCAL_ENVIRONMENT
from stratus.local.template import REPO_ROOT, Template

DEFAULT_OUT = REPO_ROOT / "docs" / "openapi"
REGENERATE = "run `make openapi` and commit docs/openapi/"
# Variables that legitimately differ per function (the embedded stack does not share them either).
_PER_FUNCTION = {"POWERTOOLS_SERVICE_NAME"}


def service_modules(template: Template) -> dict[str, str]:
    """service name -> the module its HTTP routes' Handler lives in (``docqa`` -> ``docqa.app``)."""
    modules: dict[str, str] = {}
    for route in template.http_routes():
        # A package named after a standard-library module carries a trailing underscore (platform_: PEP 8).
        modules.setdefault(route.module.split(".", 1)[0].removesuffix("_"), route.module)
    return dict(sorted(modules.items()))


def local_environment(template: Template) -> dict[str, str]:
    """Every function's template variables with the local overrides, as the embedded AWS sets them."""
    merged: dict[str, str] = {}
    for logical_id in template.functions():
        for key, value in {**template.function_environment(logical_id), **LOCAL_ENVIRONMENT}.items():
            if key not in _PER_FUNCTION:
                merged.setdefault(key, value)
    return merged


def render(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_specs(template: Template) -> dict[str, str]:
    """service -> its OpenAPI document rendered as the checked-in file holds it."""
    os.environ.update(local_environment(template))
    rendered: dict[str, str] = {}
    for service, module_name in service_modules(template).items():
        app = importlib.import_module(module_name).app
        rendered[service] = render(app.openapi())
    return rendered


def stale_files(out: Path, rendered: Mapping[str, str]) -> list[str]:
    """What differs between ``out`` and the rendered specs, one line per file."""
    problems = []
    for service, text in rendered.items():
        path = out / f"{service}.json"
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: stale (the app's OpenAPI changed)")
    for path in sorted(out.glob("*.json")):
        if path.stem not in rendered:
            problems.append(f"{path}: no such service in template.yaml")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory of the specs")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when a spec is stale")
    args = parser.parse_args(argv)
    rendered = export_specs(Template.load())
    if args.check:
        problems = stale_files(args.out, rendered)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print(REGENERATE, file=sys.stderr)
            return 1
        print(f"{len(rendered)} OpenAPI specs up to date in {args.out}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.out.glob("*.json"):
        if path.stem not in rendered:
            path.unlink()
    for service, text in rendered.items():
        (args.out / f"{service}.json").write_text(text, encoding="utf-8")
    print(f"wrote {len(rendered)} OpenAPI specs to {args.out}: {', '.join(rendered)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
