"""The platform table's items (PynamoDB). Keys lead with the tenant, except the sign-in index of an email.

Items (``pk`` / ``sk``):
- sign-in index:  ``~EMAIL#<sha256 of the email>`` / ``LOGIN``     (tenant and user of the account)
- sign-in guard:  ``~EMAIL#<sha256 of the email>`` / ``ATTEMPTS``  (failed sign-ins, kept with or without account)
- user:           ``<tenant>#USER``                / ``<user id>``
- invitation:     ``<tenant>#INVITE``              / ``<invitation id>`` (a hash of its token, with a TTL)
- session family: ``<tenant>#SESSION#<family id>`` / ``FAMILY``    (one sign-in; revoked as a whole)
- refresh token:  ``<tenant>#SESSION#<family id>`` / ``TOKEN#<sha256 of the secret>``
- agent:          ``<tenant>#AGENT``               / ``<agent id>`` (draft config, production alias)
- version:        ``<tenant>#AGENT#<agent id>``    / ``V#<version, 8 digits>`` (frozen config)
- run of agent:   ``<tenant>#AGENT#<agent id>``    / ``RUN#<run id>`` (the run's summary, for listing)
- run:            ``<tenant>#RUN``                 / ``<run id>``

An email signs in without naming its tenant, so its index cannot lead with one; ``~`` never starts a
tenant id, and the index holds only where the account lives.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from stratus.storage import TenantModel

EMAIL_PREFIX = "~EMAIL#"


class GlobalModel(Model):
    """Items keyed outside any tenant (the sign-in index of an email)."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class LoginItem(GlobalModel):
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()


class LoginAttemptsItem(GlobalModel):
    failures = NumberAttribute(default=0)
    last_failure_at = NumberAttribute(default=0)
    expires_at = NumberAttribute()


class UserItem(TenantModel):
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = NumberAttribute()


class InvitationItem(TenantModel):
    email = UnicodeAttribute()
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    token_hash = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()
    accepted_at = NumberAttribute(null=True)


class SessionFamilyItem(TenantModel):
    user_id = UnicodeAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()
    revoked_at = NumberAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)


class RefreshTokenItem(TenantModel):
    issued_at = NumberAttribute()
    used_at = NumberAttribute(null=True)
    expires_at = NumberAttribute()


class AgentItem(TenantModel):
    config = JSONAttribute()
    revision = NumberAttribute(default=1)
    production_version = NumberAttribute(null=True)
    latest_version = NumberAttribute(default=0)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    created_by = UnicodeAttribute()


class AgentVersionItem(TenantModel):
    config = JSONAttribute()
    revision = NumberAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()


class RunItem(TenantModel):
    agent_id = UnicodeAttribute()
    version = NumberAttribute()
    status = UnicodeAttribute()
    input = UnicodeAttribute()
    output = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    model = UnicodeAttribute()
    offline = BooleanAttribute(default=False)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    latency_ms = NumberAttribute(default=0)
    created_at = NumberAttribute()
    user_id = UnicodeAttribute()
    key_id = UnicodeAttribute(null=True)


class AgentRunItem(RunItem):
    """The same run under its agent, so an agent's runs are one query."""
