"""The embedded AWS: moto with every resource of template.yaml, handlers dispatched in-process.

Two modes, one code path:
- in-process (tests): ``mock_aws`` patches botocore inside this interpreter;
- server (``make dev``): a ``ThreadedMotoServer`` on 127.0.0.1 that any AWS SDK or CLI can reach.
Step Functions executes the real ASL; Lambda invocations (direct, from Step Functions, S3, EventBridge)
run the function's Handler string in this process. SQS event-source mappings are run by
``SqsEventSources`` below, with partial batch failures and redrive to the DLQ, as Lambda's poller does.
"""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratus.cache import reset_containers
from stratus.local.lambda_dispatch import LambdaDispatch, invoke_handler
from stratus.local.template import REPO_ROOT, Template

LOCAL_ROLE = "arn:aws:iam::123456789012:role/stratus-local-lambda"
_STEPFUNCTIONS_CONFIG = {"stepfunctions": {"execute_state_machine": True}}

# What differs from AWS locally: endpoints and providers. Everything else comes from template.yaml.
LOCAL_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "STAGE": "local",
    "REALTIME_PUBLISHER": "local",
    "MODEL_PROVIDER": "offline",
    "CHAT_MODEL_ID": "",
    # Fast deterministic embeddings and the on-disk index unless the caller asks for more
    # (make dev uses local_provider_environment(): MiniLM on ONNX when it has been built).
    "EMBEDDING_PROVIDER": "hash",
    "EMBEDDING_MODEL_ID": "",
    "SEARCH_BACKEND": "embedded",
    "OPENSEARCH_ENDPOINT": "",
    "JWT_SECRET": "stratus-local-development-secret-not-for-production",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}
# Variables that legitimately differ per function and so are not set process-wide.
_PER_FUNCTION = {"POWERTOOLS_SERVICE_NAME"}


@dataclass
class QueueBinding:
    queue_url: str
    queue_arn: str
    function_name: str
    handler: str
    batch_size: int
    report_batch_item_failures: bool
    timeout_s: float


