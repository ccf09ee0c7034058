"""AWS's published rules, modelled in the local engine: IAM as the reference and the template say, hung calls,
half-done writes, StartExecution's name rules, and answers that lack a field."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn, event, wait_for_executions

TRACKER_ARNS = "arn:aws:personalize:us-east-1:123456789012:event-tracker/*"
NAME = "retail-recommendations"  # the sample event's dataset group


def failed_with(execution: Any) -> list[str]:
    return [
        e["lambdaFunctionFailedEventDetails"]["error"] for e in execution.history if e["type"] == "LambdaFunctionFailed"
    ]


# ------------------------------------------------------------------ IAM
def test_every_call_of_a_run_is_allowed_by_its_functions_role(stack: LocalEngine) -> None:
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert stack.enforce_iam and stack.denied == []


def test_a_dropped_statement_is_denied(stack: LocalEngine) -> None:
    statements = stack.policies["CheckEventTrackerFunction"][0]["Statement"]
    statements[:] = [s for s in statements if s["Action"] != "personalize:DescribeEventTracker"]
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "FAILED"
    assert "not authorized to perform: personalize:DescribeEventTracker" in execution.cause
    assert stack.denied and all(
        d.startswith("CheckEventTrackerFunction: personalize:DescribeEventTracker on arn:aws:personalize:")
        for d in stack.denied
    )


def test_an_action_with_no_resource_type_scoped_to_arns_is_denied(stack: LocalEngine) -> None:
    """What the template granted before AWS's reference was read: ListTagsForResource on dataset-group/*."""
    for statement in stack.policies["CreateOrAdoptTrackerFunction"][0]["Statement"]:
        if statement["Resource"] == "*":
            statement["Resource"] = dataset_group_arn("*")
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "FAILED"
    assert stack.denied[0] == "CreateOrAdoptTrackerFunction: personalize:ListTagsForResource on *"


def test_a_secure_string_needs_its_key(make_stack: Callable[..., LocalEngine]) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stack = make_stack(ParameterType="SecureString", KmsKeyId=key)
    for policy in stack.policies["CheckEventTrackerFunction"]:
        policy["Statement"] = [s for s in policy["Statement"] if s["Action"] != "kms:Encrypt"]
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "FAILED"
    assert stack.denied == [f"CheckEventTrackerFunction: kms:Encrypt on {key}"]


# ------------------------------------------------------------------ hung calls
@pytest.mark.parametrize("reported_as", ["Sandbox.Timedout", None])
def test_an_execution_survives_a_hung_status_check(
    make_stack: Callable[..., LocalEngine], emulator: PersonalizeEmulator, reported_as: str | None
) -> None:
    stack = make_stack(engine={"function_timeouts": {"CheckEventTrackerFunction": 1}, "timeout_error": reported_as})
    stack.create_dataset_group(NAME)
    inject(Fault("personalize", "DescribeEventTracker", hang=3), emulator=emulator)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert failed_with(execution) == [reported_as or "Lambda.Unknown"]
    assert stack.timed_out == ["CheckEventTrackerFunction"]
    [tracker] = emulator.trackers_of(NAME)
    assert stack.parameter(stack.parameter_name(NAME))["Value"] == tracker["trackingId"]


@pytest.mark.parametrize("hung", [1, 2])
def test_a_hung_create_is_adopted_by_the_next_attempt_not_duplicated(
    make_stack: Callable[..., LocalEngine], emulator: PersonalizeEmulator, hung: int
) -> None:
    """CreateEventTracker created the tracker, then hung past the function's Timeout (alone, or after an attempt
    that hung before it): the next attempt adopts what the hung one created."""
    stack = make_stack(engine={"function_timeouts": {"CreateOrAdoptTrackerFunction": 1}})
    stack.create_dataset_group(NAME)
    if hung == 2:  # first the opt-out check hangs, then the create
        inject(Fault("personalize", "ListTagsForResource", hang=3), emulator=emulator)
    inject(Fault("personalize", "CreateEventTracker", hang=3), emulator=emulator)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert failed_with(execution) == ["Sandbox.Timedout"] * hung
    assert execution.output["adopted"] is True
    [tracker] = emulator.trackers_of(NAME)
    assert execution.output["eventTrackerArn"] == tracker["eventTrackerArn"]
    assert stack.parameter(stack.parameter_name(NAME))["Value"] == tracker["trackingId"]


