"""The sample events under ``events/<service>/*.json`` and the template function each one reaches.

An event goes where AWS would send it: an HTTP API event by its ``routeKey``, a WebSocket event by its
route, an authorizer event to the API's authorizer, an SQS batch to the function subscribed to its queue.
The directory names the service, so the function found must belong to it. Events AWS does not route by
content (direct invokes, Step Functions task inputs) go to the service's only function, or, when the
service has several, to the one whose handler module starts the file name (``worker-*.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratus.local.template import REPO_ROOT, Template

from .support import http_authorizer_functions, service_of, url_functions, websocket_functions

EVENTS_DIR = REPO_ROOT / "events"
# Events that need a real credential carry this placeholder; the tests put a freshly issued key there.
API_KEY_PLACEHOLDER = "${STRATUS_API_KEY}"


@dataclass(frozen=True)
class SampleEvent:
    path: Path

    @property
    def service(self) -> str:
        return self.path.parent.name

    @property
    def name(self) -> str:
        return f"{self.service}/{self.path.name}"

    def load(self, api_key: str | None = None) -> dict[str, Any]:
        text = self.path.read_text()
        if api_key is not None:
            text = text.replace(API_KEY_PLACEHOLDER, api_key)
        event: dict[str, Any] = json.loads(text)
        return event

    @property
    def needs_api_key(self) -> bool:
        return API_KEY_PLACEHOLDER in self.path.read_text()


def sample_events() -> list[SampleEvent]:
    return [SampleEvent(path) for path in sorted(EVENTS_DIR.glob("*/*.json"))]


def event_kind(event: dict[str, Any]) -> str:
    context = event.get("requestContext") or {}
    records = event.get("Records") or [{}]
    if event.get("type") == "REQUEST" and "methodArn" in event:
        return "websocket-authorizer"
    if event.get("type") == "REQUEST" and "routeArn" in event:
        return "http-authorizer"
    if event.get("version") == "2.0" and "http" in context:
        return "function-url" if ".lambda-url." in str(context.get("domainName")) else "http"
    if "connectionId" in context and "eventType" in context:
        return "websocket"
    if event.get("detail-type") == "Scheduled Event":
        return "schedule"
    if "detail-type" in event:
        return "eventbridge"
    source = records[0].get("eventSource") or records[0].get("EventSource")
    if source == "aws:sqs":
        return "sqs"
    if source == "aws:s3":
        return "s3"
    return "direct"


def _with_events(template: Template, service: str, *types: str) -> set[str]:
    return {
        logical_id
        for logical_id, function in template.functions().items()
        if service_of(template.handler(logical_id)) == service
        and any(e.get("Type") in types for e in ((function["Properties"].get("Events") or {}).values()))
    }


def _sqs_consumers(template: Template, queue_arn: str) -> set[str]:
    """Deployed queue ARNs carry the queue's logical id in their generated name."""
    found = set()
    for logical_id, function in template.functions().items():
        for spec in (function["Properties"].get("Events") or {}).values():
            if spec.get("Type") != "SQS":
                continue
            queue = (spec.get("Properties") or {}).get("Queue")
            queue_id = None
            if isinstance(queue, dict) and "Fn::GetAtt" in queue:
                queue_id = queue["Fn::GetAtt"][0]
            if queue_id and (queue_id in queue_arn or str(template.get_att(queue_id, "Arn")) == queue_arn):
                found.add(logical_id)
    return found


def _by_routing(template: Template, sample: SampleEvent, event: dict[str, Any]) -> set[str] | None:
    """The functions AWS would deliver this event to, or None when the event itself does not say."""
    kind = event_kind(event)
    context = event.get("requestContext") or {}
    if kind == "http":
        targets = {r.function for r in template.http_routes() if f"{r.method} {r.path}" == event.get("routeKey")}
        if not targets:
            route_key = event.get("routeKey")
            raise LookupError(f"{sample.name}: routeKey {route_key!r} is not an HttpApi route of template.yaml")
        return targets
    if kind == "function-url":
        return url_functions(template)
    if kind == "websocket":
        routes = template.websocket_routes()
        route = routes.get(context.get("routeKey", "")) or routes.get("$default")
        if route is None:
            raise LookupError(f"{sample.name}: WebSocket route {context.get('routeKey')!r} is not in template.yaml")
        return {route.function}
    if kind == "websocket-authorizer":
        return websocket_functions(template)[1]
    if kind == "http-authorizer":
        return http_authorizer_functions(template)
    if kind == "schedule":
        return _with_events(template, sample.service, "Schedule", "ScheduleV2")
    if kind == "sqs":
        return _sqs_consumers(template, str(event["Records"][0].get("eventSourceARN", "")))
    if kind == "s3":
        return _with_events(template, sample.service, "S3", "SQS")
    return None


def function_for(template: Template, sample: SampleEvent) -> str:
    """The logical id of the function ``sample`` reaches; LookupError says why there is none or several."""
    event = sample.load()
    in_service = {lid for lid in template.functions() if service_of(template.handler(lid)) == sample.service}
    if not in_service:
        raise LookupError(f"{sample.name}: no function in template.yaml has a Handler in service {sample.service!r}")
    routed = _by_routing(template, sample, event)
    candidates = in_service if routed is None else routed & in_service
    if routed is not None and not candidates:
        raise LookupError(
            f"{sample.name}: AWS would deliver this {event_kind(event)} event to {sorted(routed) or 'no function'}, "
            f"not to service {sample.service!r}"
        )
    if len(candidates) > 1:
        stem = sample.path.stem
        candidates = {lid for lid in candidates if stem.startswith(template.handler(lid).split(".")[-2] + "-")}
    if len(candidates) != 1:
        raise LookupError(
            f"{sample.name}: cannot tell which of {sorted(in_service)} handles it; start the file name "
            "with the handler's module (e.g. worker-<what>.json)"
        )
    return candidates.pop()
