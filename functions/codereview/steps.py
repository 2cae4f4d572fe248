"""The Step Functions tasks of ``statemachines/code_review.asl.json``: one function, the ``step`` field picks the task.

``prepare`` and ``publish`` (the steps that call GitHub) return ``wait_s``: 0 normally; a GitHub rate limit
longer than the in-process wait comes back as the seconds to wait, the workflow waits them out in a Wait
state (free) and runs the step again, until the run has spent ``rate_limit_budget_s`` waiting.
"""

from __future__ import annotations

import time
from typing import Any

from codereview import wiring
from codereview.domain import ReviewTrigger
from codereview.pipeline import ReviewPipeline
from stratus.errors import BadRequest
from stratus.github.errors import GitHubRateLimited
from stratus.metering import Caller, metering_scope
from stratus.observability import instrument_handler, logger

DEFAULT_RATE_LIMIT_BUDGET_S = 3600


def _trigger(raw: dict[str, Any]) -> ReviewTrigger:
    return ReviewTrigger.model_validate({name: raw[name] for name in ReviewTrigger.model_fields if name in raw})


def _budget(event: dict[str, Any]) -> float:
    try:
        return float(event.get("rate_limit_budget_s") or DEFAULT_RATE_LIMIT_BUDGET_S)
    except (TypeError, ValueError):
        return DEFAULT_RATE_LIMIT_BUDGET_S


def _wait_or_raise(
    pipeline: ReviewPipeline, trigger: ReviewTrigger, error: GitHubRateLimited, budget_s: float
) -> dict[str, Any]:
    run = pipeline.store.run(trigger.tenant_id, trigger.pr_id, trigger.run_id)
    waited_until = time.time() + error.retry_after_s
    if waited_until - int(run.started_at) > budget_s:
        raise error
    logger.info("waiting out a GitHub rate limit in the workflow", extra={"wait_s": error.retry_after_s})
    return {"wait_s": max(1, int(error.retry_after_s + 0.999))}


def run_step(event: dict[str, Any]) -> dict[str, Any]:
    step = event.get("step")
    pipeline = wiring.review_pipeline()
    if step == "prepare":
        trigger = _trigger(event["trigger"])
        try:
            return {"wait_s": 0, **pipeline.prepare(trigger)}
        except GitHubRateLimited as error:
            return _wait_or_raise(pipeline, trigger, error, _budget(event))
    if step == "fail":
        return pipeline.fail(_trigger(event["trigger"]), event.get("error") or {})
    prepared = event.get("prepared") or {}
    tenant_id, key = str(prepared.get("tenant_id", "")), str(prepared.get("key", ""))
    if not tenant_id or not key:
        raise BadRequest(f"step {step!r} needs the prepared run (tenant_id and key)")
    if step == "syntax":
        return pipeline.syntax(tenant_id, key)
    if step in ("logic", "security"):
        chunk = int(event["chunk"])
        # The run's key, the state and the map index: a retried task repeats its call ids and counts nothing twice.
        origin = f"{key.removesuffix('/prepared.json')}:{step}:{chunk}"
        with metering_scope(Caller(tenant_id, "codereview", origin)):
            return pipeline.model_stage(step, tenant_id, key, chunk)
    if step == "publish":
        summaries = [event["syntax"], *(event.get("logic") or []), *(event.get("security") or [])]
        try:
            return {"wait_s": 0, **pipeline.publish(tenant_id, key, summaries)}
        except GitHubRateLimited as error:
            trigger = pipeline.documents.load_prepared(tenant_id, key).trigger
            return _wait_or_raise(pipeline, trigger, error, _budget(event))
    raise BadRequest(f"unknown step {step!r}")


@instrument_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(step=event.get("step"))
    return run_step(event)
