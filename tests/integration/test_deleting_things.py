"""Day two: the application never stands in the way of the people, scripts and stacks that delete trackers,
datasets and groups (issue 27's journeys), on the local engine with Personalize's deletion rules in the emulator.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common import holds
from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.fakes import cloudtrail
from tests.fakes.cloudformation import SHAPES, LocalCloudFormation, Stack, StackResource
from tests.helpers import ACCOUNT, REGION, create_event, dataset_group_arn, event, wait_for_executions

SCHEMA = f"arn:aws:personalize:{REGION}:{ACCOUNT}:schema/interactions"
DELETING = Timing(deleting=5)  # a tracker takes 20 to 40 s to go in AWS; 5 s here, 1 s on the engine's clock
GROUP = "shop"
ARN = dataset_group_arn(GROUP)
PARAMETER = f"/personalize/{GROUP}/tracking-id"
HOLD = f"/personalize/{GROUP}/tracker-hold"


@pytest.fixture
def stack(make_stack: Any, emulator: PersonalizeEmulator) -> LocalEngine:
    emulator.tracker_timing = DELETING
    return make_stack(CloudFormationGraceSeconds=0)


def provisioned(stack: LocalEngine, name: str = GROUP) -> dict[str, Any]:
    """A group made, with its Item interactions dataset, and its tracker provisioned from its event."""
    answer, created = cloudtrail.call(stack.personalize, "CreateDatasetGroup", name=name)
    interactions, _ = cloudtrail.call(
        stack.personalize,
        "CreateDataset",
        name=f"{name}-interactions",
        schemaArn=SCHEMA,
        datasetGroupArn=answer["datasetGroupArn"],
        datasetType="Interactions",
    )
    settled(stack, created, name)
    [tracker] = stack.emulator.trackers_of(name)
    return {
        "group": answer["datasetGroupArn"],
        "interactions": interactions["datasetArn"],
        "tracker": tracker["eventTrackerArn"],
        "trackingId": tracker["trackingId"],
    }


def settled(stack: LocalEngine, created: dict[str, Any], name: str = GROUP) -> None:
    """The workflow started from a CreateDatasetGroup event, run to its end: the group has its tracker."""
    execution = stack.wait(stack.start(created))
    assert execution.status == "SUCCEEDED", execution.cause
    [tracker] = stack.emulator.trackers_of(name)
    assert stack.parameter(f"/personalize/{name}/tracking-id")["Value"] == tracker["trackingId"]


def an_hour_later(stack: LocalEngine, hours: int = 1) -> dict[str, Any]:
    """The schedule: the reconciler, then the sweeper; the executions it started, settled."""
    when = datetime.now(UTC) + timedelta(hours=hours)
    scheduled = {**event("scheduled-event.json"), "time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    report = stack.call("ReconcilerFunction", scheduled)
    wait_for_executions(stack)
    stack.call("SweeperFunction", scheduled)
    return report


def gone(stack: LocalEngine, tracker_arn: str) -> None:
    """Wait until Personalize no longer counts the tracker (AWS's clean-up scripts wait the same way)."""
    for _ in range(200):
        if tracker_arn not in {t["eventTrackerArn"] for t in stack.emulator.trackers_of(GROUP)}:
            return
        import time

        time.sleep(0.01)
    raise AssertionError(f"{tracker_arn} still there")


def deleted_by_a_person(stack: LocalEngine) -> dict[str, Any]:
    """A provisioned group whose tracker a person deleted (its event delivered), once Personalize no longer has it."""
    made = provisioned(stack)
    _, deletion = cloudtrail.call(stack.personalize, "DeleteEventTracker", eventTrackerArn=made["tracker"])
    stack.deliver(deletion)
    gone(stack, made["tracker"])
    return made


def deleted_notices(stack: LocalEngine) -> list[dict[str, Any]]:
    return [n for n in stack.notifications() if n["detail-type"] == "Event Tracker Deleted"]


# ------------------------------------------------------------------ 1. a person tears a group down
def test_a_tracker_a_person_deleted_is_never_made_again_and_that_is_said_once(stack: LocalEngine) -> None:
    made = provisioned(stack)
    tracker = made["tracker"]
    _, deletion = cloudtrail.call(stack.personalize, "DeleteEventTracker", eventTrackerArn=tracker)

    stack.deliver(deletion)
    stack.deliver(deletion)  # delivered twice: said once all the same

    assert stack.parameter(PARAMETER) is None
    hold = json.loads(stack.parameter(HOLD)["Value"])
    assert (hold["kind"], hold["by"], hold["at"]) == (
        "deleted",
        cloudtrail.PERSON["arn"],
        deletion["detail"]["eventTime"],
    )
    assert "start by hand" in stack.parameter(HOLD)["Description"]  # where a person looks: Parameter Store
    [notice] = deleted_notices(stack)
    assert notice["detail"]["deletedBy"] == cloudtrail.PERSON["arn"]
    assert notice["detail"]["restore"].startswith(
        f"aws stepfunctions start-execution --state-machine-arn {stack.state_machine_arn}"
    )
    gone(stack, tracker)
    # Missed creations and older groups are still provisioned, this one is not: hour after hour.
    stack.create_dataset_group("missed")
    for hours in (1, 2, 3):
        report = an_hour_later(stack, hours)
        assert GROUP in report["held"] and GROUP not in report["started"]
    assert stack.emulator.trackers_of(GROUP) == []
    assert len(stack.emulator.trackers_of("missed")) == 1
    assert stack.parameter(HOLD) is not None and len(deleted_notices(stack)) == 1
    # A late CreateDatasetGroup event does not make it either.
    late = stack.run(create_event(GROUP))
    assert late.status == "SUCCEEDED" and late.output["outcome"] == "skipped" and "deleted by" in late.output["reason"]
    assert stack.emulator.trackers_of(GROUP) == []


def test_a_tracker_that_vanished_without_an_event_is_held_as_deleted_by_unknown(stack: LocalEngine) -> None:
    made = provisioned(stack)
    stack.personalize.delete_event_tracker(eventTrackerArn=made["tracker"])  # the event is lost

    report = an_hour_later(stack)

    assert GROUP in report["held"] and report["started"] == []
    gone(stack, made["tracker"])
    hold = json.loads(stack.parameter(HOLD)["Value"])
    assert (hold["kind"], hold["by"], hold["at"]) == ("deleted", "unknown", "unknown")
    assert stack.parameter(PARAMETER) is None
    assert len(deleted_notices(stack)) == 1
    an_hour_later(stack, 2)
    assert stack.emulator.trackers_of(GROUP) == [] and len(deleted_notices(stack)) == 1


def test_a_start_by_hand_brings_the_tracker_back_and_clears_the_record(stack: LocalEngine) -> None:
    deleted_by_a_person(stack)

    by_hand = stack.run({"datasetGroupArn": ARN})

    assert by_hand.status == "SUCCEEDED", by_hand.cause
    [tracker] = stack.emulator.trackers_of(GROUP)
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]
    assert stack.parameter(HOLD) is None
    assert an_hour_later(stack)["held"] == {}


