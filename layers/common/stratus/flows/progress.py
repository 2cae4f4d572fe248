"""Progress events of a long-running flow: stored with gapless sequence numbers, published in order, replayable.

Every event is stored first (``pk = <tenant>#RUN#<run>``, ``sk = EV#<seq>``) and then published to the
run's realtime topic, so a client whose socket dropped replays what it missed with ``events(after=N)``.

Sequence numbers come from the store itself: a writer reads the head (the highest seq already published),
claims ``head + 1`` by a conditional put of the event, publishes it, and moves the head on. A second writer
that finds ``head + 1`` claimed waits for the head to move, so subscribers receive events in seq order,
each once, even when parallel steps of one run write at the same time. A writer that died between claim
and publish is taken over after ``stale_after_s``. Events with a ``key`` are written at most once: a
retried step (Step Functions, SQS) that appends the same key gets the stored event back.
"""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError

from stratus.errors import UpstreamUnavailable
from stratus.observability import logger
from stratus.storage import TenantModel, bind_model, tenant_key

__all__ = ["EventPublisher", "ProgressEvent", "ProgressLog"]

_CONDITION_FAILED = "ConditionalCheckFailed"
_MAX_PAGE = 1000
# In one process (a Lambda container, the local stack) appends to one run take turns on a striped lock:
# the store alone decides across processes, this only saves in-process writers from spinning on it.
_STRIPES = [threading.Lock() for _ in range(64)]


class EventItem(TenantModel):
    kind = UnicodeAttribute()
    at = UnicodeAttribute()
    data = UnicodeAttribute()
    parent = NumberAttribute(null=True)
    agent = UnicodeAttribute(null=True)
    step_id = UnicodeAttribute(null=True)
    key = UnicodeAttribute(null=True)
    written_at = NumberAttribute()


class HeadItem(TenantModel):
    published = NumberAttribute()


class KeyItem(TenantModel):
    seq = NumberAttribute(null=True)
    reserved_at = NumberAttribute()


class RunItem(TenantModel):
    """Any item of a run's partition (events, keys, head, task tokens): what deleting a run removes."""