class SqsEventSources:
    """Lambda's SQS poller: receive a batch, invoke, delete what succeeded, let failures be redelivered."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self.bindings: list[QueueBinding] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()

    def poll_once(self, binding: QueueBinding, wait_s: int = 0) -> int:
        response = self._sqs.receive_message(
            QueueUrl=binding.queue_url,
            MaxNumberOfMessages=min(binding.batch_size, 10),
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [_sqs_record(m, binding.queue_arn) for m in messages]}
        failed: set[str]
        try:
            result = invoke_handler(
                binding.handler, event, function_name=binding.function_name, timeout_s=binding.timeout_s
            )
            failed = set()
            if binding.report_batch_item_failures and isinstance(result, dict):
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed, as when a Lambda invocation raises
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                # Locally a failed message is retried at once rather than after the visibility timeout.
                self._sqs.change_message_visibility(
                    QueueUrl=binding.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self._sqs.delete_message(QueueUrl=binding.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def drain(self, max_rounds: int = 1000) -> int:
        """Process every queue until all are empty (tests call this; the dev server polls in a thread)."""
        processed = 0
        with self._busy:
            for _ in range(max_rounds):
                handled = sum(self.poll_once(binding) for binding in self.bindings)
                processed += handled
                if handled == 0:
                    break
        return processed

    def start(self, interval_s: float = 0.2) -> None:
        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.drain(max_rounds=50)
                except Exception:  # keep polling: a bad message must not stop the poller
                    import logging

                    logging.getLogger("stratus.local").exception("SQS poller error")

        self._thread = threading.Thread(target=run, name="sqs-event-sources", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


class SerialDynamoDB:
    """moto's DynamoDB is not thread-safe: a query or transaction deep-copies items that another thread's write
    is changing ("dictionary changed size during iteration"). Executions, SQS pollers and HTTP requests share one
    process here, so requests run one at a time, which is also the atomicity DynamoDB gives each request."""

    def __init__(self) -> None:
        self._original: Any = None
        self._lock = threading.RLock()

    def install(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        if self._original is None:
            original = DynamoHandler.call_action
            lock = self._lock

            def call_action(handler: Any) -> Any:
                with lock:
                    return original(handler)

            self._original = original
            DynamoHandler.call_action = call_action  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        if self._original is not None:
            DynamoHandler.call_action = self._original  # type: ignore[method-assign]
            self._original = None


class EmbeddedAws:
    """Every table, bucket, queue, function and state machine of template.yaml, on moto."""

    def __init__(
        self,
        template: Template | None = None,
        *,
        server: bool = False,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template or Template.load()
        self.server_mode = server
        self.environment = {**LOCAL_ENVIRONMENT, **(environment or {})}
        self.endpoint_url: str | None = None
        self._mock: Any = None
        self._server: Any = None
        self._dispatch = LambdaDispatch()
        self._serial_dynamodb = SerialDynamoDB()
        self._saved_env: dict[str, str | None] = {}
        self.event_sources: SqsEventSources | None = None
        self.function_environments: dict[str, dict[str, str]] = {}


    def start(self) -> EmbeddedAws:
        self._set_env(self.environment)
        if self.server_mode:
            import logging

            from moto.server import ThreadedMotoServer

            for noisy in ("werkzeug", "moto.stepfunctions.parser"):
                logging.getLogger(noisy).setLevel(logging.ERROR)
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            self._set_env({"AWS_ENDPOINT_URL": self.endpoint_url, "MOTO_PORT": str(port)})
            import urllib.request

            request = urllib.request.Request(
                f"{self.endpoint_url}/moto-api/config", data=json.dumps(_STEPFUNCTIONS_CONFIG).encode(), method="POST"
            )
            urllib.request.urlopen(request, timeout=10).close()
        else:
            from moto import mock_aws

            self._mock = mock_aws(config=_STEPFUNCTIONS_CONFIG)  # type: ignore[call-overload]
            self._mock.start()
        self._dispatch.install()
        self._serial_dynamodb.install()
        self._apply_function_environment()
        reset_containers()
        self._create_resources()
        return self

    def stop(self) -> None:
        if self.event_sources is not None:
            self.event_sources.stop()
        self._dispatch.uninstall()
        self._serial_dynamodb.uninstall()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        reset_containers()

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


    def physical_name(self, logical_id: str) -> str:
        # Not !Ref: that is a URL for queues and an ARN for state machines, never the name to create.
        kind = str(self.template.resources[logical_id]["Type"])
        return self.template.names.physical(logical_id, kind)

    def arn(self, logical_id: str) -> str:
        return str(self.template.get_att(logical_id, "Arn"))

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.environment["AWS_REGION"], endpoint_url=self.endpoint_url)

    def drain_queues(self) -> int:
        assert self.event_sources is not None
        return self.event_sources.drain()


    def _set_env(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _apply_function_environment(self) -> None:
        """Handlers share this process, so their template variables are set once; overrides win."""
        merged: dict[str, str] = {}
        for logical_id in self.template.functions():
            variables = {**self.template.function_environment(logical_id), **self.environment}
            self.function_environments[logical_id] = variables
            for key, value in variables.items():
                if key in _PER_FUNCTION:
                    continue
                if key in merged and merged[key] != value:
                    raise ValueError(f"template: {key} differs between functions ({merged[key]!r} vs {value!r})")
                merged[key] = value
        self._set_env(merged)


    def _create_resources(self) -> None:
        t = self.template
        self.client("iam").create_role(
            RoleName="stratus-local-lambda",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        for logical_id, resource in t.of_type("AWS::DynamoDB::Table").items():
            self._create_table(logical_id, t.resolve(resource.get("Properties", {})))
        for logical_id, resource in t.of_type("AWS::SecretsManager::Secret").items():
            self._create_secret(logical_id, t.resolve(resource.get("Properties", {})))
        queues = t.of_type("AWS::SQS::Queue")
        # Dead-letter queues first, wherever the template declares them (CloudFormation orders by dependency).
        ordered = sorted(queues.items(), key=lambda entry: "RedrivePolicy" in (entry[1].get("Properties") or {}))
        for logical_id, resource in ordered:
            self._create_queue(logical_id, t.resolve(resource.get("Properties", {})))
        for logical_id in t.functions():
            self._create_function(logical_id)
        for logical_id, resource in t.of_type("AWS::S3::Bucket").items():
            self._create_bucket(logical_id, t.resolve(resource.get("Properties", {})))
        self._create_function_events()
        for logical_id, resource in t.of_type("AWS::Serverless::StateMachine").items():
            self._create_state_machine(logical_id, resource)

    def _create_table(self, logical_id: str, props: dict[str, Any]) -> None:
        dynamodb = self.client("dynamodb")
        name = self.physical_name(logical_id)
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("LocalSecondaryIndexes"):
            args["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        dynamodb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )

    def _create_secret(self, logical_id: str, props: dict[str, Any]) -> None:
        import secrets

        value = props.get("SecretString") or secrets.token_urlsafe(32)
        self.client("secretsmanager").create_secret(Name=self.physical_name(logical_id), SecretString=value)

    def _create_queue(self, logical_id: str, props: dict[str, Any]) -> None:
        attributes: dict[str, str] = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
            "FifoQueue",
            "ContentBasedDeduplication",
        ):
            if key in props:
                attributes[key] = str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        self.client("sqs").create_queue(QueueName=self.physical_name(logical_id), Attributes=attributes)

    def _create_function(self, logical_id: str) -> None:
        props = self.template.functions()[logical_id]["Properties"]
        glob = self.template.globals_function
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("README.txt", "dispatched in-process by stratus.local")
        self.client("lambda").create_function(
            FunctionName=self.physical_name(logical_id),
            Runtime=props.get("Runtime", glob.get("Runtime", "python3.12")),
            Role=LOCAL_ROLE,
            Handler=props["Handler"],
            Code={"ZipFile": code.getvalue()},
            Timeout=int(props.get("Timeout", glob.get("Timeout", 30))),
            MemorySize=int(props.get("MemorySize", glob.get("MemorySize", 1024))),
            Environment={"Variables": self.function_environments[logical_id]},
        )

    def _create_bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        s3 = self.client("s3")
        name = self.physical_name(logical_id)
        s3.create_bucket(Bucket=name)
        notification = props.get("NotificationConfiguration")
        if notification:
            config: dict[str, Any] = {}
            if notification.get("QueueConfigurations"):
                config["QueueConfigurations"] = [
                    {
                        "QueueArn": q["Queue"],
                        "Events": [q["Event"]],
                        **({"Filter": q["Filter"]} if "Filter" in q else {}),
                    }
                    for q in notification["QueueConfigurations"]
                ]
            if notification.get("LambdaConfigurations"):
                config["LambdaFunctionConfigurations"] = [
                    {
                        "LambdaFunctionArn": q["Function"],
                        "Events": [q["Event"]],
                        **({"Filter": q["Filter"]} if "Filter" in q else {}),
                    }
                    for q in notification["LambdaConfigurations"]
                ]
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)
        if props.get("CorsConfiguration"):
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": props["CorsConfiguration"]["CorsRules"]})

    def _create_function_events(self) -> None:
        bindings: list[QueueBinding] = []
        glob = self.template.globals_function
        for logical_id, function in self.template.functions().items():
            props = function["Properties"]
            for event_id, event in (props.get("Events") or {}).items():
                kind = event.get("Type")
                event_props = self.template.resolve(event.get("Properties", {}))
                if kind == "SQS":
                    queue_arn = event_props["Queue"]
                    queue_logical = next(
                        lid for lid in self.template.of_type("AWS::SQS::Queue") if self.arn(lid) == queue_arn
                    )
                    bindings.append(
                        QueueBinding(
                            queue_url=self.template.names.queue_url(queue_logical),
                            queue_arn=queue_arn,
                            function_name=self.physical_name(logical_id),
                            handler=props["Handler"],
                            batch_size=int(event_props.get("BatchSize", 10)),
                            report_batch_item_failures="ReportBatchItemFailures"
                            in (event_props.get("FunctionResponseTypes") or []),
                            timeout_s=float(props.get("Timeout", glob.get("Timeout", 30))),
                        )
                    )
                elif kind in ("Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"):
                    self._create_rule(logical_id, event_id, event_props)
        self.event_sources = SqsEventSources(self.client("sqs"))
        self.event_sources.bindings = bindings

    def _create_rule(self, function_id: str, event_id: str, props: dict[str, Any]) -> None:
        events = self.client("events")
        rule_name = f"{self.physical_name(function_id)}-{event_id}"[:64]
        args: dict[str, Any] = {"Name": rule_name, "State": "ENABLED"}
        if "Schedule" in props or "ScheduleExpression" in props:
            args["ScheduleExpression"] = props.get("Schedule") or props["ScheduleExpression"]
        else:
            args["EventPattern"] = json.dumps(props.get("Pattern", {}))
        events.put_rule(**args)
        events.put_targets(Rule=rule_name, Targets=[{"Id": "function", "Arn": self.arn(function_id)}])

    def _create_state_machine(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = resource["Properties"]
        if "DefinitionUri" in props:
            definition_text = (REPO_ROOT / str(props["DefinitionUri"])).read_text()
        else:
            definition_text = json.dumps(self.template.resolve(props["Definition"]))
        substitutions = self.template.resolve(props.get("DefinitionSubstitutions") or {})
        for key, value in substitutions.items():
            definition_text = definition_text.replace("${" + key + "}", str(value))
        json.loads(definition_text)  # a broken definition fails here, loudly, not at execution time
        self.client("stepfunctions").create_state_machine(
            name=self.physical_name(logical_id),
            definition=definition_text,
            roleArn=LOCAL_ROLE,
            type=props.get("Type", "STANDARD"),
        )


@contextmanager
def embedded_aws(**kwargs: Any) -> Iterator[EmbeddedAws]:
    aws = EmbeddedAws(**kwargs)
    aws.start()
    try:
        yield aws
    finally:
        aws.stop()


def state_dir() -> Path:
    """Where the local stack keeps what must survive a restart (search index, built models)."""
    return REPO_ROOT / ".local"


def local_provider_environment() -> dict[str, str]:
    """Providers for the local stack: the offline model, local ONNX embeddings when built, a disk index."""
    base = state_dir()
    model_dir = base / "models" / "all-MiniLM-L6-v2"
    local_embeddings = (model_dir / "model.onnx").exists()
    return {
        "MODEL_PROVIDER": "offline",
        "EMBEDDING_PROVIDER": "local" if local_embeddings else "hash",
        # MiniLM reads 256 WordPiece tokens: smaller chunks keep every word inside its vector.
        **({"INGEST_CHUNK_TOKENS": "200", "INGEST_CHUNK_OVERLAP_TOKENS": "40"} if local_embeddings else {}),
        "LOCAL_MODEL_DIR": str(model_dir),
        "SEARCH_BACKEND": "embedded",
        "SEARCH_INDEX_DIR": str(base / "search"),
    }
