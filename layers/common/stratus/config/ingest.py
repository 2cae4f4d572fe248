from typing import Literal, Self

from pydantic import Field, model_validator

from stratus.config.base import ConfigBase

ChunkStrategy = Literal["recursive", "fixed", "markdown"]


class IngestSettings(ConfigBase):
    """Settings of `stratus.ingest`: document limits and chunking defaults."""

    ingest_max_document_bytes: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Documents larger than this are rejected before parsing (bytes).",
    )
    ingest_max_pages: int = Field(
        default=2000, gt=0, description="PDFs with more pages are rejected before any text is extracted."
    )
    ingest_chunk_strategy: ChunkStrategy = Field(
        default="recursive", description="Chunker used when a caller does not name one."
    )
    ingest_chunk_tokens: int = Field(
        default=300, ge=16, le=8192, description="Token budget of one chunk (cl100k tokens)."
    )
    ingest_chunk_overlap_tokens: int = Field(
        default=50, ge=0, description="Tokens a chunk repeats from the end of the previous one."
    )

    @model_validator(mode="after")
    def _overlap_below_half_budget(self) -> Self:
        if self.ingest_chunk_overlap_tokens * 2 > self.ingest_chunk_tokens:
            raise ValueError(
                "INGEST_CHUNK_OVERLAP_TOKENS must be at most half of INGEST_CHUNK_TOKENS "
                f"({self.ingest_chunk_overlap_tokens} > {self.ingest_chunk_tokens} / 2)"
            )
        return self
