"""The docqa services, built once per container from settings; routes receive them through the aliases below,
the worker from the factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from docqa.answering import QueryService
from docqa.documents import DocumentService
from docqa.settings import get_docqa_settings
from stratus.cache import per_container

# Repositories and the blob store (PynamoDB, botocore) load in the factories, on the first request.
if TYPE_CHECKING:
    from docqa.ingestion import IngestionService
    from docqa.repository import DynamoConversationRepository, DynamoDocumentRepository
    from stratus.ai import ChatModel, Embedder
    from stratus.realtime import TopicPublisher
    from stratus.search import SearchIndex
    from stratus.storage import BlobStore


def _search_index() -> SearchIndex:
    from stratus.search import get_search_index

    return get_search_index(get_docqa_settings())


def _embedder() -> Embedder:
    from stratus.ai import get_embedder

    return get_embedder(get_docqa_settings())


def _chat_model() -> ChatModel:
    from stratus.ai import get_chat_model

    return get_chat_model(get_docqa_settings())


def _topics() -> TopicPublisher:
    from stratus.realtime import get_topic_publisher

    return get_topic_publisher()


def _subscribers(tenant_id: str, topic: str) -> list[str]:
    from stratus.realtime import get_connection_registry

    return get_connection_registry().subscribers(tenant_id, topic)


@per_container
def documents_repository() -> DynamoDocumentRepository:
    from docqa.repository import DynamoDocumentRepository

    return DynamoDocumentRepository(get_docqa_settings().docqa_documents_table)


@per_container
def conversations_repository() -> DynamoConversationRepository:
    from docqa.repository import DynamoConversationRepository

    return DynamoConversationRepository(get_docqa_settings().docqa_conversations_table)


@per_container
def blob_store() -> BlobStore:
    from stratus.storage import BlobStore

    return BlobStore(get_docqa_settings().docqa_bucket)


@per_container
def document_service() -> DocumentService:
    return DocumentService(documents_repository(), blob_store(), _search_index, get_docqa_settings())


def make_ingestion_service(embedder: Callable[[], Embedder] = _embedder) -> IngestionService:
    from docqa.ingestion import IngestionService  # the API function never ingests: keep parsers out of it

    return IngestionService(documents_repository(), blob_store(), _search_index, embedder, get_docqa_settings())


def make_query_service(chat_model: Callable[[], ChatModel] = _chat_model) -> QueryService:
    return QueryService(
        conversations=conversations_repository(),
        documents=documents_repository(),
        search_index=_search_index,
        embedder=_embedder,
        chat_model=chat_model,
        topics=_topics,
        subscribers=_subscribers,
        settings=get_docqa_settings(),
    )


@per_container
def ingestion_service() -> IngestionService:
    return make_ingestion_service()


@per_container
def query_service() -> QueryService:
    return make_query_service()


Documents = Annotated[DocumentService, Depends(document_service)]
Queries = Annotated[QueryService, Depends(query_service)]
