"""Document metadata, conversations and messages in DynamoDB (PynamoDB); every key is led by the tenant.

Documents table: ``pk = <tenant>#documents``, ``sk = <document id>`` (ids sort by creation time).
Conversations table: ``pk = <tenant>#conversations``, ``sk = <conversation id>`` lists a tenant's
conversations; ``pk = <tenant>#conversation#<id>``, ``sk = message#<message id>`` holds one item per message,
so a conversation never grows one item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.update import Action

from docqa.domain import Citation, Conversation, Document, DocumentStatus, Message, utcnow
from stratus.errors import ValidationFailed
from stratus.storage import TenantModel, bind_model, tenant_key

_CONDITION_FAILED = "ConditionalCheckFailedException"
_MESSAGE_PREFIX = "message#"

Position = dict[str, Any]


class DocumentGone(Exception):
    """The document was deleted while something was still working on it."""


class DocumentItem(TenantModel):
    document_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    status = UnicodeAttribute()
    upload_method = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)
    size_bytes = NumberAttribute(null=True)
    title = UnicodeAttribute(null=True)
    pages = NumberAttribute(null=True)
    chunks = NumberAttribute(null=True)
    object_version = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    failure_code = UnicodeAttribute(null=True)
    ready_at = UTCDateTimeAttribute(null=True)


class ConversationItem(TenantModel):
    conversation_id = UnicodeAttribute()
    title = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class MessageItem(TenantModel):
    conversation_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    role = UnicodeAttribute()
    content = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    citations = JSONAttribute(null=True)
    usage = JSONAttribute(null=True)
    standalone_question = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)


def _documents_pk(tenant_id: str) -> str:
    return tenant_key(tenant_id, "documents")


def _conversations_pk(tenant_id: str) -> str:
    return tenant_key(tenant_id, "conversations")


def _conversation_pk(tenant_id: str, conversation_id: str) -> str:
    return tenant_key(tenant_id, "conversation", conversation_id)


def _condition_failed(error: UpdateError | PutError | DeleteError) -> bool:
    return error.cause_response_code == _CONDITION_FAILED


def _start_key(pk: str, position: Position | None) -> dict[str, dict[str, str]] | None:
    """A cursor stores only the sort key; the partition is always the caller's own."""
    if position is None:
        return None
    sk = position.get("sk")
    if not isinstance(sk, str) or not sk:
        raise ValidationFailed("cursor is malformed", field="cursor")
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _position(last_evaluated_key: dict[str, dict[str, Any]] | None) -> Position | None:
    if not last_evaluated_key:
        return None
    return {"sk": last_evaluated_key["sk"]["S"]}


class DocumentRepository(Protocol):
    def create(self, document: Document) -> None: ...

    def find(self, tenant_id: str, document_id: str) -> Document | None: ...

    def list(
        self, tenant_id: str, limit: int, position: Position | None, status: DocumentStatus | None
    ) -> tuple[list[Document], Position | None]: ...

    def mark_processing(self, tenant_id: str, document_id: str, object_version: str, size_bytes: int | None) -> None:
        """Raises ``DocumentGone`` when the document no longer exists."""
        ...

    def mark_ready(
        self, tenant_id: str, document_id: str, *, title: str | None, pages: int, chunks: int
    ) -> Document: ...

    def mark_failed(self, tenant_id: str, document_id: str, *, reason: str, code: str) -> None: ...

    def delete(self, tenant_id: str, document_id: str) -> None: ...


class ConversationRepository(Protocol):
    def create(self, conversation: Conversation) -> None: ...

    def find(self, tenant_id: str, conversation_id: str) -> Conversation | None: ...

    def conversations(
        self, tenant_id: str, limit: int, position: Position | None
    ) -> tuple[list[Conversation], Position | None]:
        """Newest first."""
        ...

    def delete(self, tenant_id: str, conversation_id: str) -> int: ...

    def add_message(self, tenant_id: str, message: Message) -> None: ...

    def mark_unanswered(self, tenant_id: str, conversation_id: str, message_id: str, reason: str) -> None: ...

    def recent_messages(self, tenant_id: str, conversation_id: str, count: int) -> list[Message]: ...

    def messages(
        self, tenant_id: str, conversation_id: str, limit: int, position: Position | None
    ) -> tuple[list[Message], Position | None]: ...


