"""Check that every Task of a Step Functions definition names a function of template.yaml.

A Lambda task is either ``"Resource": "${SomethingArn}"`` or ``arn:aws:states:::lambda:invoke`` with
``FunctionName: "${...}"``; the ``${...}`` comes from the state machine's DefinitionSubstitutions, whose
value (``!GetAtt <Function>.Arn``) is resolved through the template. Every substitution must be used and
every ``${...}`` must have one. Parallel branches and Map iterators / item processors are walked too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratus.local.template import REPO_ROOT, Template

from .support import function_of_arn

STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
_TOKEN = re.compile(r"\$\{([^}]+)\}")
_LAMBDA_INVOKE = re.compile(r"^arn:[a-z-]+:states:::lambda:invoke(\.waitForTaskToken)?$")
_SERVICE_INTEGRATION = re.compile(r"^arn:[a-z-]+:states:::")
_LAMBDA_ARN = re.compile(r"^arn:[a-z-]+:lambda:")


@dataclass(frozen=True)
class StateMachineDefinition:
    logical_id: str
    definition: dict[str, Any]
    substitutions: dict[str, Any]
    source: str


def definitions(template: Template, root: Path = REPO_ROOT) -> tuple[list[StateMachineDefinition], list[str]]:
    """Every state machine of the template with its definition, and the problems loading them."""
    found: list[StateMachineDefinition] = []
    problems: list[str] = []
    for logical_id, resource in template.of_type(*STATE_MACHINE_TYPES).items():
        props = resource.get("Properties") or {}
        substitutions = dict(props.get("DefinitionSubstitutions") or {})
        try:
            if isinstance(props.get("DefinitionUri"), str):
                source = props["DefinitionUri"]
                definition = json.loads((root / source).read_text())
            elif isinstance(props.get("Definition"), dict):
                source, definition = "inline Definition", props["Definition"]
            elif isinstance(props.get("DefinitionString"), str):
                source, definition = "DefinitionString", json.loads(props["DefinitionString"])
            else:
                problems.append(f"{logical_id}: definition is neither a DefinitionUri file nor inline JSON")
                continue
        except (OSError, json.JSONDecodeError) as exc:
            problems.append(f"{logical_id}: cannot read its definition: {exc}")
            continue
        found.append(StateMachineDefinition(logical_id, definition, substitutions, source))
    return found, problems


def task_states(states: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, state) of every Task, inside Parallel branches and Map iterators / item processors too."""
    for name, state in states.items():
        here = f"{path}{name}"
        kind = state.get("Type")
        if kind == "Task":
            yield here, state
        elif kind == "Parallel":
            for index, branch in enumerate(state.get("Branches") or []):
                yield from task_states(branch.get("States") or {}, f"{here}.Branches[{index}].")
        elif kind == "Map":
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), dict):
                    yield from task_states(state[key].get("States") or {}, f"{here}.{key}.")


def _substitute(text: str, values: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def check_definition(
    template: Template, name: str, definition: dict[str, Any], substitutions: dict[str, Any]
) -> list[str]:
    """Every problem with ``definition``'s Tasks and substitutions; an empty list when it is sound."""
    problems: list[str] = []
    used = set(_TOKEN.findall(json.dumps(definition)))
    for token in sorted(used - substitutions.keys()):
        problems.append(f"{name}: ${{{token}}} has no DefinitionSubstitutions entry")
    for key in sorted(substitutions.keys() - used):
        problems.append(f"{name}: DefinitionSubstitutions {key} is never used in the definition")

    values: dict[str, str] = {}
    for key, raw in substitutions.items():
        try:
            values[key] = str(template.resolve(raw))
        except KeyError as exc:
            problems.append(f"{name}: DefinitionSubstitutions {key} does not resolve: {exc}")

    for path, state in task_states(definition.get("States") or {}):
        where = f"{name}: Task {path}"
        resource = state.get("Resource")
        if isinstance(resource, dict):  # an inline YAML definition may use !GetAtt directly
            if function_of_arn(template, template.resolve(resource)) is None:
                problems.append(f"{where} Resource {resource} is not a function of template.yaml")
            continue
        if not isinstance(resource, str):
            problems.append(f"{where} has no Resource")
            continue
        resolved = _substitute(resource, values)
        if _LAMBDA_INVOKE.match(resolved):
            arguments = state.get("Parameters") or state.get("Arguments") or {}
            function_name = arguments.get("FunctionName")
            if not isinstance(function_name, str):
                problems.append(f"{where} invokes Lambda without a static FunctionName (use \"${{XFunctionArn}}\")")
            elif _TOKEN.search(function_name) is None:
                problems.append(f"{where} hard-codes FunctionName {function_name!r}; use DefinitionSubstitutions")
            elif function_of_arn(template, _substitute(function_name, values)) is None:
                problems.append(f"{where} FunctionName {function_name} is not a function of template.yaml")
        elif _SERVICE_INTEGRATION.match(resolved):
            continue  # sqs:sendMessage, dynamodb:*, states:startExecution, ...: not a Lambda task
        elif _TOKEN.search(resource) is None:
            if _LAMBDA_ARN.match(resource):
                problems.append(f"{where} hard-codes Lambda ARN {resource}; use DefinitionSubstitutions")
        else:
            target = function_of_arn(template, resolved)
            if target is None:
                problems.append(f"{where} Resource {resource} is not a function of template.yaml")
            elif not resolved.startswith(str(template.get_att(target, "Arn"))):
                problems.append(f"{where} Resource {resource} must be the function ARN (!GetAtt {target}.Arn)")
    return problems


def definition_files(root: Path = REPO_ROOT) -> list[Path]:
    return sorted((root / "statemachines").glob("**/*.asl.json"))
