"""Connections and topic subscriptions in DynamoDB, tenant-led, with a TTL refreshed by keep-alives.

Items:
- connection:   ``pk = <tenant>#CONN``            ``sk = <connection_id>``   (user, topics, expires_at)
- subscription: ``pk = <tenant>#TOPIC#<topic>``   ``sk = <connection_id>``   (expires_at)
Topics are always inside the caller's tenant, so a subscriber can never name another tenant's topic.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from functools import cached_property

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from stratus.cache import per_container
from stratus.config import Settings, get_settings
from stratus.errors import NotFound, ValidationFailed
from stratus.realtime.topics import validate_topic
from stratus.storage import TenantModel, bind_model, tenant_key

__all__ = ["ConnectionInfo", "ConnectionRegistry", "get_connection_registry"]

MAX_TOPICS_PER_CONNECTION = 50


class ConnectionItem(TenantModel):
    user_id = UnicodeAttribute()
    connected_at = NumberAttribute()
    expires_at = NumberAttribute()
    topics = UnicodeSetAttribute(null=True)


class SubscriptionItem(TenantModel):
    expires_at = NumberAttribute()


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    connection_id: str
    tenant_id: str
    user_id: str
    topics: frozenset[str]
    expires_at: int


class ConnectionRegistry:
    def __init__(self, settings: Settings) -> None:
        self._ttl_s = settings.connection_ttl_s
        self._settings = settings
        bind_model(ConnectionItem, settings.connections_table)
        bind_model(SubscriptionItem, settings.connections_table)

    def _expiry(self) -> int:
        return int(time.time()) + self._ttl_s

    def connect(self, tenant_id: str, user_id: str, connection_id: str) -> None:
        now = int(time.time())
        ConnectionItem(
            tenant_key(tenant_id, "CONN"), connection_id, user_id=user_id, connected_at=now, expires_at=self._expiry()
        ).save()

    def get(self, tenant_id: str, connection_id: str) -> ConnectionInfo:
        try:
            item = ConnectionItem.get(tenant_key(tenant_id, "CONN"), connection_id, consistent_read=True)
        except ConnectionItem.DoesNotExist as exc:
            raise NotFound(f"connection {connection_id} not found") from exc
        return ConnectionInfo(
            connection_id=item.sk,
            tenant_id=tenant_id,
            user_id=item.user_id,
            topics=frozenset(item.topics or ()),
            expires_at=int(item.expires_at),
        )

    def subscribe(self, tenant_id: str, connection_id: str, topic: str) -> None:
        validate_topic(topic)
        connection = self.get(tenant_id, connection_id)
        if topic not in connection.topics and len(connection.topics) >= MAX_TOPICS_PER_CONNECTION:
            raise ValidationFailed(f"a connection may subscribe to at most {MAX_TOPICS_PER_CONNECTION} topics")
        expires = self._expiry()
        with TransactWrite(connection=self._connection) as tx:
            tx.save(SubscriptionItem(tenant_key(tenant_id, "TOPIC", topic), connection_id, expires_at=expires))
            tx.update(
                ConnectionItem(tenant_key(tenant_id, "CONN"), connection_id),
                actions=[ConnectionItem.topics.add({topic}), ConnectionItem.expires_at.set(expires)],
                condition=ConnectionItem.pk.exists(),
            )

    def unsubscribe(self, tenant_id: str, connection_id: str, topic: str) -> None:
        validate_topic(topic)
        SubscriptionItem(tenant_key(tenant_id, "TOPIC", topic), connection_id).delete()
        # A connection already gone leaves only the subscription to remove.
        with contextlib.suppress(UpdateError):
            ConnectionItem(tenant_key(tenant_id, "CONN"), connection_id).update(
                actions=[ConnectionItem.topics.delete({topic})], condition=ConnectionItem.pk.exists()
            )

    def touch(self, tenant_id: str, connection_id: str) -> None:
        """Keep-alive: push the expiry of the connection and its subscriptions forward."""
        connection = self.get(tenant_id, connection_id)
        expires = self._expiry()
        ConnectionItem(tenant_key(tenant_id, "CONN"), connection_id).update(
            actions=[ConnectionItem.expires_at.set(expires)]
        )
        for topic in connection.topics:
            SubscriptionItem(tenant_key(tenant_id, "TOPIC", topic), connection_id, expires_at=expires).save()

    def disconnect(self, tenant_id: str, connection_id: str) -> None:
        """Idempotent: removes the connection and every subscription it held."""
        try:
            connection = self.get(tenant_id, connection_id)
        except NotFound:
            return
        for topic in connection.topics:
            SubscriptionItem(tenant_key(tenant_id, "TOPIC", topic), connection_id).delete()
        ConnectionItem(tenant_key(tenant_id, "CONN"), connection_id).delete()

    def subscribers(self, tenant_id: str, topic: str) -> list[str]:
        validate_topic(topic)
        now = int(time.time())
        return [
            item.sk
            for item in SubscriptionItem.query(tenant_key(tenant_id, "TOPIC", topic), consistent_read=True)
            if int(item.expires_at) > now
        ]

    def purge_expired(self, now: int | None = None) -> int:
        """Stale-connection cleanup: DynamoDB TTL deletes eventually (up to days); this is immediate."""
        now = int(time.time()) if now is None else now
        removed = 0
        for item in ConnectionItem.scan(ConnectionItem.expires_at < now):
            if "#CONN" in item.pk and item.pk.endswith("#CONN"):
                self.disconnect(item.tenant_id, item.sk)
                removed += 1
        for sub in SubscriptionItem.scan(SubscriptionItem.expires_at < now):
            if "#TOPIC#" in sub.pk:
                sub.delete()
        return removed

    @cached_property
    def _connection(self) -> Connection:
        """One connection per registry (per container) for transactions, not one per subscribe."""
        return Connection(region=self._settings.aws_region, host=self._settings.aws_endpoint_url)


@per_container
def get_connection_registry() -> ConnectionRegistry:
    return ConnectionRegistry(get_settings())
