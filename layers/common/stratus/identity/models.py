from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from stratus.storage import TenantModel


class TenantItem(TenantModel):
    """``pk = <tenant>#TENANT``, ``sk = META``."""

    name = UnicodeAttribute()
    created_at = NumberAttribute()


class ApiKeyItem(TenantModel):
    """``pk = <tenant>#APIKEY``, ``sk = <key_id>``. Only a salted hash of the secret is stored."""

    user_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    salt = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_at = NumberAttribute()
    revoked_at = NumberAttribute(null=True)
