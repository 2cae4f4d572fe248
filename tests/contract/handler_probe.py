"""Import one Lambda Handler in a fresh interpreter, as a cold container would, and describe it.

Run by the contract tests as ``python handler_probe.py <module.attribute>`` with the function's
environment. Network access is refused while importing, so a handler that needs AWS (or anything
else) at import time fails here. Prints one JSON object on stdout.
"""

from __future__ import annotations

import importlib
import json
import re
import socket
import sys
import traceback
from typing import Any, NoReturn


def _refuse_network(*args: Any, **kwargs: Any) -> NoReturn:
    raise ConnectionRefusedError(f"network access while importing the handler: {args[1:] or kwargs}")


def _block_network() -> None:
    socket.socket.connect = _refuse_network  # type: ignore[method-assign]
    socket.socket.connect_ex = _refuse_network  # type: ignore[method-assign]
    socket.getaddrinfo = _refuse_network
    socket.create_connection = _refuse_network


def _app_description(module: Any) -> dict[str, Any] | None:
    from fastapi import FastAPI
    from starlette.routing import Route

    app = getattr(module, "app", None)
    if app is None:
        return None
    if not isinstance(app, FastAPI):
        return {"is_fastapi": False, "type": type(app).__name__, "routes": []}
    routes: list[list[str]] = []
    for route in app.routes:
        if not isinstance(route, Route):
            routes.append(["?", f"{type(route).__name__} {getattr(route, 'path', '')}"])
            continue
        methods = set(route.methods or ())
        if "GET" in methods and type(route) is Route:
            methods.discard("HEAD")  # Starlette adds HEAD to every plain GET route
        routes.extend([method, route.path] for method in sorted(methods))
    return {"is_fastapi": True, "type": "FastAPI", "routes": routes}


def probe(handler: str) -> dict[str, Any]:
    result: dict[str, Any] = {"handler": handler, "imported": False, "callable": False, "error": None, "app": None}
    module_name, _, attribute = handler.rpartition(".")
    if not module_name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", attribute):
        result["error"] = f"Handler {handler!r} is not <module>.<attribute>"
        return result
    _block_network()
    try:
        module = importlib.import_module(module_name)
    except BaseException:  # report any import failure, including SystemExit, as data
        result["error"] = traceback.format_exc(limit=-8)
        return result
    result["imported"] = True
    target = getattr(module, attribute, None)
    if target is None:
        result["error"] = f"module {module_name} has no attribute {attribute!r}"
    result["callable"] = callable(target)
    result["app"] = _app_description(module)
    return result


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1])))
