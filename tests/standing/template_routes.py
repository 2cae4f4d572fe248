"""What the standing checks cover, read from template.yaml: services, their apps, their HTTP routes."""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

from stratus.local.template import HttpRoute, Template

_PATH_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\+?\}")


@cache
def template() -> Template:
    return Template.load()


def service_of(route: HttpRoute) -> str:
    """``docqa.app.handler`` -> ``docqa``; a package named after a standard-library module drops its ``_``."""
    return route.module.split(".", 1)[0].removesuffix("_")


def http_routes() -> list[HttpRoute]:
    """Every HttpApi event of every function, in template order."""
    return template().http_routes()


def services() -> list[str]:
    """Every service with a route on the HTTP API."""
    return sorted({service_of(route) for route in http_routes()})


def service_app(service: str) -> Any:
    """The FastAPI app behind a service's routes, imported by its Handler string (``<service>.app`` -> ``app``)."""
    module = next(route.module for route in http_routes() if service_of(route) == service)
    return importlib.import_module(module).app


def path_parameters(path: str) -> list[str]:
    """``/docqa/query/{conversation_id}/history`` -> ``["conversation_id"]``."""
    return _PATH_PARAMETER.findall(path)


def route_label(route: HttpRoute) -> str:
    return f"{route.method} {route.path}"
