"""Topic names: checked before any connection or subscription is touched (no DynamoDB needed to refuse one)."""

from __future__ import annotations

import re

from stratus.errors import ValidationFailed

_TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_./-]{0,127}$")


def validate_topic(topic: str) -> str:
    if not _TOPIC.fullmatch(topic):
        raise ValidationFailed("topic must be 1-128 characters of letters, digits and :_./-", field="topic")
    return topic
