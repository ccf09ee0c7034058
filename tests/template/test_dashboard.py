"""The dashboard and the alarms show only metrics that exist: AWS's for this template's resources, or the code's.

A metric the code no longer emits (a renamed add_metric), a dimension that is not this stack's resource, or a
namespace typed wrong would leave an empty graph or an alarm that never fires; this reads the dashboard body
and every alarm as CloudFormation would resolve them and fails on any such metric.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from local.template import Template
from tests.helpers import ROOT

TEMPLATE = Template()
RESOURCES = TEMPLATE.doc["Resources"]
SETTINGS = TEMPLATE.doc["Globals"]["Function"]["Environment"]["Variables"]
NAMESPACE, SERVICE = SETTINGS["POWERTOOLS_METRICS_NAMESPACE"], SETTINGS["POWERTOOLS_SERVICE_NAME"]
FUNCTIONS = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
QUEUES = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}
MACHINE = TEMPLATE.resource_arn(TEMPLATE.state_machine().logical_id)
# What AWS publishes, per namespace: the metrics used here, and the dimension naming this template's resource.
AWS_METRICS = {
    "AWS/States": ({"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"},
                   "StateMachineArn", {MACHINE}),
    "AWS/Lambda": ({"Errors", "Throttles", "Duration", "Invocations"}, "FunctionName", FUNCTIONS),
    "AWS/SQS": ({"ApproximateNumberOfMessagesVisible"}, "QueueName", QUEUES),
}  # fmt: skip


def constants(node: ast.expr, path: Path) -> set[str]:
    """The names a metric's `name=` can take: a string, or either side of `a if c else b`."""
    if isinstance(node, ast.IfExp):
        return constants(node.body, path) | constants(node.orelse, path)
    assert isinstance(node, ast.Constant) and isinstance(node.value, str), f"{path}: a metric name not written out"
    return {node.value}


def emitted_by_the_code() -> set[str]:
    """Every metric name the code emits: Powertools add_metric calls, and the state machine's PutMetricData."""
    names = set()
    for path in [*Path(ROOT, "functions").rglob("*.py"), *Path(ROOT, "layers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_metric":
                [name] = [k.value for k in node.keywords if k.arg == "name"]
                names |= constants(name, path)
    definition = json.loads(TEMPLATE.state_machine().definition)
    for state in definition["States"].values():
        if state.get("Resource", "").endswith(":cloudwatch:putMetricData"):
            assert state["Parameters"]["Namespace"] == NAMESPACE
            for datum in state["Parameters"]["MetricData"]:
                assert datum["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
                names.add(datum["MetricName"])
    return names


EMITTED = emitted_by_the_code()


def problem(namespace: str, name: str, dimensions: dict[str, str]) -> str | None:
    """Why the metric does not exist for this stack, or None."""
    if namespace == NAMESPACE:
        if name not in EMITTED:
            return f"{name}: no code emits it"
        return None if dimensions == {"service": SERVICE} else f"{name}: dimensions {dimensions}, not service"
    if namespace not in AWS_METRICS:
        return f"{namespace}/{name}: not a namespace of this stack"
    names, dimension, resources = AWS_METRICS[namespace]
    if name not in names:
        return f"{namespace}/{name}: not a metric AWS publishes here"
    if set(dimensions) != {dimension} or dimensions[dimension] not in resources:
        return f"{namespace}/{name}: {dimensions} names no resource of this template"
    return None


def dashboard() -> dict[str, Any]:
    [body] = [TEMPLATE.resolve(r["Properties"]["DashboardBody"]) for r in RESOURCES.values()
              if r["Type"] == "AWS::CloudWatch::Dashboard"]  # fmt: skip
    return dict(json.loads(body))


def dashboard_metrics(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    metrics = []
    for widget in body["widgets"]:
        for entry in widget["properties"]["metrics"]:
            options = entry[-1] if isinstance(entry[-1], dict) else {}
            plain = entry[:-1] if options else entry
            assert "..." not in plain and "." not in plain, "write each metric out: the test reads it"
            namespace, name, *pairs = plain
            metrics.append((namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True)), options))
    return metrics


def test_every_dashboard_metric_exists() -> None:
    problems = [
        p for namespace, name, dims, _ in dashboard_metrics(dashboard()) if (p := problem(namespace, name, dims))
    ]
    assert problems == []


def test_every_alarm_metric_exists() -> None:
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        properties = TEMPLATE.resolve(resource["Properties"])
        stats = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        for metric in stats or [properties]:
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            assert problem(metric["Namespace"], metric["MetricName"], dims) is None, logical_id


def test_the_check_rejects_what_does_not_exist() -> None:
    assert problem(NAMESPACE, "TrackersCreated", {"service": SERVICE})  # a typo of TrackerCreated
    assert problem(NAMESPACE, "TrackerCreated", {"service": "another-service"})
    assert problem("AWS/Lambda", "Errors", {"FunctionName": "SomeoneElsesFunction"})
    assert problem("AWS/States", "ExecutionsFailed", {"StateMachineArn": MACHINE + "x"})
    assert problem("AWS/Lambda", "ColdStarts", {"FunctionName": "ParseInputFunction"})
    assert problem("Custom/Namespace", "TrackerCreated", {"service": SERVICE})


def shown() -> set[tuple[str, str, str]]:
    """(metric, dimension value, statistic) of every graph line, with each widget's default statistic."""
    lines = set()
    for widget in dashboard()["widgets"]:
        properties = widget["properties"]
        for _, name, dims, options in dashboard_metrics({"widgets": [widget]}):
            lines.add((name, next(iter(dims.values())), options.get("stat", properties.get("stat", ""))))
    return lines


@pytest.mark.parametrize(
    "metrics, statistics",
    [
        ({"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"}, {"Sum"}),
        ({"ProvisioningLagSeconds", "TimeToTrackingIdSeconds"}, {"p50", "p90", "Maximum"}),
        ({"TrackerCreated", "TrackerAdopted"}, {"Sum"}),
        ({"DatasetGroupsChecked", "ExecutionsStarted", "DatasetGroupsSkipped", "DatasetGroupsUnchecked"}, {"Sum"}),
        ({"ParametersChecked", "ParametersSwept", "ParametersUnchecked", "ParametersDeleted"}, {"Sum"}),
    ],
)
def test_the_dashboard_shows(metrics: set[str], statistics: set[str]) -> None:
    lines = shown()
    for metric in metrics:
        assert {stat for name, _, stat in lines if name == metric} >= statistics, metric


def test_the_dashboard_shows_every_function_and_queue() -> None:
    lines = shown()
    for metric in ("Errors", "Throttles", "Duration"):
        assert {value for name, value, _ in lines if name == metric} == FUNCTIONS, metric
    assert {value for name, value, _ in lines if name == "ApproximateNumberOfMessagesVisible"} == QUEUES
