"""Every Step Functions Task names a function of template.yaml, through DefinitionSubstitutions."""

from __future__ import annotations

from typing import Any

from stratus.local.template import REPO_ROOT, Template

from .state_machines import check_definition, definition_files, definitions


def test_every_state_machine_task_names_a_template_function(template: Template) -> None:
    # Given every state machine of the template (none yet is fine: each one that arrives is checked)
    machines, problems = definitions(template)

    # When
    for machine in machines:
        problems += check_definition(template, machine.logical_id, machine.definition, machine.substitutions)

    # Then
    assert problems == []


def test_every_definition_file_belongs_to_a_state_machine(template: Template) -> None:
    machines, _ = definitions(template)
    used = {(REPO_ROOT / m.source).resolve() for m in machines if m.source.endswith(".json")}

    orphans = [str(p.relative_to(REPO_ROOT)) for p in definition_files() if p.resolve() not in used]

    assert orphans == [], "statemachines/ files no state machine's DefinitionUri points at"


def _template_with_worker() -> Template:
    return Template({
        "Resources": {
            "WorkerFunction": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "svc.worker.handler"}},
        }
    })


def _task(resource: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "End": True, **extra}


def test_checker_accepts_both_lambda_task_forms() -> None:
    # Given
    template = _template_with_worker()
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "End": True, "Branches": [
                {"StartAt": "Direct", "States": {"Direct": _task("${WorkerFunctionArn}")}},
                {"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": True, "ItemProcessor": {
                    "StartAt": "Invoke",
                    "States": {"Invoke": _task(
                        "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        Parameters={"FunctionName": "${WorkerFunctionArn}", "Payload.$": "$"},
                    )},
                }}}},
            ]},
        },
    }

    # When
    problems = check_definition(
        template, "Good", definition, {"WorkerFunctionArn": {"Fn::GetAtt": ["WorkerFunction", "Arn"]}}
    )

    # Then
    assert problems == []


def test_checker_finds_every_kind_of_broken_task() -> None:
    # Given tasks nested in a Parallel branch and a Map iterator, each broken in its own way
    template = _template_with_worker()
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "End": True, "Branches": [
                {"StartAt": "Unsubstituted", "States": {"Unsubstituted": _task("${MissingArn}")}},
                {"StartAt": "HardCoded", "States": {
                    "HardCoded": _task("arn:aws:lambda:us-east-1:123456789012:function:elsewhere"),
                }},
            ]},
            "Each": {"Type": "Map", "End": True, "Iterator": {"StartAt": "Ghost", "States": {
                "Ghost": _task("arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "${GhostArn}"}),
            }}},
        },
    }
    substitutions = {
        "GhostArn": "arn:aws:lambda:us-east-1:123456789012:function:not-in-the-template",
        "UnusedArn": {"Fn::GetAtt": ["WorkerFunction", "Arn"]},
    }

    # When
    problems = "\n".join(check_definition(template, "Bad", definition, substitutions))

    # Then
    assert "${MissingArn} has no DefinitionSubstitutions entry" in problems
    assert "DefinitionSubstitutions UnusedArn is never used" in problems
    assert "Task Fan.Branches[0].Unsubstituted Resource ${MissingArn} is not a function" in problems
    assert "Task Fan.Branches[1].HardCoded hard-codes Lambda ARN" in problems
    assert "Task Each.Iterator.Ghost FunctionName ${GhostArn} is not a function of template.yaml" in problems
