from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from stratus.config.base import ConfigBase


class SearchSettings(ConfigBase):
    """Settings of `stratus.search`: which index backs the `SearchIndex` port, and how to reach it."""

    search_backend: Literal["embedded", "opensearch"] = Field(
        default="embedded",
        description="embedded = tantivy + numpy on disk; opensearch = a domain or aoss collection",
    )
    search_index_dir: Path = Field(
        default=Path(".local/search"), description="Directory of the embedded index; it survives restarts"
    )
    search_rrf_k: int = Field(default=60, ge=1, le=1000, description="Rank constant of reciprocal rank fusion")

    opensearch_endpoint: str | None = Field(
        default=None, description="https://<id>.<region>.aoss.amazonaws.com or a managed domain endpoint"
    )
    opensearch_index: str = Field(default="stratus-chunks", min_length=1, max_length=255)
    opensearch_service: Literal["aoss", "es"] = Field(
        default="aoss",
        description="SigV4 service name: aoss for Serverless collections, es for managed domains",
    )
    opensearch_knn_engine: Literal["faiss", "lucene"] = Field(
        default="faiss", description="nmslib is gone from OpenSearch 3 and cannot filter; faiss works on aoss"
    )
    opensearch_timeout_s: float = Field(default=10.0, gt=0, le=120)
    opensearch_max_attempts: int = Field(default=4, ge=1, le=10, description="Attempts per request, backoff between")
    opensearch_bulk_max_chunks: int = Field(default=200, ge=1, le=5000, description="Chunks per _bulk request")

    @field_validator("opensearch_endpoint")
    @classmethod
    def _endpoint_is_https_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("OPENSEARCH_ENDPOINT must be a URL such as https://abc123.us-east-1.aoss.amazonaws.com")
        return value.rstrip("/")
