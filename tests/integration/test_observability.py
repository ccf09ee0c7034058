"""Logs, metrics and the standalone emulator, seen from outside."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import time

import boto3
import pytest

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import ROOT, event


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_logs_carry_the_execution_arn_and_metrics_are_emitted(
    stack: LocalEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every handler's Powertools Logger shares the service's logging.Logger and its one handler (made by the
    # first handler imported).
    stack.handler("ParseInputFunction")
    [handler] = logging.getLogger("event-tracker-provisioner").handlers
    log = io.StringIO()
    # Not setStream: it flushes the old stream, which an earlier test's capture may have closed.
    previous, handler.stream = handler.stream, log
    try:
        stack.create_dataset_group("retail-recommendations")
        execution = stack.run(event("create-dataset-group.json"))
    finally:
        handler.stream = previous
    assert execution.status == "SUCCEEDED"

    logs = json_lines(log.getvalue())
    # The functions of the event tracker's lane (the Action interactions lane has its own two).
    workflow_functions = {
        name
        for name in stack.functions
        if name
        not in (
            "ReconcilerFunction",
            "SweeperFunction",
            "TeardownFunction",
            "ReleaseTrackerFunction",
            "CheckDatasetFunction",
        )
    }
    assert {line["function_name"] for line in logs} == workflow_functions
    assert {line["correlation_id"] for line in logs} == {execution.arn}
    metrics = [line for line in json_lines(capsys.readouterr().out) if "_aws" in line]
    names = [metric["Name"] for m in metrics for metric in m["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["TrackerCreated", "ProvisioningLagSeconds", "TimeToTrackingIdSeconds"]
    [lag] = [m for m in metrics if "ProvisioningLagSeconds" in m]
    assert lag["ProvisioningLagSeconds"] == [execution.output["lag"]["provisioningLagSeconds"]]
    assert {m["Unit"] for m in lag["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {"Seconds"}
    assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EventTrackerProvisioner"


def test_a_failed_execution_is_counted_by_step_functions_alone(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    """AWS/States ExecutionsFailed counts it (ProvisioningFailedAlarm and the dashboard read that): the workflow
    puts no metric of its own for it."""
    emulator.time_dataset_group("retail-recommendations", Timing(fails_with="no"))
    stack.create_dataset_group("retail-recommendations")
    assert stack.run(event("create-dataset-group.json")).status == "FAILED"

    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    assert cloudwatch.list_metrics(Namespace="EventTrackerProvisioner")["Metrics"] == []
    alarm = stack.template.doc["Resources"]["ProvisioningFailedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsFailed")


def test_the_emulator_runs_as_a_standalone_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.emulator", "--port", "0", "--dataset-group-seconds", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = banner.split("AWS_ENDPOINT_URL_PERSONALIZE=")[1].strip()
        client = boto3.client("personalize", region_name="us-east-1", endpoint_url=url)
        arn = client.create_dataset_group(name="standalone")["datasetGroupArn"]
        time.sleep(0.05)
        assert client.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE"
    finally:
        process.terminate()
        process.wait(timeout=10)
