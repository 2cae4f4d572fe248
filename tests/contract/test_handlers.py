"""Every Handler imports in a cold interpreter, and HTTP routes agree between template.yaml and the apps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stratus.local.template import Template

from .support import PROBE_SCRIPT, HandlerProbe, api_gateway_path, docs_paths, route_covers, service_of

TEMPLATE = Template.load()
FUNCTIONS = sorted(TEMPLATE.functions())
HTTP_FUNCTIONS = sorted({route.function for route in TEMPLATE.http_routes()})


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_handler_imports_without_aws_and_is_callable(handler_probes: dict[str, HandlerProbe], logical_id: str) -> None:
    # Given a fresh interpreter with the function's environment and no network
    probe = handler_probes[logical_id]

    # Then
    assert probe.imported, f"{probe.handler} does not import:\n{probe.error}"
    assert probe.error is None, probe.error
    assert probe.callable, f"{probe.handler} is not callable"


@pytest.mark.parametrize("logical_id", HTTP_FUNCTIONS)
def test_function_with_http_routes_serves_a_fastapi_app(
    handler_probes: dict[str, HandlerProbe], logical_id: str
) -> None:
    probe = handler_probes[logical_id]
    module = probe.handler.rsplit(".", 1)[0]

    assert probe.app is not None, f"{module} has HttpApi events but no module-level `app`"
    assert probe.app["is_fastapi"], f"{module}.app is a {probe.app['type']}, not a FastAPI app"


@pytest.mark.parametrize("logical_id", HTTP_FUNCTIONS)
def test_every_template_route_is_served_by_the_app(
    template: Template, handler_probes: dict[str, HandlerProbe], logical_id: str
) -> None:
    # Given
    served = [(m, api_gateway_path(p)) for m, p in handler_probes[logical_id].app_routes]

    # When
    unserved = [
        f"{route.method} {route.path}"
        for route in template.http_routes()
        if route.function == logical_id
        and not any(route_covers(route.method, route.path, method, path) for method, path in served)
    ]

    # Then
    assert unserved == [], f"{logical_id}: template routes its app does not serve (app serves {served})"


@pytest.mark.parametrize("logical_id", HTTP_FUNCTIONS)
def test_every_app_route_is_in_the_template(
    template: Template, handler_probes: dict[str, HandlerProbe], logical_id: str
) -> None:
    # Given
    probe = handler_probes[logical_id]
    hidden = docs_paths(service_of(probe.handler))
    routes = [r for r in template.http_routes() if r.function == logical_id]

    # When
    missing = [
        f"{method} {path}"
        for method, path in probe.app_routes
        if path not in hidden
        and not any(route_covers(r.method, r.path, method, api_gateway_path(path)) for r in routes)
    ]

    # Then
    assert missing == [], f"{logical_id}: app routes with no HttpApi event in template.yaml"


@pytest.mark.parametrize("logical_id", HTTP_FUNCTIONS)
def test_http_routes_live_under_the_service_prefix(template: Template, logical_id: str) -> None:
    prefix = f"/{service_of(template.handler(logical_id))}/"
    routes = [r for r in template.http_routes() if r.function == logical_id]

    outside = [f"{r.method} {r.path}" for r in routes if not r.path.startswith(prefix)]

    assert outside == [], f"{logical_id}: routes outside {prefix}"


def test_every_api_service_has_an_anonymous_health_route(
    template: Template, handler_probes: dict[str, HandlerProbe]
) -> None:
    # Given every service with a function that serves HTTP (HttpApi events, or a FastAPI app behind a URL)
    services = {
        service_of(probe.handler)
        for logical_id, probe in handler_probes.items()
        if (probe.app or {}).get("is_fastapi") or any(r.function == logical_id for r in template.http_routes())
    }

    # When
    problems = []
    for service in sorted(services):
        health = [r for r in template.http_routes() if r.method == "GET" and r.path == f"/{service}/health"]
        if not health:
            problems.append(f"{service}: no `GET /{service}/health` HttpApi event")
        elif any(r.authorizer is not None for r in health):
            problems.append(f"{service}: GET /{service}/health needs Auth: Authorizer: NONE")

    # Then
    assert problems == []


@pytest.mark.parametrize(
    ("template_route", "app_route", "covered"),
    [
        (("GET", "/svc/items/{item_id}"), ("GET", "/svc/items/{item_id}"), True),
        (("GET", "/svc/items/{item_id}"), ("POST", "/svc/items/{item_id}"), False),
        (("ANY", "/svc/{proxy+}"), ("DELETE", "/svc/items/{item_id}"), True),
        (("ANY", "/svc/{proxy+}"), ("GET", "/other/health"), False),
        (("GET", "/svc/files/{key+}"), ("GET", "/svc/files/{key:path}"), True),
    ],
)
def test_route_matching_follows_api_gateway(
    template_route: tuple[str, str], app_route: tuple[str, str], covered: bool
) -> None:
    method, path = app_route

    assert route_covers(*template_route, method, api_gateway_path(path)) is covered


def test_probe_refuses_a_handler_that_calls_the_network_at_import(tmp_path: Path) -> None:
    # Given a handler module that opens a connection while being imported
    (tmp_path / "chatty.py").write_text(
        "import socket\n"
        "socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
        "def handler(event, context):\n"
        "    return {}\n"
    )
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path)}

    # When
    completed = subprocess.run(
        [sys.executable, str(PROBE_SCRIPT), "chatty.handler"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    # Then
    report = json.loads(completed.stdout)
    assert report["imported"] is False
    assert "network access while importing the handler" in report["error"]
