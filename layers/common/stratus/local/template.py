"""Read template.yaml (with CloudFormation short-form tags) and resolve what the local stack needs.

The template is the single source of truth: the embedded AWS, the dev server and the contract
tests all read resources, environment, routes and state machines from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

_INTRINSICS = {
    "!Ref": "Ref",
    "!Sub": "Fn::Sub",
    "!GetAtt": "Fn::GetAtt",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!FindInMap": "Fn::FindInMap",
    "!GetAZs": "Fn::GetAZs",
    "!ImportValue": "Fn::ImportValue",
    "!Base64": "Fn::Base64",
    "!Condition": "Condition",
    "!Cidr": "Fn::Cidr",
    "!ToJsonString": "Fn::ToJsonString",
}


class _TemplateLoader(yaml.SafeLoader):
    pass


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _INTRINSICS["!" + tag_suffix]
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_TemplateLoader)
    return document


class _NoValue:
    pass


NO_VALUE = _NoValue()


@dataclass
class LocalNames:
    """Physical names and ARNs the embedded AWS gives each logical resource."""

    prefix: str = "stratus-local"
    region: str = "us-east-1"
    account_id: str = "123456789012"

    def physical(self, logical_id: str, resource_type: str) -> str:
        if resource_type == "AWS::S3::Bucket":
            return f"{self.prefix}-{logical_id}".lower()
        return f"{self.prefix}-{logical_id}"

    def arn(self, logical_id: str, resource_type: str) -> str:
        name = self.physical(logical_id, resource_type)
        region, account = self.region, self.account_id
        return {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{region}:{account}:event-bus/{name}",
            "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{region}:{account}:secret:{name}",
        }.get(resource_type, f"arn:aws:local:{region}:{account}:{name}")

    def queue_url(self, logical_id: str) -> str:
        return (
            f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self.physical(logical_id, 'AWS::SQS::Queue')}"
        )


@dataclass
class HttpRoute:
    method: str
    path: str
    function: str
    handler: str
    authorizer: str | None

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


@dataclass
class WebSocketRoute:
    route_key: str
    function: str
    handler: str
    authorizer_handler: str | None


@dataclass
class Template:
    """A resolved view of template.yaml for the local stack."""

    document: dict[str, Any]
    names: LocalNames = field(default_factory=LocalNames)
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEMPLATE_PATH, **kwargs: Any) -> Template:
        return cls(load_template(path), **kwargs)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.document.get("Resources", {})
        return resources

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") in types}

    @cached_property
    def parameters(self) -> dict[str, str]:
        values = {name: str(spec.get("Default", "")) for name, spec in self.document.get("Parameters", {}).items()}
        values.update(self.parameter_overrides)
        return values

    @cached_property
    def conditions(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, expression in self.document.get("Conditions", {}).items():
            results[name] = bool(self.resolve(expression, results))
        return results


    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.names.region,
            "AWS::AccountId": self.names.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": self.names.prefix,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.resources.get(name)
        if resource is None:
            raise KeyError(f"template: !Ref to unknown name {name}")
        kind = resource["Type"]
        if kind == "AWS::SQS::Queue":
            return self.names.queue_url(name)
        if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"):
            return self.names.arn(name, kind)
        if kind.startswith("AWS::ApiGatewayV2::") or kind == "AWS::Serverless::HttpApi":
            return f"local{name.lower()}"
        return self.names.physical(name, kind)

    def get_att(self, name: str, attribute: str) -> Any:
        resource = self.resources.get(name)
        if resource is None:
            raise KeyError(f"template: !GetAtt on unknown resource {name}")
        kind = resource["Type"]
        if attribute == "Arn":
            return self.names.arn(name, kind)
        if attribute == "QueueUrl":
            return self.names.queue_url(name)
        if attribute in ("QueueName", "Name", "TableName"):
            return self.names.physical(name, kind)
        if attribute == "StreamArn":
            return self.names.arn(name, kind) + "/stream/local"
        return f"local-{name}-{attribute}"

    def resolve(self, value: Any, conditions: dict[str, bool] | None = None) -> Any:
        conditions = self.conditions if conditions is None else conditions
        if isinstance(value, list):
            items = [self.resolve(item, conditions) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            intrinsic = _EVALUATORS.get(key)
            if intrinsic is not None:
                return intrinsic(self, arg, conditions)
        resolved = {k: self.resolve(v, conditions) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _get_att(self, arg: Any, conditions: dict[str, bool]) -> Any:
        parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return self.get_att(parts[0], parts[1])

    def _if(self, arg: Any, conditions: dict[str, bool]) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if conditions[name] else when_false, conditions)

    def _equals(self, arg: Any, conditions: dict[str, bool]) -> bool:
        left, right = (self.resolve(v, conditions) for v in arg)
        return str(left) == str(right)

    def _join(self, arg: Any, conditions: dict[str, bool]) -> str:
        separator, parts = arg
        return str(separator).join(str(p) for p in self.resolve(parts, conditions))

    def _select(self, arg: Any, conditions: dict[str, bool]) -> Any:
        index, items = arg
        return self.resolve(items, conditions)[int(self.resolve(index, conditions))]

    def _split(self, arg: Any, conditions: dict[str, bool]) -> list[str]:
        separator, text = arg
        return str(self.resolve(text, conditions)).split(separator)

    def _to_json(self, arg: Any, conditions: dict[str, bool]) -> str:
        import json

        return json.dumps(self.resolve(arg, conditions))

    def _sub(self, arg: Any, conditions: dict[str, bool]) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v, conditions) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(variables[token])
            if "." in token:
                name, attribute = token.split(".", 1)
                return str(self.get_att(name, attribute))
            return str(self.ref(token))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))


    @property
    def globals_function(self) -> dict[str, Any]:
        glob: dict[str, Any] = self.document.get("Globals", {}).get("Function", {})
        return glob

    def function_environment(self, logical_id: str) -> dict[str, str]:
        variables = dict(self.globals_function.get("Environment", {}).get("Variables", {}))
        own = self.resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        variables.update(own)
        resolved = self.resolve(variables)
        return {k: str(v) for k, v in resolved.items()}

    def functions(self) -> dict[str, dict[str, Any]]:
        return self.of_type("AWS::Serverless::Function")

    def handler(self, logical_id: str) -> str:
        handler: str = self.resources[logical_id]["Properties"]["Handler"]
        return handler

    def http_routes(self) -> list[HttpRoute]:
        routes = []
        for logical_id, function in self.functions().items():
            for event in (function["Properties"].get("Events") or {}).values():
                if event.get("Type") != "HttpApi":
                    continue
                props = event.get("Properties", {})
                auth = (props.get("Auth") or {}).get("Authorizer")
                routes.append(
                    HttpRoute(
                        method=str(props["Method"]).upper(),
                        path=str(props["Path"]),
                        function=logical_id,
                        handler=self.handler(logical_id),
                        authorizer=None if auth == "NONE" else (auth or "default"),
                    )
                )
        return routes

    def websocket_routes(self) -> dict[str, WebSocketRoute]:
        integrations = self.of_type("AWS::ApiGatewayV2::Integration")
        authorizers = self.of_type("AWS::ApiGatewayV2::Authorizer")
        routes: dict[str, WebSocketRoute] = {}
        for route in self.of_type("AWS::ApiGatewayV2::Route").values():
            props = route["Properties"]
            target = self.resolve(props["Target"])
            integration = None
            for lid, candidate in integrations.items():
                if target.endswith(self.ref(lid)):
                    integration = candidate
            if integration is None:
                raise KeyError(f"template: route {props['RouteKey']} has no integration")
            function = self._function_of_uri(integration["Properties"]["IntegrationUri"])
            authorizer_handler = None
            if props.get("AuthorizerId"):
                authorizer_id = props["AuthorizerId"]["Ref"]
                authorizer_fn = self._function_of_uri(authorizers[authorizer_id]["Properties"]["AuthorizerUri"])
                authorizer_handler = self.handler(authorizer_fn)
            routes[props["RouteKey"]] = WebSocketRoute(
                route_key=props["RouteKey"],
                function=function,
                handler=self.handler(function),
                authorizer_handler=authorizer_handler,
            )
        return routes

    def _function_of_uri(self, uri: Any) -> str:
        text = self.resolve(uri)
        for logical_id in self.functions():
            if self.names.arn(logical_id, "AWS::Serverless::Function") in text:
                return logical_id
        raise KeyError(f"template: no function in integration URI {text}")


_Intrinsic = Callable[["Template", Any, dict[str, bool]], Any]
# CloudFormation's intrinsic functions the local stack understands, by their key.
_EVALUATORS: dict[str, _Intrinsic] = {
    "Ref": lambda t, arg, _c: t.ref(arg),
    "Fn::GetAtt": Template._get_att,
    "Fn::Sub": Template._sub,
    "Fn::If": Template._if,
    "Fn::Equals": Template._equals,
    "Fn::Not": lambda t, arg, c: not t.resolve(arg[0], c),
    "Fn::And": lambda t, arg, c: all(t.resolve(v, c) for v in arg),
    "Fn::Or": lambda t, arg, c: any(t.resolve(v, c) for v in arg),
    "Condition": lambda _t, arg, c: c[arg],
    "Fn::Join": Template._join,
    "Fn::Select": Template._select,
    "Fn::Split": Template._split,
    "Fn::ToJsonString": Template._to_json,
}
