"""S3 blob store whose every key starts with the tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stratus import aws
from stratus.errors import NotFound, ValidationFailed
from stratus.storage.models import validate_tenant_id


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    url: str
    fields: dict[str, str]
    key: str
    expires_in_s: int


def _missing(error: Any) -> bool:
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class BlobStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        if not bucket:
            raise RuntimeError("BlobStore: bucket name is not configured")
        self.bucket = bucket
        self._client = client or aws.client("s3")

    @staticmethod
    def key_for(tenant_id: str, relative_key: str) -> str:
        validate_tenant_id(tenant_id)
        relative_key = relative_key.lstrip("/")
        if not relative_key or ".." in relative_key.split("/"):
            # A caller-supplied key that climbs out of the tenant's prefix is the caller's mistake: 422.
            raise ValidationFailed("object key must be a relative path without '..' segments", field="key")
        return f"{tenant_id}/{relative_key}"

    def put(self, tenant_id: str, relative_key: str, body: bytes, content_type: str) -> str:
        key = self.key_for(tenant_id, relative_key)
        self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return key

    def get(self, tenant_id: str, relative_key: str) -> bytes:
        key = self.key_for(tenant_id, relative_key)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except self._client.exceptions.NoSuchKey as exc:
            raise NotFound(f"object {relative_key} not found") from exc
        body: bytes = response["Body"].read()
        return body

    def copy(self, tenant_id: str, source_key: str, target_key: str) -> str:
        """Server-side copy within the tenant's prefix; returns the stored target key."""
        target = self.key_for(tenant_id, target_key)
        source = {"Bucket": self.bucket, "Key": self.key_for(tenant_id, source_key)}
        try:
            self._client.copy_object(Bucket=self.bucket, Key=target, CopySource=source)
        except self._client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFound(f"object {source_key} not found") from exc
            raise
        return target

    def size(self, tenant_id: str, relative_key: str) -> int:
        """Bytes stored at the key; ``NotFound`` when there is no object."""
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self.key_for(tenant_id, relative_key))
        except self._client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFound(f"object {relative_key} not found") from exc
            raise
        return int(head["ContentLength"])

    def delete(self, tenant_id: str, relative_key: str) -> None:
        """Idempotent: deleting a missing object succeeds."""
        self._client.delete_object(Bucket=self.bucket, Key=self.key_for(tenant_id, relative_key))

    def delete_prefix(self, tenant_id: str, relative_prefix: str) -> int:
        prefix = self.key_for(tenant_id, relative_prefix)
        deleted = 0
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if objects:
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
                deleted += len(objects)
        return deleted

    def presigned_upload(
        self, tenant_id: str, relative_key: str, content_type: str, max_bytes: int, expires_in_s: int = 900
    ) -> PresignedUpload:
        """A presigned POST that only accepts this key, this content type and at most ``max_bytes``."""
        key = self.key_for(tenant_id, relative_key)
        post = self._client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in_s,
        )
        return PresignedUpload(url=post["url"], fields=post["fields"], key=key, expires_in_s=expires_in_s)

    def presigned_download(self, tenant_id: str, relative_key: str, expires_in_s: int = 900) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.key_for(tenant_id, relative_key)},
            ExpiresIn=expires_in_s,
        )
        return url
