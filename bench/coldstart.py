"""Cold-start import cost of every function in template.yaml, against a bare FastAPI + Mangum + Powertools floor.

Each measurement is a fresh interpreter (a new Lambda container): the child times importing the Handler's
module and resolving the handler with ``time.perf_counter``; the parent times the whole process (wall).
Runs are interleaved across functions so background load hits them alike. The target: every API function
(HTTP or WebSocket route, authorizer, Function URL) at most 1.5x the baseline's import time.

    make bench        (or: PYTHONPATH=layers/common .venv/bin/python bench/coldstart.py [--runs 5] [--strict])
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from stratus.local.embedded import LOCAL_ENVIRONMENT
from stratus.local.template import REPO_ROOT, Template

BASELINE = "baseline (FastAPI+Mangum+Powertools)"
LAYER_FLOOR = "layer floor (stratus web+identity+storage)"
# What every DynamoDB-backed API function of ours pays before its own code: the web factory, the
# settings (pydantic-settings) and the PynamoDB models (botocore). Shown for reference, not judged.
_LAYER_FLOOR_MODULE = '''
import stratus.identity
import stratus.storage
from stratus.web import create_app, make_handler

handler = make_handler(create_app("floor"))
'''
_BASELINE_MODULE = '''
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from fastapi import FastAPI
from mangum import Mangum

logger = Logger()
metrics = Metrics()
app = FastAPI()


@app.get("/baseline/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


_mangum = Mangum(app, lifespan="off")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _mangum(event, context)
'''
_CHILD = '''
import importlib, json, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
module_name, _, attribute = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
assert callable(handler)
print(json.dumps({
    "import_ms": (time.perf_counter() - started) * 1000,
    "cpu_ms": (time.process_time() - cpu_started) * 1000,
}))
'''


@dataclass
class Subject:
    name: str
    handler: str
    environment: dict[str, str]
    api: bool
    import_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    error: str | None = None


def _api_functions(template: Template) -> set[str]:
    """Functions a caller waits on: HttpApi and WebSocket routes, authorizers, Function URLs."""
    found = {route.function for route in template.http_routes()}
    found.update(lid for lid, f in template.functions().items() if "FunctionUrlConfig" in f["Properties"])
    for route in template.websocket_routes().values():
        found.add(route.function)
        if route.authorizer_handler:
            found.update(lid for lid in template.functions() if template.handler(lid) == route.authorizer_handler)
    arns = {str(template.get_att(lid, "Arn")): lid for lid in template.functions()}
    for api in template.of_type("AWS::Serverless::HttpApi").values():
        for spec in (((api.get("Properties") or {}).get("Auth") or {}).get("Authorizers") or {}).values():
            if "FunctionArn" in spec and str(template.resolve(spec["FunctionArn"])) in arns:
                found.add(arns[str(template.resolve(spec["FunctionArn"]))])
    return found


def _base_environment(pythonpath: list[Path]) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return {
        **keep,
        "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def subjects(template: Template, baseline_dir: Path) -> list[Subject]:
    paths = [REPO_ROOT / "layers" / "common", REPO_ROOT / "functions"]
    api = _api_functions(template)
    found = [
        Subject(
            name=logical_id,
            handler=template.handler(logical_id),
            environment={
                **_base_environment(paths),
                **template.function_environment(logical_id),
                **LOCAL_ENVIRONMENT,
            },
            api=logical_id in api,
        )
        for logical_id in sorted(template.functions())
    ]
    baseline_env = {**_base_environment([baseline_dir]), **LOCAL_ENVIRONMENT}
    floor_env = {**_base_environment([baseline_dir, *paths]), **LOCAL_ENVIRONMENT}
    return [
        Subject(BASELINE, "coldstart_baseline.handler", baseline_env, api=False),
        Subject(LAYER_FLOOR, "coldstart_layer_floor.handler", floor_env, api=False),
        *found,
    ]


def measure_once(subject: Subject) -> None:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, subject.handler],
        env=subject.environment,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        subject.error = completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "exit code"
        return
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    subject.import_ms.append(float(measured["import_ms"]))
    subject.cpu_ms.append(float(measured["cpu_ms"]))
    subject.wall_ms.append(wall_ms)


def report(items: list[Subject], target: float) -> bool:
    baseline = statistics.median(items[0].import_ms)
    baseline_cpu = statistics.median(items[0].cpu_ms)
    header = (
        f"{'function':<44} {'handler':<32} {'import ms':>10} {'wall ms':>9} {'ratio':>6}"
        f" {'cpu ms':>7} {'cpu ratio':>9}  verdict"
    )
    print(header)
    print("-" * len(header))
    all_pass = True
    for subject in items:
        if subject.error is not None:
            all_pass = all_pass and not subject.api
            dashes = f"{'-':>10} {'-':>9} {'-':>6} {'-':>7} {'-':>9}"
            print(f"{subject.name:<44} {subject.handler:<32} {dashes}  ERROR {subject.error}")
            continue
        median = statistics.median(subject.import_ms)
        ratio = median / baseline
        cpu = statistics.median(subject.cpu_ms)
        if subject.name == BASELINE:
            verdict = ""
        elif subject.name == LAYER_FLOOR:
            verdict = "(reference)"
        elif not subject.api:
            verdict = "(not an API function)"
        elif ratio <= target:
            verdict = "PASS"
        else:
            verdict, all_pass = "FAIL", False
        print(
            f"{subject.name:<44} {subject.handler:<32} {median:>10.0f} {statistics.median(subject.wall_ms):>9.0f}"
            f" {ratio:>5.2f}x {cpu:>7.0f} {cpu / baseline_cpu:>8.2f}x  {verdict}"
        )
    print(
        f"\nmedian of {len(items[0].import_ms)} fresh interpreters each; target: API functions <= {target}x baseline"
        " (import ms). cpu ms is the same import in process CPU time: steadier when the machine is shared."
    )
    return all_pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per function (median)")
    parser.add_argument("--target", type=float, default=1.5, help="max ratio to the baseline for API functions")
    parser.add_argument("--strict", action="store_true", help="exit 1 when an API function misses the target")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        (Path(scratch) / "coldstart_baseline.py").write_text(_BASELINE_MODULE)
        (Path(scratch) / "coldstart_layer_floor.py").write_text(_LAYER_FLOOR_MODULE)
        items = subjects(Template.load(), Path(scratch))
        measure_once(items[0])  # warm the OS file cache so the first measured run is not penalised
        items[0].import_ms.clear()
        items[0].cpu_ms.clear()
        items[0].wall_ms.clear()
        for _ in range(args.runs):
            for subject in items:
                if subject.error is None:
                    measure_once(subject)
    if items[0].error is not None:
        print(f"the baseline handler failed: {items[0].error}", file=sys.stderr)
        return 2
    passed = report(items, args.target)
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
