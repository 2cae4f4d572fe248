"""The realtime ports the HTTP route uses, as dependency aliases (the layer builds them once per container)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from stratus.realtime import get_topic_publisher

if TYPE_CHECKING:
    from stratus.realtime import TopicPublisher

Topics = Annotated["TopicPublisher", Depends(get_topic_publisher)]
