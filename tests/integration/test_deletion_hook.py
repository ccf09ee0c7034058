"""The deletion path as AWS documents it (issue 31), on the local engine with CloudFormation's hook driver: the
request in either shape, only a stack's own resources, CloudFormation's 30 s and three invocations, IAM's
resource-tag condition, the refusal rule's spellings, and the clean-up of a stack update, which no hook sees."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.fakes.cloudformation import LocalCloudFormation, Stack, StackResource
from tests.helpers import event
from tests.integration.test_deleting_things import (
    ARN,
    DELETING,
    GROUP,
    HOLD,
    PARAMETER,
    SCHEMA,
    by_a_stack,
    provisioned,
    quick_hook,
)

HOOK = "ReleaseTrackerFunction"


@pytest.fixture
def stack(make_stack: Any, emulator: PersonalizeEmulator) -> LocalEngine:
    emulator.tracker_timing = DELETING
    return make_stack(CloudFormationGraceSeconds=0)


def hook_of(cloudformation: LocalCloudFormation, resource_type: str) -> dict[str, Any]:
    [hook] = cloudformation.hooks(resource_type)
    return hook


def interactions(group_arn: str, **properties: Any) -> StackResource:
    declared = {"Name": f"{GROUP}-interactions", "DatasetType": "Interactions", "DatasetGroupArn": group_arn}
    return StackResource("Interactions", "AWS::Personalize::Dataset", {**declared, "SchemaArn": SCHEMA, **properties})


def still_provisioned(stack: LocalEngine, tracker: str) -> None:
    assert [t["eventTrackerArn"] for t in stack.emulator.trackers_of(GROUP)] == [tracker]
    assert stack.emulator.trackers_of(GROUP)[0]["status"] == "ACTIVE"
    assert stack.parameter(PARAMETER) is not None and stack.parameter(HOLD) is None


# ------------------------------------------------------------------ whose resource it is
def test_a_stack_that_owns_only_the_item_interactions_dataset_deletes_the_first_time(stack, monkeypatch) -> None:
    """A person made the group (and the application its tracker); a stack made only the dataset in it."""
    group = stack.create_dataset_group(GROUP)
    assert stack.run({"datasetGroupArn": group}).status == "SUCCEEDED"
    cloudformation = LocalCloudFormation(stack)
    made, _ = cloudformation.create_stack("datasets-only", [interactions(group)])
    quick_hook(stack, monkeypatch)

    deletion = cloudformation.delete_stack(made)

    assert deletion.status == "DELETE_COMPLETE", deletion
    assert deletion.hook_answers[-1]["hookStatus"] == "SUCCESS" and deletion.refused == []
    assert stack.emulator.trackers_of(GROUP) == []  # released: the dataset could go
    assert json.loads(stack.parameter(HOLD)["Value"])["kind"] == "released"


@pytest.mark.parametrize(
    "target",
    [
        StackResource("Group", "AWS::Personalize::DatasetGroup", {"Name": GROUP}),
        StackResource("Group", "AWS::Personalize::DatasetGroup", {"DatasetGroupArn": ARN}),
        interactions(ARN),
        "the dataset's ARN",
    ],
    ids=["group-by-name", "group-by-arn", "dataset-by-group", "dataset-by-arn"],
)
def test_a_stack_that_owns_neither_the_group_nor_its_dataset_takes_nothing(
    stack: LocalEngine, target: StackResource | str
) -> None:
    """Whatever the request names, of another's: no stack-id tag of that stack, and CloudFormation knows no such
    stack resource (DescribeStackResource answers ValidationError here)."""
    made = provisioned(stack)
    if isinstance(target, str):
        target = StackResource("Interactions", "AWS::Personalize::Dataset", {"DatasetArn": made["interactions"]})
    cloudformation = LocalCloudFormation(stack)
    foreign = Stack("someone-elses", [target])

    _, answers = cloudformation.run_hook(hook_of(cloudformation, target.type), foreign, target)

    [answer] = answers
    assert answer["hookStatus"] == "SUCCESS", answer
    assert answer["message"].startswith(f"Nothing released: stack {foreign.stack_id} does not manage")
    assert "aws:cloudformation:stack-id" in answer["message"] and "CloudFormation could not say" in answer["message"]
    still_provisioned(stack, made["tracker"])


def test_a_stack_whose_resource_carries_another_stacks_tag_takes_nothing(stack: LocalEngine) -> None:
    cloudformation, made = by_a_stack(stack)
    [tracker] = stack.emulator.trackers_of(GROUP)
    impostor = Stack("impostor", copy.deepcopy(made.resources))
    hook = hook_of(cloudformation, "AWS::Personalize::Dataset")

    _, answers = cloudformation.run_hook(hook, impostor, made.resources[1])

    assert answers[-1]["hookStatus"] == "SUCCESS" and answers[-1]["message"].startswith("Nothing released")
    still_provisioned(stack, tracker["eventTrackerArn"])


def test_a_cloud_control_request_acts_on_the_resource_it_names(stack: LocalEngine, monkeypatch) -> None:
    """No stackId: Cloud Control's delete-resource, by the group's primary identifier."""
    provisioned(stack)
    quick_hook(stack, monkeypatch)
    cloudformation = LocalCloudFormation(stack)
    group = StackResource("Group", "AWS::Personalize::DatasetGroup", {"DatasetGroupArn": ARN})
    missing = StackResource("Other", "AWS::Personalize::DatasetGroup", {"DatasetGroupArn": ARN + "-none"})

    requests, answers = cloudformation.run_hook(hook_of(cloudformation, group.type), None, group)
    _, nothing = cloudformation.run_hook(hook_of(cloudformation, group.type), None, missing)

    assert requests[0]["stackId"] == "" and answers[-1]["hookStatus"] == "SUCCESS", answers
    assert stack.emulator.trackers_of(GROUP) == []
    hold = json.loads(stack.parameter(HOLD)["Value"])
    assert (hold["kind"], hold["by"]) == ("released", "CloudFormation (Cloud Control API)")
    assert nothing[-1]["hookStatus"] == "SUCCESS" and "does not exist" in nothing[-1]["message"]


@pytest.mark.parametrize(
    "target, why",
    [
        (StackResource("Group", "AWS::Personalize::DatasetGroup", {}), "the request carries no properties"),
        (StackResource("Group", "AWS::Personalize::DatasetGroup", {"Tags": []}), "neither DatasetGroupArn nor Name"),
        (interactions(ARN, DatasetType="Users"), "no tracker blocks the deletion of a Users dataset"),
    ],
)
def test_a_request_that_names_nothing_to_release_says_so(stack: LocalEngine, target: StackResource, why: str) -> None:
    made = provisioned(stack)
    cloudformation = LocalCloudFormation(stack)

    _, answers = cloudformation.run_hook(hook_of(cloudformation, target.type), None, target)

    assert answers[-1]["hookStatus"] == "SUCCESS"
    assert answers[-1]["message"].startswith("Nothing released: ") and why in answers[-1]["message"]
    still_provisioned(stack, made["tracker"])


# ------------------------------------------------------------------ CloudFormation's limits
@pytest.mark.slow  # a deadline in real time, by design: `make test-slow`, which CI runs
def test_a_hung_personalize_call_still_answers_within_cloudformations_wait(
    stack: LocalEngine, emulator: PersonalizeEmulator, monkeypatch
) -> None:
    """ListEventTrackers hangs past the read timeout (5 s): the hook's single attempt ends, it asks again, and
    every invocation answers within 30 s (the driver counts a later answer as a failure)."""
    cloudformation, made = by_a_stack(stack)
    quick_hook(stack, monkeypatch)
    inject(Fault("personalize", "ListEventTrackers", hang=6), emulator=emulator)

    deletion = cloudformation.delete_stack(made)

    assert deletion.status == "DELETE_COMPLETE", deletion
    assert all(answer["hookStatus"] != "FAILED" for answer in deletion.hook_answers), deletion.hook_answers
    assert stack.emulator.trackers_of(GROUP) == []


@pytest.mark.slow  # a deadline in real time, by design: `make test-slow`, which CI runs
def test_the_third_answer_is_final(stack: LocalEngine, emulator: PersonalizeEmulator, monkeypatch) -> None:
    """A tracker still being created cannot be deleted: IN_PROGRESS twice (its callbackContext comes back as a
    JSON string), then FAILED, which FailureMode WARN turns into a warning."""
    emulator.tracker_timing = Timing(pending=3600)
    cloudformation, made = by_a_stack(stack, provision=False)
    stack.start({"datasetGroupArn": made.resources[0].arn})
    for _ in range(100):
        if stack.emulator.trackers_of(GROUP):
            break
        time.sleep(0.05)
    module = stack.module(HOOK)
    monkeypatch.setattr(module, "CLOUDFORMATION_WAIT_SECONDS", module.HOOK_DEADLINE.needed + 1.5)
    monkeypatch.setattr(module, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(module, "HOOK_CALLBACK_SECONDS", 1)

    requests, answers = cloudformation.run_hook(
        hook_of(cloudformation, "AWS::Personalize::Dataset"), made, made.resources[1]
    )

    assert [a["hookStatus"] for a in answers] == ["IN_PROGRESS", "IN_PROGRESS", "FAILED"], answers
    assert [r["requestContext"]["invocation"] for r in requests] == [1, 2, 3]
    assert isinstance(requests[1]["requestContext"]["callbackContext"], str)
    assert answers[-1]["message"].startswith("Still releasing the tracker") and answers[-1]["errorCode"]
    assert any("CREATE PENDING" in answer["message"] for answer in answers), answers
    assert len(stack.emulator.trackers_of(GROUP)) == 1  # Personalize cannot delete it yet: nothing was forced


# ------------------------------------------------------------------ IAM
def test_iam_itself_refuses_to_delete_a_tracker_the_application_did_not_make(stack: LocalEngine) -> None:
    """The role's DeleteEventTracker statement carries aws:ResourceTag/event-tracker-provisioner:made-by: the local
    IAM check evaluates it against the tracker's tags, as IAM does."""
    made = provisioned(stack)
    stack.create_dataset_group("theirs")
    theirs = stack.personalize.create_event_tracker(name="theirs", datasetGroupArn=ARN.replace(GROUP, "theirs"))

    with pytest.raises(ClientError) as denied:
        stack.authorize(HOOK, stack.personalize, "DeleteEventTracker", {"eventTrackerArn": theirs["eventTrackerArn"]})
    stack.authorize(HOOK, stack.personalize, "DeleteEventTracker", {"eventTrackerArn": made["tracker"]})

    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"personalize:DeleteEventTracker on resource: {theirs['eventTrackerArn']}" in str(denied.value)


