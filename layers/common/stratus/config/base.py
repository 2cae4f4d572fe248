"""The base of every settings mixin: a frozen pydantic model filled from the process environment.

pydantic-settings costs a cold start about 30 ms of imports (dotenv, its source providers) for what the
layer uses of it: read each field from one environment variable, case-insensitively. That is done here.
"""

from __future__ import annotations

import json
import os
import types
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import AliasChoices, BaseModel, ConfigDict
from pydantic.fields import FieldInfo

_STRUCTURED = (list, tuple, set, frozenset, dict)


def _environment_names(name: str, field: FieldInfo) -> tuple[str, ...]:
    """The variables a field reads: its validation alias (or alias choices) if it has one, else its name."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return (alias,)
    if isinstance(alias, AliasChoices):
        return tuple(choice for choice in alias.choices if isinstance(choice, str))
    return (name,)


def _is_structured(annotation: Any) -> bool:
    """Lists, sets, dicts and models arrive as JSON text (``CORS_ORIGINS='["https://a"]'``)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_structured(arg) for arg in get_args(annotation) if arg is not type(None))
    origin = get_origin(annotation) or annotation
    return isinstance(origin, type) and (issubclass(origin, _STRUCTURED) or issubclass(origin, BaseModel))


@cache
def _fields_of(model: type[ConfigBase]) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    return tuple(
        (name, _environment_names(name, field), _is_structured(field.annotation))
        for name, field in model.model_fields.items()
    )


def _environment_values(model: type[ConfigBase], given: dict[str, Any]) -> dict[str, Any]:
    """The model's inputs found in ``os.environ``, keyed as pydantic expects them; ``given`` ones are skipped."""
    environment = {key.lower(): value for key, value in os.environ.items()}
    found: dict[str, Any] = {}
    for name, names, structured in _fields_of(model):
        if name in given or any(key in given for key in names):
            continue
        for key in names:
            raw = environment.get(key.lower())
            if raw is None:
                continue
            if structured:
                try:
                    found[key] = json.loads(raw)
                except ValueError:
                    found[key] = raw  # a "before" validator may read another format ("a,b")
            else:
                found[key] = raw
            break
    return found


class ConfigBase(BaseModel):
    """Every settings mixin reads the process environment (case-insensitive) and is immutable.

    Keyword arguments win over the environment; defaults are validated too, so a required variable
    that is missing fails at cold start.
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        validate_default=True,
        protected_namespaces=("model_validate", "model_dump"),
        # a mixin is only ever validated as part of a composed Settings: build each schema on first use
        defer_build=True,
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_environment_values(type(self), values), **values})
