"""The platform's use cases and ports, built once per container, and the aliases routes receive them by."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from platform_.settings import get_platform_settings
from stratus.cache import per_container

if TYPE_CHECKING:
    from platform_.accounts import AccountService
    from platform_.agents import AgentService
    from platform_.keys import ApiKeyService
    from platform_.members import MemberService
    from platform_.passwords import Passwords
    from platform_.repository import PlatformRepository
    from platform_.runs import RunService
    from platform_.usage import UsageService
    from stratus.ai import ChatModel
    from stratus.flows import StepFunctions
    from stratus.identity import IdentityService
    from stratus.metering import DynamoUsageLedger


@per_container
def get_repository() -> PlatformRepository:
    from platform_.repository import PlatformRepository

    return PlatformRepository(get_platform_settings())


@per_container
def get_passwords() -> Passwords:
    from platform_.passwords import Passwords

    settings = get_platform_settings()
    return Passwords(
        time_cost=settings.platform_password_time_cost,
        memory_kib=settings.platform_password_memory_kib,
        parallelism=settings.platform_password_parallelism,
    )


def get_identity() -> IdentityService:
    from stratus.identity import get_identity_service

    return get_identity_service()


def get_usage_ledger() -> DynamoUsageLedger:
    from stratus.metering import get_usage_ledger as ledger

    return ledger()


@per_container
def get_step_functions() -> StepFunctions:
    from stratus.flows import StepFunctions

    return StepFunctions()


def chat_model_for(model: str | None) -> ChatModel:
    """The configured provider with the agent's model (the offline provider has one model of its own)."""
    from stratus.ai import get_chat_model

    settings = get_platform_settings()
    if model is None or settings.model_provider == "offline":
        return get_chat_model(settings)
    field = "chat_model_id" if settings.model_provider == "bedrock" else "openai_chat_model"
    return get_chat_model(settings.model_copy(update={field: model}))


@per_container
def account_service() -> AccountService:
    from platform_.accounts import AccountService

    return AccountService(get_platform_settings(), get_repository(), get_passwords(), get_identity())


@per_container
def member_service() -> MemberService:
    from platform_.members import MemberService

    return MemberService(get_platform_settings(), get_repository())


@per_container
def api_key_service() -> ApiKeyService:
    from platform_.keys import ApiKeyService

    return ApiKeyService(get_identity())


@per_container
def agent_service() -> AgentService:
    from platform_.agents import AgentService

    return AgentService(get_repository())


@per_container
def run_service() -> RunService:
    from platform_.runs import RunService

    return RunService(
        get_platform_settings(), get_repository(), chat_model_for, get_usage_ledger(), flows=get_step_functions
    )


@per_container
def usage_service() -> UsageService:
    from platform_.usage import UsageService

    return UsageService(get_usage_ledger())


Accounts = Annotated["AccountService", Depends(account_service)]
ApiKeys = Annotated["ApiKeyService", Depends(api_key_service)]
Members = Annotated["MemberService", Depends(member_service)]
Agents = Annotated["AgentService", Depends(agent_service)]
Runs = Annotated["RunService", Depends(run_service)]
Usage = Annotated["UsageService", Depends(usage_service)]