def test_a_start_by_hand_during_the_deletion_waits_for_it_then_brings_the_tracker_back(stack: LocalEngine) -> None:
    """Its deletion's event lost, the old tracker still being deleted: CreateEventTracker is refused, so the workflow
    waits for the deletion to end, then creates (it used to fail with EventTrackerFailed, and the next hour's run then
    held the group as deleted by unknown: the person's start was lost; the convergence test found it)."""
    made = provisioned(stack)
    cloudtrail.call(stack.personalize, "DeleteEventTracker", eventTrackerArn=made["tracker"])  # its event lost

    by_hand = stack.run({"datasetGroupArn": ARN})

    assert by_hand.status == "SUCCEEDED", by_hand.cause
    assert by_hand.failed_tasks == [] and "WaitToCreateTracker" in by_hand.states_entered()
    [tracker] = stack.emulator.trackers_of(GROUP)
    assert tracker["eventTrackerArn"] != made["tracker"]
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]
    assert an_hour_later(stack)["held"] == {}


def test_the_person_finishes_the_teardown_and_nothing_is_left(stack: LocalEngine) -> None:
    made = provisioned(stack)
    _, deletion = cloudtrail.call(stack.personalize, "DeleteEventTracker", eventTrackerArn=made["tracker"])
    stack.deliver(deletion)
    an_hour_later(stack)  # the hourly run between the person's steps
    gone(stack, made["tracker"])
    answer, dataset_deleted = cloudtrail.call(stack.personalize, "DeleteDataset", datasetArn=made["interactions"])
    assert "errorCode" not in dataset_deleted["detail"], answer
    stack.deliver(dataset_deleted)
    an_hour_later(stack, 2)
    answer, group_deleted = cloudtrail.call(stack.personalize, "DeleteDatasetGroup", datasetGroupArn=ARN)
    assert "errorCode" not in group_deleted["detail"], answer

    stack.deliver(group_deleted)

    assert stack.parameters() == []  # the hold went with the group
    assert stack.emulator.trackers_of(GROUP) == []