class DynamoDocumentRepository:
    def __init__(self, table_name: str) -> None:
        self._model: type[DocumentItem] = bind_model(DocumentItem, table_name)

    def create(self, document: Document) -> None:
        item = self._model(
            _documents_pk(document.tenant_id),
            document.document_id,
            document_id=document.document_id,
            filename=document.filename,
            content_type=document.content_type,
            status=document.status,
            upload_method=document.upload_method,
            created_at=document.created_at,
            updated_at=document.updated_at,
            version=document.version,
            size_bytes=document.size_bytes,
        )
        item.save(condition=self._model.pk.does_not_exist())

    def find(self, tenant_id: str, document_id: str) -> Document | None:
        try:
            item = self._model.get(_documents_pk(tenant_id), document_id, consistent_read=True)
        except self._model.DoesNotExist:
            return None
        return _document(tenant_id, item)

    def list(
        self, tenant_id: str, limit: int, position: Position | None, status: DocumentStatus | None
    ) -> tuple[list[Document], Position | None]:
        pk = _documents_pk(tenant_id)
        results = self._model.query(
            pk,
            filter_condition=(self._model.status == status) if status else None,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=_start_key(pk, position),
        )
        documents = [_document(tenant_id, item) for item in results]
        return documents, _position(results.last_evaluated_key)

    def _update(self, tenant_id: str, document_id: str, actions: Sequence[Action]) -> DocumentItem:
        item = self._model(_documents_pk(tenant_id), document_id)
        try:
            item.update(
                actions=[
                    *actions,
                    self._model.updated_at.set(utcnow()),
                    self._model.version.add(1),
                ],
                condition=self._model.pk.exists(),
            )
        except UpdateError as error:
            if _condition_failed(error):
                raise DocumentGone(document_id) from error
            raise
        return item

    def mark_processing(self, tenant_id: str, document_id: str, object_version: str, size_bytes: int | None) -> None:
        model = self._model
        actions = [
            model.status.set("processing"),
            model.object_version.set(object_version),
            model.failure_reason.remove(),
            model.failure_code.remove(),
        ]
        if size_bytes is not None:
            actions.append(model.size_bytes.set(size_bytes))
        self._update(tenant_id, document_id, actions)

    def mark_ready(self, tenant_id: str, document_id: str, *, title: str | None, pages: int, chunks: int) -> Document:
        model = self._model
        actions = [
            model.status.set("ready"),
            model.pages.set(pages),
            model.chunks.set(chunks),
            model.ready_at.set(utcnow()),
        ]
        actions.append(model.title.set(title) if title else model.title.remove())
        return _document(tenant_id, self._update(tenant_id, document_id, actions))

    def mark_failed(self, tenant_id: str, document_id: str, *, reason: str, code: str) -> None:
        model = self._model
        self._update(
            tenant_id,
            document_id,
            [
                model.status.set("failed"),
                model.failure_reason.set(reason[:1000]),
                model.failure_code.set(code),
                model.chunks.set(0),
            ],
        )

    def delete(self, tenant_id: str, document_id: str) -> None:
        self._model(_documents_pk(tenant_id), document_id).delete()


def _document(tenant_id: str, item: DocumentItem) -> Document:
    return Document(
        tenant_id=tenant_id,
        document_id=item.document_id,
        filename=item.filename,
        content_type=item.content_type,
        status=item.status,  # type: ignore[arg-type]
        upload_method=item.upload_method,  # type: ignore[arg-type]
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 1),
        size_bytes=None if item.size_bytes is None else int(item.size_bytes),
        title=item.title,
        pages=None if item.pages is None else int(item.pages),
        chunks=None if item.chunks is None else int(item.chunks),
        object_version=item.object_version,
        failure_reason=item.failure_reason,
        failure_code=item.failure_code,
        ready_at=item.ready_at,
    )


