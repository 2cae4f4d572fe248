"""The analyst's objects, built once per container, and the dependency aliases its routes use.

Every factory imports its module on first use: the API's cold start loads no sqlglot, database driver, matplotlib
or model SDK (``tests/unit/analyst/test_wiring.py`` holds it to that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from analyst.settings import get_analyst_settings
from stratus.cache import per_container

if TYPE_CHECKING:
    from analyst.charts import ChartService
    from analyst.databases import DatabaseService
    from analyst.generation import SqlGenerator
    from analyst.queries import QueryService
    from analyst.repository import AnalystRepository
    from analyst.sessions import SessionService
    from analyst.sources import Sources
    from stratus.secrets import SecretStore


@per_container
def analyst_repository() -> AnalystRepository:
    from analyst.repository import AnalystRepository

    return AnalystRepository(get_analyst_settings())


@per_container
def analyst_secrets() -> SecretStore:
    from stratus.secrets import SecretsManagerStore

    # A deleted database's password stays recoverable for a week, as it always has.
    return SecretsManagerStore(recovery_window_days=7)


@per_container
def analyst_sources() -> Sources:
    from analyst.sources import Sources

    return Sources(get_analyst_settings(), analyst_repository(), analyst_secrets())


@per_container
def sql_generator() -> SqlGenerator:
    """The offline schema matcher, or the configured chat model behind ``stratus.ai``'s port."""
    from analyst.generation import ModelSqlGenerator, OfflineSqlGenerator

    settings = get_analyst_settings()
    if settings.model_provider == "offline":
        return OfflineSqlGenerator()
    from stratus.ai import get_chat_model

    return ModelSqlGenerator(get_chat_model(settings))


@per_container
def database_service() -> DatabaseService:
    from analyst.databases import DatabaseService

    return DatabaseService(get_analyst_settings(), analyst_repository(), analyst_sources())


@per_container
def session_service() -> SessionService:
    from analyst.sessions import SessionService

    return SessionService(analyst_repository())


@per_container
def query_service() -> QueryService:
    from analyst.queries import QueryService

    return QueryService(get_analyst_settings(), analyst_repository(), analyst_sources(), sql_generator())


@per_container
def chart_service() -> ChartService:
    from analyst.charts import ChartService

    return ChartService(get_analyst_settings(), analyst_repository(), query_service())


Databases = Annotated["DatabaseService", Depends(database_service)]
Sessions = Annotated["SessionService", Depends(session_service)]
Queries = Annotated["QueryService", Depends(query_service)]
Charts = Annotated["ChartService", Depends(chart_service)]