def test_a_call_hung_past_the_read_timeout_is_retried_by_the_client(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    """Within the function's Timeout: botocore's read timeout ends the attempt, its retry finds the tracker."""
    stack.create_dataset_group(NAME)
    inject(Fault("personalize", "CreateEventTracker", hang=6), emulator=emulator)  # READ_TIMEOUT is 5 s

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert failed_with(execution) == [] and stack.timed_out == []
    assert execution.output["adopted"] is True
    assert len(emulator.trackers_of(NAME)) == 1


# ------------------------------------------------------------------ half-done writes
def test_a_new_parameter_is_created_with_its_tags_in_one_call(stack: LocalEngine) -> None:
    inject(Fault("ssm", "AddTagsToResource", "InternalServerError", times=5), stack)  # never called for a new one
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", (execution.cause, execution.states_entered(), execution.failed_tasks)
    tags = stack.parameter(stack.parameter_name(NAME))["Tags"]
    assert tags["event-tracker-provisioner:dataset-group-arn"] == dataset_group_arn(NAME)


def test_a_parameter_whose_tagging_failed_is_tagged_by_the_next_scheduled_run(stack: LocalEngine) -> None:
    name = stack.parameter_name(NAME)
    stack.ssm.put_parameter(Name=name, Value="written by hand", Type="String")  # exists: overwritten, then tagged
    inject(Fault("ssm", "AddTagsToResource", "AccessDeniedException"), stack)  # a 5xx would be waited out
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "FAILED"  # loudly: the store failed
    written = stack.parameter(name)
    assert written["Value"] == execution_tracking_id(stack) and written["Tags"] == {}

    report = stack.call("ReconcilerFunction", event("scheduled-event.json"))

    assert report["retagged"] == [name] and report["started"] == []
    assert stack.parameter(name)["Tags"] == {
        "event-tracker-provisioner:dataset-group-arn": dataset_group_arn(NAME),
        "event-tracker-provisioner:event-tracker-arn": stack.personalize.list_event_trackers(
            datasetGroupArn=dataset_group_arn(NAME)
        )["eventTrackers"][0]["eventTrackerArn"],
    }
    assert stack.call("ReconcilerFunction", event("scheduled-event.json"))["retagged"] == []


def execution_tracking_id(stack: LocalEngine) -> str:
    [tracker] = stack.personalize.list_event_trackers(datasetGroupArn=dataset_group_arn(NAME))["eventTrackers"]
    return stack.personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])["eventTracker"][
        "trackingId"
    ]


# ------------------------------------------------------------------ StartExecution
def test_start_execution_answers_as_aws_does(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group(NAME, Timing(pending=3))
    stack.create_dataset_group(NAME)
    workflow_input = {"datasetGroupArn": dataset_group_arn(NAME)}
    arn = stack.start(workflow_input, name="one-name")

    assert stack.start(workflow_input, name="one-name") == arn  # running, same input: that execution
    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        stack.start({"datasetGroupArn": dataset_group_arn("other")}, name="one-name")  # another input
    assert stack.wait(arn).status == "SUCCEEDED"
    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        stack.start(workflow_input, name="one-name")  # closed: the name stays taken


def test_after_a_failed_execution_the_same_hours_run_starts_a_new_one(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    stack.create_dataset_group(NAME)
    inject(Fault("personalize", "CreateEventTracker", "InvalidInputException"), emulator=emulator)
    scheduled = event("scheduled-event.json")

    first = stack.call("ReconcilerFunction", scheduled)
    [failed] = wait_for_executions(stack)
    assert first["started"] == [NAME] and failed.status == "FAILED"

    second = stack.call("ReconcilerFunction", scheduled)  # the same hour

    assert second["started"] == [NAME] and second["joined"] == []
    retried = [e for e in wait_for_executions(stack) if e.arn != failed.arn]
    assert [e.arn.rsplit(":", 1)[1] for e in retried] == [failed.arn.rsplit(":", 1)[1] + "-2"]
    assert retried[0].status == "SUCCEEDED", retried[0].cause


def test_a_start_that_joined_a_running_execution_is_reported_apart(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    """Another run of the same hour started it after this run listed the running executions."""
    emulator.time_dataset_group(NAME, Timing(pending=6 / stack.time_scale))  # running for 6 s of real time
    stack.create_dataset_group(NAME)
    scheduled = event("scheduled-event.json")
    first = stack.call("ReconcilerFunction", scheduled)
    executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    time.sleep(1.5)  # beyond the reconciler's tolerance for clock skew

    second = call_with_client(stack, "ReconcilerFunction", scheduled, "stepfunctions", ListsNoneRunning)

    assert first["started"] == [NAME]
    assert second["joined"] == [NAME] and second["started"] == []
    assert len(stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]) == len(executions)
    stack.sfn.stop_execution(executionArn=executions[0]["executionArn"])  # its job here is done


class ListsNoneRunning:
    """The reconciler's Step Functions client, as it was when it listed before the other run's start."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_paginator(self, name: str) -> Any:
        if name == "list_executions":
            return type("Empty", (), {"paginate": staticmethod(lambda **kwargs: [{"executions": []}])})()
        return self._client.get_paginator(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def call_with_client(stack: LocalEngine, function: str, payload: Any, variable: str, wrapper: Any) -> Any:
    """Invoke a function with one of its module's clients wrapped (the handler reads its module's globals)."""
    module = vars(stack.module(function))
    own = module[variable]
    module[variable] = wrapper(own)
    try:
        return stack.call(function, payload)
    finally:
        module[variable] = own


# ------------------------------------------------------------------ malformed answers
def test_a_malformed_answer_leaves_one_group_unchecked_and_the_run_goes_on(
    stack: LocalEngine, emulator: PersonalizeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("broken", "fine"):
        stack.create_dataset_group(name)
        assert stack.run({"datasetGroupArn": dataset_group_arn(name)}).status == "SUCCEEDED"
    [broken] = emulator.trackers_of("broken")
    describe = emulator._op_DescribeEventTracker

    def without_tracking_id(params: dict[str, Any]) -> dict[str, Any]:
        answer = json.loads(json.dumps(describe(params)))
        if params["eventTrackerArn"] == broken["eventTrackerArn"]:
            del answer["eventTracker"]["trackingId"]
        return answer

    monkeypatch.setattr(emulator, "_op_DescribeEventTracker", without_tracking_id)

    report = stack.call("ReconcilerFunction", event("scheduled-event.json"))

    assert report["checked"] == 1 and report["skipped"]["fine"] == "tracker and parameter are in place"
    assert list(report["unchecked"]) == ["broken"]
    assert "no trackingId" in report["unchecked"]["broken"]