# ------------------------------------------------------------------ CloudTrail's refusals
@pytest.mark.parametrize(
    "code, released",
    [
        ("ResourceInUseException", True),
        ("ResourceInUse", True),
        ("resourceInUseException", True),
        ("Client.ResourceInUseException", True),
        ("AccessDeniedException", False),
        ("ResourceNotFoundException", False),
    ],
)
def test_the_refusal_rule_matches_however_personalize_spells_the_error(
    stack: LocalEngine, code: str, released: bool
) -> None:
    refused = event("delete-dataset-group.json")
    refused["detail"]["errorCode"] = code
    expected = ["ReleaseTrackerFunction"] if released else []
    assert [rule.target for rule in stack.matching_rules(refused)] == expected


# ------------------------------------------------------------------ an update's clean-up: no hook
def test_an_update_that_removes_the_group_leaves_it_released_and_says_so(stack: LocalEngine) -> None:
    """The clean-up deletes without the hook; Personalize refuses; the update completes and the group stays in the
    account, outside the stack. CloudTrail's refusal releases the tracker, and the status view says what to do."""
    from tools.status import status

    cloudformation, made = by_a_stack(stack)

    remaining, cleanup = cloudformation.update_removing(made, "Group", "Interactions")

    assert (cleanup.status, cleanup.hook_answers) == ("UPDATE_COMPLETE", [])
    assert cleanup.refused == ["Interactions: ResourceInUseException", "Group: ResourceInUseException"]
    assert remaining.resources == []
    assert stack.emulator.trackers_of(GROUP) == []  # the CloudTrail path released it
    report = status(stack.personalize, stack.ssm, stack.sfn, _no_trail(), stack.state_machine_arn, "/personalize")
    line = report.groups[GROUP]
    assert line["state"] == "released for a deletion that has not happened", line
    assert "delete" in line["action"] and "start the workflow by hand" in line["action"]


def _no_trail() -> Any:
    class NoTrail:
        def describe_trails(self, **_: Any) -> dict[str, Any]:
            return {"trailList": []}

    return NoTrail()


def test_the_deletion_the_release_was_for_finishes_the_teardown(stack: LocalEngine, monkeypatch) -> None:
    cloudformation, made = by_a_stack(stack)
    _, _ = cloudformation.update_removing(made, "Group", "Interactions")
    quick_hook(stack, monkeypatch)

    again = cloudformation.delete_stack(made)  # a person deletes them again (here: the same resources, by a stack)

    assert again.status == "DELETE_COMPLETE", again
    assert stack.parameters() == []


def test_the_sample_hook_event_carries_the_properties_as_the_guide_says() -> None:
    model = event("hook-delete-dataset.json")["requestData"]["targetModel"]
    assert model["resourceProperties"] == {} and model["previousResourceProperties"]["DatasetType"] == "Interactions"
