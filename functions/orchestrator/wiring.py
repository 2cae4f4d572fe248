"""The orchestrator's adapters, built once per container (rebuilt when tests or the local stack reset)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.settings import get_orchestrator_settings
from stratus.cache import per_container

if TYPE_CHECKING:
    from orchestrator.repository import OrchestratorRepository
    from stratus.flows import ProgressLog, StepFunctions, TaskTokenStore


@per_container
def get_repository() -> OrchestratorRepository:
    from orchestrator.repository import OrchestratorRepository

    return OrchestratorRepository(get_orchestrator_settings())


@per_container
def get_progress_log() -> ProgressLog:
    """Task events: stored in the orchestrator table, published to the topic named after the task id."""
    from stratus.flows import ProgressLog
    from stratus.realtime import get_topic_publisher

    return ProgressLog(get_orchestrator_settings().orchestrator_table, get_topic_publisher())


@per_container
def get_token_store() -> TaskTokenStore:
    from stratus.flows import TaskTokenStore

    return TaskTokenStore(get_orchestrator_settings().orchestrator_table)


@per_container
def get_step_functions() -> StepFunctions:
    from stratus.flows import StepFunctions

    return StepFunctions()
