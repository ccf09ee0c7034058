"""Nothing missed, nothing stale, opted-out groups left alone: on the local engine."""

from __future__ import annotations

import io
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import create_event, dataset_group_arn, event, wait_for_executions

SKIP = [{"tagKey": "event-tracker-provisioner:skip", "tagValue": "true"}]


def provisioned(stack: LocalEngine, name: str) -> None:
    execution = stack.run({"datasetGroupArn": dataset_group_arn(name)})
    assert execution.status == "SUCCEEDED", execution.cause


# ------------------------------------------------------------------ reconciler
def test_the_reconciler_starts_the_workflow_for_what_is_missing(
    stack: LocalEngine, emulator: PersonalizeEmulator, personalize
) -> None:
    for name in ("complete", "no-parameter", "wrong-parameter", "no-tracker", "creating"):
        stack.create_dataset_group(name)
    provisioned(stack, "complete")
    provisioned(stack, "no-parameter")
    stack.ssm.delete_parameter(Name="/personalize/no-parameter/tracking-id")
    provisioned(stack, "wrong-parameter")
    stack.ssm.put_parameter(
        Name="/personalize/wrong-parameter/tracking-id", Value="stale", Type="String", Overwrite=True
    )
    stack.create_dataset_group("opted-out", tags=SKIP)
    emulator.time_dataset_group("failed", Timing(fails_with="bad role"))
    stack.create_dataset_group("failed")
    emulator.time_dataset_group("creating", Timing(pending=1))
    before = {
        e["executionArn"] for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    }

    report = stack.call("ReconcilerFunction", event("scheduled-event.json"))

    assert report["checked"] == 7
    assert sorted(report["started"]) == ["creating", "no-parameter", "no-tracker", "wrong-parameter"]
    assert report["skipped"] == {
        "complete": "tracker and parameter are in place",
        "opted-out": "dataset group opted-out is tagged event-tracker-provisioner:skip=true",
        "failed": "dataset group is CREATE FAILED",
    }
    started = [e for e in wait_for_executions(stack) if e.arn not in before]
    assert len(started) == 4
    for execution in started:
        assert execution.status == "SUCCEEDED", execution.cause
        assert execution.arn.split(":")[-1].startswith("reconcile-")
        name = execution.output["datasetGroupName"]
        [tracker] = emulator.trackers_of(name)
        assert stack.parameter(f"/personalize/{name}/tracking-id")["Value"] == tracker["trackingId"]

    again = stack.call("ReconcilerFunction", event("scheduled-event.json"))
    assert again["started"] == []


def test_the_reconciler_never_starts_a_second_execution(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("slow", Timing(pending=3))
    stack.create_dataset_group("slow")
    stack.start(create_event("slow"))  # the event-driven execution, still waiting
    stack.create_dataset_group("missed")

    first = stack.call("ReconcilerFunction", {})
    second = stack.call("ReconcilerFunction", {})

    assert first["started"] == ["missed"]
    assert first["skipped"]["slow"] == "an execution for it is running"
    assert second["started"] == []
    assert second["skipped"]["missed"] in ("an execution for it is running", "already started in this hour")
    executions = wait_for_executions(stack)
    assert len(executions) == 2
    assert all(e.status == "SUCCEEDED" for e in executions)


def test_two_reconcilers_at_once_start_one_execution_per_dataset_group(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    """No reserved concurrency: the deterministic execution names are what keep two runs from doubling up."""
    names = [f"missed-{index}" for index in range(12)]
    for name in names:
        stack.create_dataset_group(name)
    together = threading.Barrier(2)

    def reconcile() -> dict[str, Any]:
        together.wait()
        return stack.call("ReconcilerFunction", {})

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: reconcile(), range(2)))

    # StartExecution with a running execution's name and input returns that execution: both runs may
    # report a group as started, but each group has exactly one execution.
    assert set(reports[0]["started"]) | set(reports[1]["started"]) == set(names)
    executions = wait_for_executions(stack)
    assert sorted(e.output["datasetGroupName"] for e in executions) == sorted(names)
    assert all(e.status == "SUCCEEDED" for e in executions)


def test_the_reconciler_pages_through_every_dataset_group(make_stack, emulator: PersonalizeEmulator) -> None:
    stack = make_stack(ExcludeNamePattern="bulk-.*")
    for index in range(130):
        stack.create_dataset_group(f"bulk-{index}")

    report = stack.call("ReconcilerFunction", {})

    assert report["checked"] == 130
    assert report["started"] == []
    assert len(report["skipped"]) == 130