class DynamoConversationRepository:
    def __init__(self, table_name: str) -> None:
        self._conversations: type[ConversationItem] = bind_model(ConversationItem, table_name)
        self._messages: type[MessageItem] = bind_model(MessageItem, table_name)

    def create(self, conversation: Conversation) -> None:
        self._conversations(
            _conversations_pk(conversation.tenant_id),
            conversation.conversation_id,
            conversation_id=conversation.conversation_id,
            title=conversation.title,
            created_at=conversation.created_at,
        ).save(condition=self._conversations.pk.does_not_exist())

    def find(self, tenant_id: str, conversation_id: str) -> Conversation | None:
        try:
            item = self._conversations.get(_conversations_pk(tenant_id), conversation_id, consistent_read=True)
        except self._conversations.DoesNotExist:
            return None
        return Conversation(tenant_id, item.conversation_id, item.created_at, item.title)

    def conversations(
        self, tenant_id: str, limit: int, position: Position | None
    ) -> tuple[list[Conversation], Position | None]:
        pk = _conversations_pk(tenant_id)
        results = self._conversations.query(
            pk, scan_index_forward=False, limit=limit, last_evaluated_key=_start_key(pk, position)
        )
        found = [Conversation(tenant_id, i.conversation_id, i.created_at, i.title) for i in results]
        return found, _position(results.last_evaluated_key)

    def delete(self, tenant_id: str, conversation_id: str) -> int:
        """Every message, then the conversation (so a retry after a failure finishes); returns messages removed."""
        pk = _conversation_pk(tenant_id, conversation_id)
        removed = 0
        with self._messages.batch_write() as batch:
            for item in self._messages.query(pk, attributes_to_get=["pk", "sk"]):
                batch.delete(item)
                removed += 1
        self._conversations(_conversations_pk(tenant_id), conversation_id).delete()
        return removed

    def add_message(self, tenant_id: str, message: Message) -> None:
        self._messages(
            _conversation_pk(tenant_id, message.conversation_id),
            _MESSAGE_PREFIX + message.message_id,
            conversation_id=message.conversation_id,
            message_id=message.message_id,
            role=message.role,
            content=message.content,
            created_at=message.created_at,
            citations=[citation.as_dict() for citation in message.citations] or None,
            usage=message.usage or None,
            standalone_question=message.standalone_question,
        ).save(condition=self._messages.pk.does_not_exist())

    def mark_unanswered(self, tenant_id: str, conversation_id: str, message_id: str, reason: str) -> None:
        item = self._messages(_conversation_pk(tenant_id, conversation_id), _MESSAGE_PREFIX + message_id)
        item.update(actions=[self._messages.failure_reason.set(reason[:1000])], condition=self._messages.pk.exists())

    def recent_messages(self, tenant_id: str, conversation_id: str, count: int) -> list[Message]:
        if count <= 0:
            return []
        results = self._messages.query(
            _conversation_pk(tenant_id, conversation_id),
            range_key_condition=self._messages.sk.startswith(_MESSAGE_PREFIX),
            scan_index_forward=False,
            consistent_read=True,
            limit=count,
        )
        return [_message(item) for item in results][::-1]

    def messages(
        self, tenant_id: str, conversation_id: str, limit: int, position: Position | None
    ) -> tuple[list[Message], Position | None]:
        pk = _conversation_pk(tenant_id, conversation_id)
        results = self._messages.query(
            pk,
            range_key_condition=self._messages.sk.startswith(_MESSAGE_PREFIX),
            scan_index_forward=True,
            limit=limit,
            last_evaluated_key=_start_key(pk, position),
        )
        messages = [_message(item) for item in results]
        return messages, _position(results.last_evaluated_key)


def _message(item: MessageItem) -> Message:
    return Message(
        conversation_id=item.conversation_id,
        message_id=item.message_id,
        role=item.role,  # type: ignore[arg-type]
        content=item.content,
        created_at=item.created_at,
        citations=tuple(Citation(**citation) for citation in (item.citations or [])),
        usage=dict(item.usage or {}),
        standalone_question=item.standalone_question,
        failure_reason=item.failure_reason,
    )
