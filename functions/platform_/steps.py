"""The run state machine's task: execute one queued run (``{"tenant_id", "run_id"}``) and say how it ended."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from stratus.observability import instrument_handler, logger


class RunTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    run_id: str


@instrument_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    from platform_.wiring import run_service

    task = RunTask.model_validate(event)
    run = run_service().execute_queued(task.tenant_id, task.run_id)
    if run is None:
        logger.warning("queued run not found; nothing to execute", extra={"run_id": task.run_id})
        return {"run_id": task.run_id, "status": "missing"}
    return {"run_id": run.run_id, "status": run.status}
