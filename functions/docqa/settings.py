"""Settings of the docqa service: the layer's settings plus the docqa mixin, validated at cold start."""

from __future__ import annotations

from pydantic import Field, model_validator

from stratus.cache import per_container
from stratus.config import Settings
from stratus.config.base import ConfigBase


class DocqaMixin(ConfigBase):
    docqa_bucket: str = Field(default="", description="S3 bucket of uploaded documents (<tenant>/documents/<id>)")
    docqa_documents_table: str = Field(default="", description="DynamoDB table of document metadata")
    docqa_conversations_table: str = Field(default="", description="DynamoDB table of conversations and messages")
    docqa_presign_expires_s: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    docqa_max_question_chars: int = Field(default=2000, ge=10, le=20_000)
    docqa_default_k: int = Field(default=5, ge=1, le=50)
    docqa_max_k: int = Field(default=20, ge=1, le=50)
    docqa_history_messages: int = Field(
        default=6, ge=0, le=50, description="latest messages sent to the model with a follow-up"
    )
    docqa_ingest_max_receives: int = Field(
        default=5, ge=1, le=100, description="the queue's maxReceiveCount: the last attempt marks the document failed"
    )

    @model_validator(mode="after")
    def _default_k_within_max(self) -> DocqaMixin:
        if self.docqa_default_k > self.docqa_max_k:
            raise ValueError("DOCQA_DEFAULT_K must not exceed DOCQA_MAX_K")
        return self


class DocqaSettings(Settings, DocqaMixin):
    """Everything a docqa function reads from its environment."""


@per_container
def get_docqa_settings() -> DocqaSettings:
    return DocqaSettings()
