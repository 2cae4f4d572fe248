"""Tenant-led DynamoDB models (PynamoDB) and the tenant-prefixed S3 blob store."""

from stratus.storage.blobs import BlobStore, PresignedUpload
from stratus.storage.models import TenantModel, bind_model, tenant_key, validate_tenant_id

__all__ = ["BlobStore", "PresignedUpload", "TenantModel", "bind_model", "tenant_key", "validate_tenant_id"]