def test_the_reconciler_reports_metrics(
    make_stack, emulator: PersonalizeEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = make_stack()
    stack.create_dataset_group("missed")
    stack.call("ReconcilerFunction", {})
    wait_for_executions(stack)
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    reconciler = next(m for m in metrics if "DatasetGroupsChecked" in m)
    assert (
        reconciler["DatasetGroupsChecked"],
        reconciler["ExecutionsStarted"],
        reconciler["DatasetGroupsSkipped"],
    ) == (
        [1.0],
        [1.0],
        [0.0],
    )


# ------------------------------------------------------------------ teardown
def deletion(name: str, **request: str) -> dict[str, Any]:
    sample = event(f"{name}.json")
    sample["detail"]["requestParameters"] = request
    return sample


def test_deleting_the_tracker_removes_its_parameter(
    stack: LocalEngine, emulator: PersonalizeEmulator, personalize
) -> None:
    stack.create_dataset_group("retail-recommendations")
    provisioned(stack, "retail-recommendations")
    [tracker] = emulator.trackers_of("retail-recommendations")
    personalize.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])

    results = stack.deliver(deletion("delete-event-tracker", eventTrackerArn=tracker["eventTrackerArn"]))

    assert results == {"TeardownFunction": {"deleted": ["/personalize/retail-recommendations/tracking-id"]}}
    assert stack.parameter("/personalize/retail-recommendations/tracking-id") is None
    # A second delivery of the same event finds nothing and is not an error.
    assert stack.deliver(deletion("delete-event-tracker", eventTrackerArn=tracker["eventTrackerArn"])) == {
        "TeardownFunction": {"deleted": []}
    }


def test_deleting_the_dataset_group_removes_its_parameter(stack: LocalEngine, emulator, personalize) -> None:
    stack.create_dataset_group("retail-recommendations")
    provisioned(stack, "retail-recommendations")
    [tracker] = emulator.trackers_of("retail-recommendations")
    personalize.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])  # its event lost
    personalize.delete_dataset_group(datasetGroupArn=dataset_group_arn("retail-recommendations"))

    results = stack.deliver(event("delete-dataset-group.json"))

    assert results["TeardownFunction"] == {"deleted": ["/personalize/retail-recommendations/tracking-id"]}


def test_a_parameter_this_application_did_not_write_is_never_touched(stack: LocalEngine) -> None:
    name = "/personalize/retail-recommendations/tracking-id"
    stack.ssm.put_parameter(Name=name, Value="written-by-hand", Type="String")

    results = stack.deliver(event("delete-dataset-group.json"))

    assert results["TeardownFunction"] == {"deleted": []}
    assert stack.parameter(name)["Value"] == "written-by-hand"


