"""Task tokens of ``.waitForTaskToken`` states, kept until a person (or the flow) answers them.

A flow waits at one checkpoint at a time per slot. ``take`` is the lock of every answer: it deletes
the token only if it is still the one that was read, so two concurrent answers never both send it.
Items live in the run's partition (``pk = <tenant>#RUN#<run>``, ``sk = TOKEN#<slot>``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError

from stratus.storage import TenantModel, bind_model, tenant_key

__all__ = ["TaskTokenStore", "WaitingToken"]


class TokenItem(TenantModel):
    token = UnicodeAttribute()
    kind = UnicodeAttribute()
    checkpoint = UnicodeAttribute(null=True)
    created_at = NumberAttribute()


@dataclass(frozen=True, slots=True)
class WaitingToken:
    token: str
    kind: str
    checkpoint: str | None
    created_at: float


def _waiting(item: TokenItem) -> WaitingToken:
    return WaitingToken(token=item.token, kind=item.kind, checkpoint=item.checkpoint, created_at=float(item.created_at))


class TaskTokenStore:
    def __init__(self, table_name: str) -> None:
        self._tokens = bind_model(TokenItem, table_name, per_table=True)

    @staticmethod
    def _key(tenant_id: str, run_id: str, slot: str) -> tuple[str, str]:
        return tenant_key(tenant_id, "RUN", run_id), f"TOKEN#{slot}"

    def put(
        self, tenant_id: str, run_id: str, token: str, kind: str, *, checkpoint: str | None = None, slot: str = "main"
    ) -> WaitingToken:
        """Keep the token of the wait the flow just entered (a retried state replaces its own old token)."""
        pk, sk = self._key(tenant_id, run_id, slot)
        item = self._tokens(pk, sk, token=token, kind=kind, checkpoint=checkpoint, created_at=time.time())
        item.save()
        return _waiting(item)

    def peek(self, tenant_id: str, run_id: str, *, slot: str = "main") -> WaitingToken | None:
        pk, sk = self._key(tenant_id, run_id, slot)
        try:
            return _waiting(self._tokens.get(pk, sk, consistent_read=True))
        except self._tokens.DoesNotExist:
            return None

    def take(self, tenant_id: str, run_id: str, *, kind: str | None = None, slot: str = "main") -> WaitingToken | None:
        """Remove and return the waiting token (of ``kind``, when given); None when there is none to answer."""
        waiting = self.peek(tenant_id, run_id, slot=slot)
        if waiting is None or (kind is not None and waiting.kind != kind):
            return None
        pk, sk = self._key(tenant_id, run_id, slot)
        try:
            self._tokens(pk, sk).delete(condition=self._tokens.token == waiting.token)
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return None  # answered by someone else in between
            raise
        return waiting
