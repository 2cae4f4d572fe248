"""The orchestrator's objects, built once per container (rebuilt when tests or the local stack reset), and the
dependency alias its routes use.

Every factory imports its module on first use: the API starts (and answers /health) without loading the use cases,
the repository, Step Functions or the agents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from orchestrator.settings import get_orchestrator_settings
from stratus.cache import per_container

if TYPE_CHECKING:
    from orchestrator.repository import OrchestratorRepository
    from orchestrator.tasks import TaskService
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


@per_container
def task_service() -> TaskService:
    from orchestrator.tasks import TaskService

    return TaskService(
        get_orchestrator_settings(), get_repository(), get_progress_log(), get_token_store(), get_step_functions()
    )


Tasks = Annotated["TaskService", Depends(task_service)]