class EventPublisher(Protocol):
    def publish(self, tenant_id: str, topic: str, message: dict[str, Any]) -> int: ...


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    seq: int
    type: str
    at: str
    data: dict[str, Any] = field(default_factory=dict)
    parent: int | None = None
    agent: str | None = None
    step_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The event as stored, replayed and published (every key always present)."""
        return {
            "seq": self.seq,
            "type": self.type,
            "at": self.at,
            "parent": self.parent,
            "agent": self.agent,
            "step_id": self.step_id,
            "data": self.data,
        }


def _sk(seq: int) -> str:
    return f"EV#{seq:012d}"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event(item: EventItem) -> ProgressEvent:
    return ProgressEvent(
        seq=int(item.sk.removeprefix("EV#")),
        type=item.kind,
        at=item.at,
        data=json.loads(item.data),
        parent=None if item.parent is None else int(item.parent),
        agent=item.agent,
        step_id=item.step_id,
    )


class _Taken(Exception):
    pass


class ProgressLog:
    """Append, publish and replay the events of runs kept in ``table_name``."""

    def __init__(
        self,
        table_name: str,
        publisher: EventPublisher | None = None,
        *,
        topic_of: Callable[[str], str] = lambda run_id: run_id,
        stale_after_s: float = 30.0,
        busy_timeout_s: float = 20.0,
        poll_s: float = 0.01,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._events = bind_model(EventItem, table_name, per_table=True)
        self._heads = bind_model(HeadItem, table_name, per_table=True)
        self._keys = bind_model(KeyItem, table_name, per_table=True)
        self._run_items = bind_model(RunItem, table_name, per_table=True)
        self._publisher = publisher
        self._topic_of = topic_of
        self._stale_after_s = stale_after_s
        self._busy_timeout_s = busy_timeout_s
        self._poll_s = poll_s
        self._clock = clock
        self._sleep = sleep
        self._last_published: dict[str, int] = {}

    @staticmethod
    def partition(tenant_id: str, run_id: str) -> str:
        return tenant_key(tenant_id, "RUN", run_id)

    def append(
        self,
        tenant_id: str,
        run_id: str,
        type: str,
        data: dict[str, Any] | None = None,
        *,
        parent: int | None = None,
        agent: str | None = None,
        step_id: str | None = None,
        key: str | None = None,
    ) -> ProgressEvent:
        """Store the event under the next sequence number, then publish it; with ``key``, at most once."""
        pk = self.partition(tenant_id, run_id)
        payload = json.dumps(data or {}, separators=(",", ":"), default=str, sort_keys=True)
        with _STRIPES[zlib.crc32(pk.encode()) % len(_STRIPES)]:
            deadline = self._clock() + self._busy_timeout_s
            if key is not None:
                existing = self._reserve(pk, key, deadline)
                if existing is not None:
                    return existing
            # The head this container last saw saves a read; a stale guess only costs one failed claim.
            cached = self._last_published.get(pk)
            seq = (self._head(pk) if cached is None else cached) + 1
            while True:
                item = self._events(
                    pk,
                    _sk(seq),
                    kind=type,
                    at=_now_iso(),
                    data=payload,
                    parent=parent,
                    agent=agent,
                    step_id=step_id,
                    key=key,
                    written_at=self._clock(),
                )
                try:
                    self._put_new(item)
                    break
                except _Taken:
                    head = self._head(pk)
                    if head + 1 == seq:  # claimed, not yet published: let its writer finish (or take over)
                        self._wait_for(tenant_id, run_id, seq, deadline)
                        head = self._head(pk)
                    seq = head + 1
            if key is not None:
                self._keys(pk, f"KEY#{key}", seq=seq, reserved_at=self._clock()).save()
            event = _event(item)
            self._publish(tenant_id, run_id, event)
            self._advance(pk, seq)
            if len(self._last_published) > 10_000:
                self._last_published.clear()
            self._last_published[pk] = seq
            return event

    def _put_new(self, item: TenantModel) -> None:
        try:
            item.save(condition=type(item).pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == _CONDITION_FAILED + "Exception":
                raise _Taken from exc
            raise

    def _reserve(self, pk: str, key: str, deadline: float) -> ProgressEvent | None:
        """Hold ``key`` for this append; the stored event instead when the key was appended before."""
        while True:
            try:
                self._put_new(self._keys(pk, f"KEY#{key}", reserved_at=self._clock()))
                return None
            except _Taken:
                pass
            try:
                marker = self._keys.get(pk, f"KEY#{key}", consistent_read=True)
            except self._keys.DoesNotExist:
                continue
            if marker.seq is not None:
                return _event(self._events.get(pk, _sk(int(marker.seq)), consistent_read=True))
            if self._clock() - float(marker.reserved_at) > self._stale_after_s:
                # Its writer died: between reserving and recording the seq, or before storing the event at all.
                stored = next(
                    iter(
                        self._events.query(
                            pk,
                            self._events.sk.startswith("EV#"),
                            filter_condition=self._events.key == key,
                            consistent_read=True,
                        )
                    ),
                    None,
                )
                if stored is not None:
                    self._keys(pk, f"KEY#{key}").update(actions=[self._keys.seq.set(int(stored.sk[3:]))])
                    return _event(stored)
                try:
                    marker.delete(condition=self._keys.reserved_at == marker.reserved_at)
                except DeleteError as exc:
                    if exc.cause_response_code != _CONDITION_FAILED + "Exception":
                        raise
                continue
            if self._clock() > deadline:
                raise UpstreamUnavailable(f"progress event {key!r} of {pk} stayed reserved by another writer")
            self._sleep(self._poll_s * (1 + random.random()))

    def _head(self, pk: str) -> int:
        try:
            return int(self._heads.get(pk, "HEAD", consistent_read=True).published)
        except self._heads.DoesNotExist:
            return 0

    def _wait_for(self, tenant_id: str, run_id: str, seq: int, deadline: float) -> None:
        """``seq`` is claimed by another writer: let it publish, or take over when it died."""
        pk = self.partition(tenant_id, run_id)
        try:
            holder = self._events.get(pk, _sk(seq), consistent_read=True)
        except self._events.DoesNotExist:
            return
        if self._clock() - float(holder.written_at) > self._stale_after_s:
            logger.warning("taking over a stale progress event", extra={"pk": pk, "seq": seq})
            self._publish(tenant_id, run_id, _event(holder))
            self._advance(pk, seq)
            return
        if self._clock() > deadline:
            raise UpstreamUnavailable(f"progress log of {pk} stayed busy for {self._busy_timeout_s:.0f}s")
        self._sleep(self._poll_s * (1 + random.random()))

    def _advance(self, pk: str, seq: int) -> None:
        # A conditional put, not an update: the head has no other attribute, and a put costs half as much locally.
        try:
            self._heads(pk, "HEAD", published=seq).save(
                condition=self._heads.published.does_not_exist() | (self._heads.published < seq)
            )
        except PutError as exc:
            if exc.cause_response_code != _CONDITION_FAILED + "Exception":
                raise

    def _publish(self, tenant_id: str, run_id: str, event: ProgressEvent) -> None:
        if self._publisher is None:
            return
        try:
            self._publisher.publish(tenant_id, self._topic_of(run_id), event.as_dict())
        except Exception:  # subscribers replay from the store; a failed push must not fail the flow
            logger.exception("publishing a progress event failed", extra={"run_id": run_id, "seq": event.seq})

    def events(self, tenant_id: str, run_id: str, *, after: int = 0, limit: int = 100) -> list[ProgressEvent]:
        """Events with ``seq > after``, in order, at most ``limit``."""
        limit = max(1, min(limit, _MAX_PAGE))
        pk = self.partition(tenant_id, run_id)
        query = self._events.query(
            pk,
            self._events.sk.between(_sk(max(after, 0) + 1), _sk(10**12 - 1)),
            consistent_read=True,
            limit=limit,
        )
        return [_event(item) for item in query][:limit]

    def last_seq(self, tenant_id: str, run_id: str) -> int:
        """The highest sequence number published so far (0 before the first event)."""
        return self._head(self.partition(tenant_id, run_id))

    def delete_run(self, tenant_id: str, run_id: str) -> int:
        """Remove every item of a run (events, keys, head, task tokens); returns how many went."""
        removed = 0
        for item in list(self._run_items.query(self.partition(tenant_id, run_id))):
            item.delete()
            removed += 1
        return removed