def test_a_newer_trackers_parameter_survives_the_old_trackers_deletion(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    stack.create_dataset_group("retail-recommendations")
    provisioned(stack, "retail-recommendations")

    results = stack.deliver(
        deletion("delete-event-tracker", eventTrackerArn="arn:aws:personalize:us-east-1:123456789012:event-tracker/old")
    )

    assert results["TeardownFunction"] == {"deleted": []}
    assert stack.parameter("/personalize/retail-recommendations/tracking-id") is not None


def test_a_failed_deletion_call_reaches_only_the_release_when_a_tracker_was_in_the_way(stack: LocalEngine) -> None:
    failed = event("delete-dataset-group.json")
    failed["detail"]["errorCode"] = "ResourceInUseException"
    assert [rule.target for rule in stack.matching_rules(failed)] == ["ReleaseTrackerFunction"]
    failed["detail"]["errorCode"] = "AccessDeniedException"
    assert stack.matching_rules(failed) == []


# ------------------------------------------------------------------ opt-out
def test_a_dataset_group_tagged_skip_is_left_alone(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.create_dataset_group("retail-recommendations", tags=SKIP)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED"
    assert execution.output == {
        "datasetGroupArn": dataset_group_arn("retail-recommendations"),
        "datasetGroupName": "retail-recommendations",
        "outcome": "skipped",
        "reason": "dataset group retail-recommendations is tagged event-tracker-provisioner:skip=true",
    }
    assert emulator.trackers_of("retail-recommendations") == []
    assert stack.parameters() == []
    assert execution.failed_tasks == []


def test_a_name_matching_exclude_name_pattern_is_left_alone(make_stack, emulator: PersonalizeEmulator) -> None:
    stack = make_stack(ExcludeNamePattern="sandbox-.*")
    stack.create_dataset_group("sandbox-alice")

    execution = stack.run(create_event("sandbox-alice"))

    assert execution.status == "SUCCEEDED"
    assert execution.output["outcome"] == "skipped"
    assert "ExcludeNamePattern" in execution.output["reason"]
    assert emulator.trackers_of("sandbox-alice") == []


# ------------------------------------------------------------------ SecureString
def test_secure_string_parameters_with_a_kms_key(make_stack, emulator: PersonalizeEmulator) -> None:
    stack = make_stack(ParameterType="SecureString")
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    stack = make_stack(ParameterType="SecureString", KmsKeyId=key)
    stack.create_dataset_group("retail-recommendations")

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    [tracker] = emulator.trackers_of("retail-recommendations")
    parameter = stack.parameter("/personalize/retail-recommendations/tracking-id")
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", tracker["trackingId"])
    [described] = stack.ssm.describe_parameters()["Parameters"]
    assert described["KeyId"] == key


def test_a_secure_string_tracking_id_appears_only_in_ssm(
    make_stack, emulator: PersonalizeEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    """Anyone with states:GetExecutionHistory, or the logs, or a subscriber, must not learn it."""
    stack = make_stack(ParameterType="SecureString")
    stack.create_dataset_group("retail-recommendations")
    # Every handler's Powertools Logger shares the service's logging.Logger and its one handler.
    [handler] = logging.getLogger("event-tracker-provisioner").handlers
    log = io.StringIO()
    # Not setStream: it flushes the stream it replaces, which an earlier test's capsys may have closed.
    previous, handler.stream = handler.stream, log
    try:
        execution = stack.run(event("create-dataset-group.json"))
        stack.call("ReconcilerFunction", {})  # it compares the stored value: its logs must not show it either
    finally:
        handler.stream = previous

    assert execution.status == "SUCCEEDED", execution.cause
    [tracker] = emulator.trackers_of("retail-recommendations")
    secret = tracker["trackingId"]
    assert stack.parameter("/personalize/retail-recommendations/tracking-id")["Value"] == secret
    captured = capfd.readouterr()
    places = {
        "execution history": json.dumps(execution.history, default=str),
        "execution output": json.dumps(execution.output),
        "notifications": json.dumps(stack.notifications()),
        "logs and metrics": log.getvalue() + captured.out + captured.err,
    }
    assert "Reconciled" in places["logs and metrics"], "no logs were captured: this test would prove nothing"
    assert "Stored trackingId" in places["logs and metrics"]
    assert [where for where, text in places.items() if secret in text] == []


def test_a_string_tracking_id_is_in_the_output_for_convenience(stack: LocalEngine, emulator) -> None:
    stack.create_dataset_group("retail-recommendations")
    execution = stack.run(event("create-dataset-group.json"))
    [tracker] = emulator.trackers_of("retail-recommendations")
    assert execution.output["trackingId"] == tracker["trackingId"]
    # Only the last CheckEventTracker's result (the execution's output) carries it; no payload before it does.
    last_check = max(
        i
        for i, e in enumerate(execution.history)
        if e.get("stateEnteredEventDetails", {}).get("name") == "CheckEventTracker"
    )
    before_store = json.dumps(execution.history[: last_check + 1], default=str)
    assert tracker["trackingId"] not in before_store
    assert tracker["trackingId"] in json.dumps(execution.history[last_check + 1 :], default=str)


# ------------------------------------------------------------------ an answer the definition does not know
def test_an_answer_no_choice_names_fails_loudly(stack: LocalEngine) -> None:
    """A function and the definition that disagree end in a named error with its event, not States.NoChoiceMatched."""
    stack.create_dataset_group("retail-recommendations")
    stack._handlers["CreateOrAdoptTrackerFunction"] = lambda event, context: {
        "outcome": "postponed",
        "eventTrackerArn": None,
        "adopted": False,
    }

    execution = stack.run(event("create-dataset-group.json"))

    assert (execution.status, execution.error) == ("FAILED", "UnexpectedAnswer")
    [failure] = [n for n in stack.notifications() if n["detail-type"] == "Event Tracker Provisioning Failed"]
    assert failure["detail"]["error"] == "UnexpectedAnswer"
    assert failure["detail"]["datasetGroupName"] == "retail-recommendations"