# ------------------------------------------------------------------ 2. a stack with a group and its datasets
TEMPLATE = [  # a stack's group and its Item interactions dataset, and no tracker
    StackResource("Group", "AWS::Personalize::DatasetGroup", {"Name": GROUP}),
    StackResource(
        "Interactions",
        "AWS::Personalize::Dataset",
        {
            "Name": f"{GROUP}-interactions",
            "DatasetType": "Interactions",
            "DatasetGroupArn": {"Fn::GetAtt": ["Group", "DatasetGroupArn"]},
            "SchemaArn": SCHEMA,
        },
    ),
]


def by_a_stack(stack: LocalEngine, provision: bool = True) -> tuple[LocalCloudFormation, Stack]:
    """The stack `recommendations` creates its group and dataset (CloudFormation's tags on them); the group's
    tracker is provisioned from the CreateDatasetGroup event."""
    cloudformation = LocalCloudFormation(stack)
    made, events = cloudformation.create_stack("recommendations", copy.deepcopy(TEMPLATE))
    if provision:
        settled(stack, events[0])
    return cloudformation, made


def quick_hook(stack: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook polls in steps of the engine's clock (CloudFormation's callback delay is scaled by the driver)."""
    module = stack.module("ReleaseTrackerFunction")
    monkeypatch.setattr(module, "POLL_SECONDS", 0.2)
    monkeypatch.setattr(module, "HOOK_CALLBACK_SECONDS", 1)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_stack_deletion_goes_through_the_hook_the_first_time(stack: LocalEngine, monkeypatch, shape: str) -> None:
    """With the request as the Hooks user guide words it (previousResourceProperties) and as cloudformation-cli's
    contract tests send it (resourceProperties)."""
    cloudformation, made = by_a_stack(stack)
    quick_hook(stack, monkeypatch)

    deletion = cloudformation.delete_stack(made, shape=shape)

    assert deletion.status == "DELETE_COMPLETE", deletion
    assert deletion.requests[0]["requestData"]["targetModel"][shape]["DatasetType"] == "Interactions"
    statuses = [answer["hookStatus"] for answer in deletion.hook_answers]
    assert statuses[-1] == "SUCCESS" and "FAILED" not in statuses, deletion.hook_answers
    assert deletion.refused == [] and deletion.deleted == ["Interactions", "Group"]
    assert stack.parameters() == []  # the teardown saw the group go
    assert stack.dead_letters == []


def test_with_the_hook_off_the_first_deletion_fails_and_the_retry_succeeds(make_stack, emulator) -> None:
    emulator.tracker_timing = DELETING
    stack = make_stack(CloudFormationGraceSeconds=0, DeletionHook="Disabled")
    cloudformation, made = by_a_stack(stack)
    assert cloudformation.hooks("AWS::Personalize::Dataset") == []

    first = cloudformation.delete_stack(made)

    assert first.status == "DELETE_FAILED" and first.refused == ["Interactions: ResourceInUseException"]
    # CloudTrail's record of the refusal released the tracker; the hourly run does not make it again.
    hold = json.loads(stack.parameter(HOLD)["Value"])
    assert hold["kind"] == "released" and "cloudformation.amazonaws.com" in hold["by"]
    assert GROUP in an_hour_later(stack)["held"]
    assert stack.emulator.trackers_of(GROUP) == []
    retry = cloudformation.delete_stack(made)
    assert retry.status == "DELETE_COMPLETE", retry
    assert stack.parameters() == []


def test_the_hook_never_touches_a_tracker_it_did_not_make(stack: LocalEngine, monkeypatch) -> None:
    cloudformation, made = by_a_stack(stack, provision=False)
    group = made.resources[0].arn
    theirs = stack.personalize.create_event_tracker(name="theirs", datasetGroupArn=group)["eventTrackerArn"]
    assert stack.run({"datasetGroupArn": group}).output["adopted"] is True
    quick_hook(stack, monkeypatch)

    deletion = cloudformation.delete_stack(made)

    assert [a["hookStatus"] for a in deletion.hook_answers] == ["SUCCESS"], deletion.hook_answers
    assert "not made by this application" in deletion.hook_answers[0]["message"]
    assert deletion.status == "DELETE_FAILED"  # as it would without the application: the stack's own business
    assert [t["eventTrackerArn"] for t in stack.emulator.trackers_of(GROUP)] == [theirs]
    # Nor does the refusal's event (delivered by the stack's deletion): not the application's to delete.
    assert deletion.refused == ["Interactions: ResourceInUseException"]
    assert stack.emulator.trackers_of(GROUP)[0]["status"] == "ACTIVE"


# ------------------------------------------------------------------ 3. a script that never made a tracker
def test_a_script_deleting_a_group_is_refused_once_and_then_succeeds(stack: LocalEngine) -> None:
    made = provisioned(stack)
    _, refused = cloudtrail.call(stack.personalize, "DeleteDataset", datasetArn=made["interactions"])
    assert refused["detail"]["errorCode"] == "ResourceInUseException"

    results = stack.deliver(refused)

    assert results["ReleaseTrackerFunction"]["released"] is True
    assert stack.emulator.trackers_of(GROUP) == []  # the release waited until Personalize no longer counts it
    assert stack.parameter(PARAMETER) is None and json.loads(stack.parameter(HOLD)["Value"])["kind"] == "released"
    assert GROUP in an_hour_later(stack)["held"]  # most likely being torn down: not made again
    # CloudTrail records the application's own DeleteEventTracker too: not "someone deleted it".
    own = {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ReleaseTrackerRole/release"}
    stack.deliver(cloudtrail.record("DeleteEventTracker", {"eventTrackerArn": made["tracker"]}, identity=own))
    assert json.loads(stack.parameter(HOLD)["Value"])["kind"] == "released"
    _, dataset_deleted = cloudtrail.call(stack.personalize, "DeleteDataset", datasetArn=made["interactions"])
    assert "errorCode" not in dataset_deleted["detail"]
    _, group_deleted = cloudtrail.call(stack.personalize, "DeleteDatasetGroup", datasetGroupArn=ARN)
    assert "errorCode" not in group_deleted["detail"]
    stack.deliver(group_deleted)
    assert stack.parameters() == []
    assert deleted_notices(stack) == []  # the application's own removal is not "someone deleted it"


def test_a_refused_group_deletion_releases_the_tracker_too(stack: LocalEngine) -> None:
    provisioned(stack)
    _, refused = cloudtrail.call(stack.personalize, "DeleteDatasetGroup", datasetGroupArn=ARN)
    assert refused["detail"]["errorCode"] == "ResourceInUseException"
    assert stack.deliver(refused)["ReleaseTrackerFunction"]["released"] is True
    assert stack.emulator.trackers_of(GROUP) == []


def test_a_new_item_interactions_dataset_brings_a_released_tracker_back(stack: LocalEngine) -> None:
    made = provisioned(stack)
    _, refused = cloudtrail.call(stack.personalize, "DeleteDataset", datasetArn=made["interactions"])
    stack.deliver(refused)
    stack.personalize.delete_dataset(datasetArn=made["interactions"])
    # The group lives on: a stack update or a person replaces its Item interactions dataset.
    _, replaced = cloudtrail.call(
        stack.personalize, "CreateDataset", name="again", schemaArn=SCHEMA, datasetGroupArn=ARN,
        datasetType="INTERACTIONS",
    )  # fmt: skip

    [execution] = [stack.wait(arn) for arn in [stack.deliver(replaced)["ProvisionEventTrackerStateMachine"]]]

    assert execution.status == "SUCCEEDED", execution.cause
    [tracker] = stack.emulator.trackers_of(GROUP)
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]
    assert stack.parameter(HOLD) is None


def test_a_new_item_interactions_dataset_does_not_lift_a_persons_deletion(stack: LocalEngine) -> None:
    made = deleted_by_a_person(stack)
    stack.personalize.delete_dataset(datasetArn=made["interactions"])
    _, replaced = cloudtrail.call(
        stack.personalize, "CreateDataset", name="again", schemaArn=SCHEMA, datasetGroupArn=ARN,
        datasetType="Interactions",
    )  # fmt: skip
    execution = stack.wait(stack.deliver(replaced)["ProvisionEventTrackerStateMachine"])
    assert execution.output["outcome"] == "skipped" and stack.emulator.trackers_of(GROUP) == []


# ------------------------------------------------------------------ 4. made again under the same name
def test_a_late_deletion_event_spares_the_group_made_again_under_the_same_name(stack: LocalEngine) -> None:
    made = provisioned(stack)
    _, tracker_deleted = cloudtrail.call(stack.personalize, "DeleteEventTracker", eventTrackerArn=made["tracker"])
    gone(stack, made["tracker"])
    stack.personalize.delete_dataset(datasetArn=made["interactions"])
    _, group_deleted = cloudtrail.call(stack.personalize, "DeleteDatasetGroup", datasetGroupArn=ARN)
    assert "errorCode" not in group_deleted["detail"]
    again = provisioned(stack)  # the same name, the same ARN; the deletion events have not arrived yet

    stack.deliver(tracker_deleted)
    stack.deliver(group_deleted)
    stack.deliver(group_deleted)

    assert stack.parameter(PARAMETER)["Value"] == again["trackingId"]
    assert stack.parameter(HOLD) is None and deleted_notices(stack) == []
    assert an_hour_later(stack)["started"] == []  # nothing to repair: it was never removed


def test_a_late_tracker_deletion_holds_nothing_against_the_group_made_again_before_its_provisioning(
    stack: LocalEngine,
) -> None:
    """The earlier group's parameter still names the deleted tracker (its group's deletion event was lost) when the
    event arrives: the tracker was the earlier group's, so the new group gets no hold and the next hour provisions it
    (found by the convergence test)."""
    made = provisioned(stack)
    _, tracker_deleted = cloudtrail.call(stack.personalize, "DeleteEventTracker", eventTrackerArn=made["tracker"])
    gone(stack, made["tracker"])
    stack.personalize.delete_dataset(datasetArn=made["interactions"])
    stack.personalize.delete_dataset_group(datasetGroupArn=ARN)  # its event lost
    stack.create_dataset_group(GROUP)  # its event lost too: the next hour's reconciler is its way in

    stack.deliver(tracker_deleted)

    assert stack.parameter(HOLD) is None and deleted_notices(stack) == []
    assert an_hour_later(stack)["started"] == [GROUP]
    [tracker] = stack.emulator.trackers_of(GROUP)
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]


# ------------------------------------------------------------------ 5. a failed tracker
def test_a_failed_tracker_is_reported_once(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_tracker(GROUP, Timing(fails_with="no Item interactions schema"))
    stack.create_dataset_group(GROUP)

    first = stack.run(create_event(GROUP))

    assert (first.status, first.error) == ("FAILED", "EventTrackerFailed")
    for hours in (1, 2, 3):
        report = an_hour_later(stack, hours)
        assert report["started"] == [] and "failed" in report["held"][GROUP]
    executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert [e["status"] for e in executions] == ["FAILED"]
    failures = [n for n in stack.notifications() if n["detail-type"] == "Event Tracker Provisioning Failed"]
    assert len(failures) == 1
    # Someone acts: a start by hand tries again (and fails again, loudly, as asked).
    assert stack.run({"datasetGroupArn": ARN}).error == "EventTrackerFailed"


# ------------------------------------------------------------------ the holds' own rules
def test_a_hold_of_an_earlier_group_of_the_same_name_holds_nothing_back(stack: LocalEngine) -> None:
    earlier = holds.Hold(holds.DELETED, ARN, 1_000_000.0, "arn:aws:personalize:us-east-1:1:event-tracker/x", "a", "b")
    holds.record_hold(stack.ssm, "/personalize", GROUP, earlier)
    stack.create_dataset_group(GROUP)

    report = an_hour_later(stack)

    assert report["started"] == [GROUP] and report["held"] == {}
    assert len(stack.emulator.trackers_of(GROUP)) == 1
    assert stack.parameter(HOLD) is None  # cleared when the tracker was made, or swept


# ------------------------------------------------------------------ uninstalling
def test_uninstalling_leaves_trackers_and_parameters_and_the_leftovers_tool_removes_only_the_applications(
    stack: LocalEngine,
) -> None:
    """Deleting the stack deletes none of them (they are not stack resources); tools/leftovers.py lists and deletes
    the trackers the application made and the parameters it wrote, and nothing else."""
    from tools.leftovers import delete, leftovers

    made = provisioned(stack)
    stack.create_dataset_group("theirs")
    adopted = stack.personalize.create_event_tracker(name="theirs", datasetGroupArn=dataset_group_arn("theirs"))
    assert stack.run({"datasetGroupArn": dataset_group_arn("theirs")}).output["adopted"] is True
    stack.ssm.put_parameter(Name="/personalize/shop/notes", Value="by hand", Type="String")
    stack_resources_kinds = {r["Type"] for r in stack.template.doc["Resources"].values()}
    assert not stack_resources_kinds & {"AWS::Personalize::EventTracker", "AWS::SSM::Parameter"}

    found = leftovers(stack.personalize, stack.ssm, "/personalize")

    assert found.trackers == [made["tracker"]]
    assert sorted(found.parameters) == [PARAMETER, "/personalize/theirs/tracking-id"]
    delete(stack.personalize, stack.ssm, found)
    assert stack.parameters() == ["/personalize/shop/notes"]
    assert [t["eventTrackerArn"] for t in stack.emulator.trackers_of("theirs")] == [adopted["eventTrackerArn"]]
