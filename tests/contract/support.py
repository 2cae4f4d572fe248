"""What the contract tests share: the template, fresh-interpreter handler probes, route matching, invocations."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratus.local.embedded import LOCAL_ENVIRONMENT, EmbeddedAws
from stratus.local.lambda_dispatch import invoke_handler
from stratus.local.template import REPO_ROOT, Template

PROBE_SCRIPT = Path(__file__).with_name("handler_probe.py")
PROBE_TIMEOUT_S = 120


def service_of(handler: str) -> str:
    """``realtime.app.handler`` -> ``realtime``: the service a function belongs to.

    A package named after a standard-library module carries a trailing underscore (``platform_``: PEP 8).
    """
    return handler.split(".", 1)[0].removesuffix("_")


def function_environment(template: Template, logical_id: str) -> dict[str, str]:
    """The function's template variables with the local overrides on top, as the embedded AWS sets them."""
    return {**template.function_environment(logical_id), **LOCAL_ENVIRONMENT}


def child_environment(template: Template, logical_id: str) -> dict[str, str]:
    """A clean environment for a fresh interpreter: nothing leaks in from the caller's shell or AWS profile."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    return {
        **keep,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("layers/common", "functions")),
        **function_environment(template, logical_id),
    }


@dataclass(frozen=True)
class HandlerProbe:
    logical_id: str
    handler: str
    imported: bool
    callable: bool
    error: str | None
    app: dict[str, Any] | None

    @property
    def app_routes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path in (self.app or {}).get("routes", [])]


def probe_handler(template: Template, logical_id: str) -> HandlerProbe:
    handler = template.handler(logical_id)
    completed = subprocess.run(
        [sys.executable, str(PROBE_SCRIPT), handler],
        env=child_environment(template, logical_id),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        report = {
            "imported": False,
            "callable": False,
            "app": None,
            "error": f"probe exited {completed.returncode}\n{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}",
        }
    return HandlerProbe(
        logical_id=logical_id,
        handler=handler,
        imported=bool(report["imported"]),
        callable=bool(report["callable"]),
        error=report.get("error"),
        app=report.get("app"),
    )



_FASTAPI_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")


def api_gateway_path(fastapi_path: str) -> str:
    """FastAPI ``{key:path}`` is API Gateway's greedy ``{key+}``; other convertors are plain ``{key}``."""

    def convert(match: re.Match[str]) -> str:
        name, convertor = match.group(1), match.group(2)
        return f"{{{name}+}}" if convertor == "path" else f"{{{name}}}"

    return _FASTAPI_PARAM.sub(convert, fastapi_path)


def route_covers(template_method: str, template_path: str, method: str, path: str) -> bool:
    """Does a template route (``ANY`` and a trailing ``{proxy+}`` allowed) send ``method path`` to the app?"""
    if template_method not in ("ANY", method):
        return False
    if template_path == path:
        return True
    greedy = re.fullmatch(r"(.*)/\{[A-Za-z0-9_]+\+\}", template_path)
    return greedy is not None and path.startswith(greedy.group(1) + "/")


def docs_paths(service: str) -> set[str]:
    """The app's own documentation routes: served by FastAPI, deliberately not exposed by the template."""
    return {f"/{service}/docs", f"/{service}/openapi.json", f"/{service}/docs/oauth2-redirect"}




def function_of_arn(template: Template, value: Any) -> str | None:
    """The template function a resolved ARN (optionally qualified) or function name points at."""
    text = str(value)
    for logical_id in template.functions():
        arn = str(template.get_att(logical_id, "Arn"))
        if text == arn or text.startswith(arn + ":") or text == str(template.ref(logical_id)):
            return logical_id
    return None


def http_authorizer_functions(template: Template) -> set[str]:
    found: set[str] = set()
    for api in template.of_type("AWS::Serverless::HttpApi").values():
        authorizers = ((api.get("Properties") or {}).get("Auth") or {}).get("Authorizers") or {}
        for spec in authorizers.values():
            if "FunctionArn" in spec:
                logical_id = function_of_arn(template, template.resolve(spec["FunctionArn"]))
                if logical_id:
                    found.add(logical_id)
    return found


def websocket_functions(template: Template) -> tuple[set[str], set[str]]:
    """(functions behind WebSocket routes, functions used as WebSocket authorizers)."""
    routes = template.websocket_routes().values()
    handlers = {r.authorizer_handler for r in routes if r.authorizer_handler}
    authorizers = {lid for lid in template.functions() if template.handler(lid) in handlers}
    return {r.function for r in routes}, authorizers


def url_functions(template: Template) -> set[str]:
    """Functions behind a Lambda Function URL."""
    return {lid for lid, function in template.functions().items() if "FunctionUrlConfig" in function["Properties"]}


def issue_dev_key() -> str:
    from stratus.identity import get_identity_service

    return get_identity_service().bootstrap_dev_tenant()


@contextmanager
def hub_socket(connection_id: str) -> Iterator[list[dict[str, Any]]]:
    """A client socket on the local hub, as the dev server's bridge holds one; yields what it received."""
    from stratus.realtime import local_hub

    loop = asyncio.new_event_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    received: list[dict[str, Any]] = []
    local_hub.register(connection_id, loop, queue)
    try:
        yield received
    finally:
        loop.run_until_complete(asyncio.sleep(0))  # run the deliveries the handler scheduled
        while not queue.empty():
            received.append(json.loads(queue.get_nowait()))
        local_hub.unregister(connection_id)
        loop.close()


def connect_first(event: dict[str, Any]) -> None:
    """Given: the connection that sends a message or disconnects was accepted on $connect."""
    from stratus.identity import principal_from_authorizer_context
    from stratus.realtime import get_connection_registry

    context = event["requestContext"]
    principal = principal_from_authorizer_context(context.get("authorizer") or {})
    assert principal is not None, "WebSocket events after $connect carry the authorizer context"
    get_connection_registry().connect(principal.tenant_id, principal.user_id, context["connectionId"])


def invoke(aws: EmbeddedAws, logical_id: str, event: dict[str, Any]) -> Any:
    return invoke_handler(
        aws.template.handler(logical_id), event, function_name=aws.physical_name(logical_id), timeout_s=30
    )
