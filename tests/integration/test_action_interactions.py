"""The Action interactions dataset's tracking ID (PutActionInteractions), through the whole workflow."""

from __future__ import annotations

import json
import re

import pytest

from local.engine import Execution, LocalEngine
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn, event

GROUP = "retail-recommendations"
DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/retail-recommendations/ACTION_INTERACTIONS"
PARAMETER = "/personalize/retail-recommendations/action-tracking-id"
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/retail-action-interactions"


def create_dataset(stack: LocalEngine, group: str = GROUP, dataset_type: str = "Action_Interactions") -> str:
    return stack.personalize.create_dataset(
        name=f"{group}-{dataset_type.lower()}",
        schemaArn=SCHEMA,
        datasetGroupArn=dataset_group_arn(group),
        datasetType=dataset_type,
    )["datasetArn"]


def tracking_id(stack: LocalEngine, dataset_arn: str = DATASET) -> str:
    return stack.personalize.describe_dataset(datasetArn=dataset_arn)["dataset"]["trackingId"]


def assert_failed(execution: Execution, error: str, cause: str) -> None:
    assert (execution.status, execution.error) == ("FAILED", error), execution.cause
    assert re.search(cause, execution.cause or ""), execution.cause


def test_the_tracking_id_is_stored_once_the_dataset_is_active(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    stack.create_dataset_group(GROUP)
    # Longer than a first poll interval and the steps around it, even on a loaded machine: checked twice at least.
    emulator.time_dataset(GROUP, "ACTION_INTERACTIONS", Timing(pending=5, in_progress=5))
    assert create_dataset(stack) == DATASET
    sample = event("create-action-interactions-dataset.json")
    assert stack.rule_matches(sample)

    execution = stack.run(sample)

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.failed_tasks == [] and execution.retries == 0
    states = execution.states_entered()
    assert states.count("CheckDataset") >= 2 and "WaitForDataset" in states
    assert "CheckDatasetGroup" not in states and "CreateOrAdoptTracker" not in states
    lag = execution.output.pop("lag")
    assert lag["timeToTrackingIdFrom"] == "eventTime"
    # Seen ACTIVE within one wait (MaxPollIntervalSeconds at most), plus the check's own time.
    assert lag["provisioningLagSeconds"] <= float(stack.template.parameters["MaxPollIntervalSeconds"]) + 5, lag
    assert execution.output == {
        "datasetArn": DATASET,
        "datasetGroupArn": dataset_group_arn(GROUP),
        "datasetGroupName": GROUP,
        "parameterName": PARAMETER,
        "status": "ACTIVE",
        "outcome": "ready",
        "waitSeconds": 0,
        "trackingId": tracking_id(stack),  # String parameters: the output has it
    }
    parameter = stack.parameter(PARAMETER)
    assert parameter["Value"] == tracking_id(stack)
    assert parameter["Tags"] == {
        "event-tracker-provisioner:dataset-group-arn": dataset_group_arn(GROUP),
        "event-tracker-provisioner:dataset-arn": DATASET,
    }
    [notification] = stack.notifications()
    assert notification["detail-type"] == "Action Tracking ID Provisioned"
    assert notification["detail"]["parameterName"] == PARAMETER
    assert tracking_id(stack) not in json.dumps(notification)


@pytest.mark.parametrize("dataset_type", ["action_interactions", "ACTION_INTERACTIONS"])
def test_the_dataset_type_in_any_case(stack: LocalEngine, dataset_type: str) -> None:
    stack.create_dataset_group(GROUP)
    create_dataset(stack, dataset_type=dataset_type)
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"]["datasetType"] = dataset_type
    assert stack.rule_matches(sample)
    execution = stack.run(sample)
    assert execution.status == "SUCCEEDED", execution.cause
    assert stack.parameter(PARAMETER)["Value"] == tracking_id(stack)


def test_another_dataset_type_is_ignored(stack: LocalEngine) -> None:
    stack.create_dataset_group(GROUP)
    items = create_dataset(stack, dataset_type="Items")
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"]["datasetType"] = "Items"
    sample["detail"]["responseElements"]["datasetArn"] = items
    assert stack.deliver(sample) == {}  # no rule starts anything
    # Started by hand anyway, it fails loudly rather than writing anything.
    assert_failed(stack.run(sample), "InvalidEvent", "has no tracking ID: only Action_Interactions")
    assert stack.parameters() == []


def test_a_failed_dataset_fails_by_name(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.create_dataset_group(GROUP)
    emulator.time_dataset(GROUP, "ACTION_INTERACTIONS", Timing(pending=1, fails_with="bad schema"))
    create_dataset(stack)
    execution = stack.run(event("create-action-interactions-dataset.json"))
    assert_failed(execution, "DatasetFailed", "CREATE FAILED")
    assert stack.parameters() == []
    [notification] = stack.notifications()
    assert notification["detail"]["error"] == "DatasetFailed" and notification["detail"]["datasetArn"] == DATASET


def test_a_dataset_deleted_while_waiting_is_not_found(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.create_dataset_group(GROUP)
    emulator.time_dataset(GROUP, "ACTION_INTERACTIONS", Timing(pending=30, deleted_after=1.5))
    create_dataset(stack)
    execution = stack.run(event("create-action-interactions-dataset.json"))
    assert_failed(execution, "DatasetNotFound", "does not exist")
    assert stack.parameters() == []


def test_a_replay_with_the_direct_input_is_harmless(stack: LocalEngine) -> None:
    stack.create_dataset_group(GROUP)
    create_dataset(stack)
    first = stack.run({"datasetArn": DATASET})
    second = stack.run(event("direct-dataset-input.json"))
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED"), (first.cause, second.cause)
    assert stack.parameters() == [PARAMETER]
    assert stack.parameter(PARAMETER)["Value"] == tracking_id(stack)


def test_an_opted_out_dataset_group_is_left_alone(make_stack) -> None:
    stack = make_stack(ExcludeNamePattern="retail-.*")
    stack.create_dataset_group(GROUP)
    create_dataset(stack)
    execution = stack.run(event("create-action-interactions-dataset.json"))
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["outcome"] == "skipped" and "ExcludeNamePattern" in execution.output["reason"]
    assert stack.parameters() == []


def test_teardown_removes_it_on_delete_dataset_and_on_delete_dataset_group(stack: LocalEngine) -> None:
    stack.create_dataset_group(GROUP)
    create_dataset(stack)
    assert stack.run(event("create-dataset-group.json")).status == "SUCCEEDED"
    assert stack.run({"datasetArn": DATASET}).status == "SUCCEEDED"
    stack.ssm.put_parameter(Name="/personalize/retail-recommendations/notes", Value="theirs", Type="String")
    tracker_parameter = "/personalize/retail-recommendations/tracking-id"

    stack.deliver(event("delete-dataset.json"))  # a late event: the dataset still lives, its parameter stays
    assert sorted(stack.parameters()) == sorted(
        ["/personalize/retail-recommendations/notes", tracker_parameter, PARAMETER]
    )
    stack.personalize.delete_dataset(datasetArn=DATASET)
    stack.deliver(event("delete-dataset.json"))
    assert sorted(stack.parameters()) == ["/personalize/retail-recommendations/notes", tracker_parameter]

    stack.deliver(event("delete-dataset-group.json"))  # the group lives: nothing of it goes
    assert sorted(stack.parameters()) == ["/personalize/retail-recommendations/notes", tracker_parameter]
    for tracker in stack.emulator.trackers_of(GROUP):
        stack.personalize.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])  # its event lost
    stack.personalize.delete_dataset_group(datasetGroupArn=dataset_group_arn(GROUP))
    stack.deliver(event("delete-dataset-group.json"))
    assert stack.parameters() == ["/personalize/retail-recommendations/notes"]  # ours, not theirs


def test_the_reconciler_finds_a_missing_or_wrong_action_tracking_id(stack: LocalEngine) -> None:
    for group in ("missing", "wrong", "fine"):
        stack.create_dataset_group(group)
        create_dataset(stack, group)
        assert stack.run({"datasetGroupArn": dataset_group_arn(group)}).status == "SUCCEEDED"
    for group in ("wrong", "fine"):
        dataset = f"arn:aws:personalize:us-east-1:123456789012:dataset/{group}/ACTION_INTERACTIONS"
        assert stack.run({"datasetArn": dataset}).status == "SUCCEEDED"
    stack.ssm.put_parameter(Name="/personalize/wrong/action-tracking-id", Value="stale", Type="String", Overwrite=True)

    report = stack.call("ReconcilerFunction", {})

    assert sorted(report["started"]) == ["missing (action tracking ID)", "wrong (action tracking ID)"]
    assert report["skipped"] == {name: "tracker and parameter are in place" for name in ("missing", "wrong", "fine")}
    for group in ("missing", "wrong"):
        dataset = f"arn:aws:personalize:us-east-1:123456789012:dataset/{group}/ACTION_INTERACTIONS"
        execution = next(
            e
            for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
            if e["name"].startswith("reconcile-") and e["name"].endswith(f"{group}-actions")
        )
        assert stack.wait(execution["executionArn"]).status == "SUCCEEDED"
        assert stack.parameter(f"/personalize/{group}/action-tracking-id")["Value"] == tracking_id(stack, dataset)
    assert stack.call("ReconcilerFunction", {})["started"] == []


def test_a_secure_string_action_tracking_id_appears_only_in_ssm(make_stack) -> None:
    stack = make_stack(ParameterType="SecureString")
    stack.create_dataset_group(GROUP)
    create_dataset(stack)
    execution = stack.run(event("create-action-interactions-dataset.json"))
    assert execution.status == "SUCCEEDED", execution.cause
    secret = tracking_id(stack)
    assert stack.parameter(PARAMETER)["Value"] == secret
    assert secret not in json.dumps(execution.history, default=str) + json.dumps(execution.output)
    assert secret not in json.dumps(stack.notifications())
