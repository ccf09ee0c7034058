"""The CloudWatch metrics AWS publishes for what happened on the local engine: what the template's alarms read.

- AWS/States `ExecutionsFailed`, `ExecutionsTimedOut` (dimension StateMachineArn): executions that ended so;
- AWS/Lambda `Errors` (FunctionName): invocations that raised or timed out;
- AWS/SQS `ApproximateNumberOfMessagesVisible` (QueueName): the messages in each queue;
- the application's own, from the Embedded Metric Format documents its functions print (Powertools' Metrics).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

EXECUTION_METRICS = {"FAILED": "ExecutionsFailed", "TIMED_OUT": "ExecutionsTimedOut"}


@dataclass(frozen=True)
class Datum:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]  # sorted (name, value) pairs
    value: float


def published(stack: Any, printed: str) -> list[Datum]:
    """Every datum, its value summed over the run (`printed`: the functions' standard output)."""
    data: Counter[tuple[str, str, tuple[tuple[str, str], ...]]] = Counter()
    try:
        executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    except ClientError:  # the state machine is gone
        executions = []
    for execution in executions:
        if execution["status"] in EXECUTION_METRICS:
            data[
                "AWS/States", EXECUTION_METRICS[execution["status"]], (("StateMachineArn", stack.state_machine_arn),)
            ] += 1
    for function in stack.function_errors:
        data["AWS/Lambda", "Errors", (("FunctionName", function),)] += 1
    for url in stack.sqs.list_queues().get("QueueUrls", []):
        visible = stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        count = int(visible["Attributes"]["ApproximateNumberOfMessages"])
        data["AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", url.rsplit("/", 1)[1]),)] += count
    for document in _emf_documents(printed):
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple(sorted((name, str(document[name])) for name in dimension_set))
                for metric in directive["Metrics"]:
                    values = document[metric["Name"]]
                    data[directive["Namespace"], metric["Name"], dimensions] += sum(
                        values if isinstance(values, list) else [values]
                    )
    return [Datum(namespace, name, dimensions, value) for (namespace, name, dimensions), value in data.items()]


def _emf_documents(printed: str) -> list[dict[str, Any]]:
    documents = []
    for line in printed.splitlines():
        if line.startswith('{"_aws"'):
            document = json.loads(line)
            if isinstance(document.get("_aws"), dict) and "CloudWatchMetrics" in document["_aws"]:
                documents.append(document)
    return documents
