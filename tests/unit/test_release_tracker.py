"""ReleaseTracker's hook, piece by piece: CloudFormation's request read every way AWS's words allow, whose resource
it is, and an invocation that runs out of its 30 s. botocore's Stubber answers as the services would."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from release_tracker import app

from common.clients import Deadline
from common.personalize import MADE_BY, TAG_MADE_BY
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import REGION, event

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/recommendations/0f1e2d3c"
GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"
DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/INTERACTIONS"
TRACKER = "arn:aws:personalize:us-east-1:123456789012:event-tracker/0a1b2c3d"


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


@pytest.mark.parametrize(
    "context, invocation",
    [
        ({"invocation": 1, "callbackContext": None}, 1),
        ({"invocation": 2, "callbackContext": {"inProgressAnswers": 1}}, 2),
        ({"invocation": 2, "callbackContext": json.dumps({"inProgressAnswers": 1})}, 2),  # typed String in the guide
        ({"callbackContext": json.dumps({"inProgressAnswers": 2})}, 3),  # no invocation: the answers counted
        ({"invocation": 3, "callbackContext": "not json"}, 3),
        ({}, 1),
    ],
)
def test_the_invocation_is_read_from_the_request_or_the_callback_context(context: dict, invocation: int) -> None:
    assert app.hook_invocation({"requestContext": context}) == invocation


@pytest.mark.parametrize("spelling", app.TOKEN_SPELLINGS)
def test_the_request_token_is_echoed_whatever_its_spelling(spelling: str) -> None:
    request = {spelling: "token-1", "requestData": {"targetName": "AWS::S3::Bucket"}}

    answer = app.on_hook(client("personalize"), client("ssm"), client("cloudformation"), "/p", request)

    assert answer["clientRequestToken"] == answer[spelling] == "token-1"
    assert answer["hookStatus"] == "SUCCESS" and answer["message"].startswith("Nothing released: AWS::S3::Bucket")


@pytest.mark.parametrize("field", app.PROPERTY_FIELDS)
def test_the_properties_come_from_whichever_field_holds_them(field: str) -> None:
    request = event("hook-delete-dataset.json")
    model = request["requestData"]["targetModel"]
    properties = model["previousResourceProperties"]
    model.update({"resourceProperties": None, "previousResourceProperties": None, field: properties})
    personalize = client("personalize")
    with Stubber(personalize) as stub:
        stub.add_response(
            "list_datasets",
            {"datasets": [{"datasetArn": DATASET, "datasetType": "INTERACTIONS"}]},
            {"datasetGroupArn": properties["DatasetGroupArn"]},
        )
        target = app.hook_target(personalize, request, "aws", REGION, "123456789012")
    assert (target.group_arn, target.resource_arn) == (properties["DatasetGroupArn"], DATASET)
    assert app.hook_properties(request) == (properties, field)


def tags(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"tags": [{"tagKey": key, "tagValue": value} for key, value in pairs]}


def test_a_resource_tagged_with_the_stack_is_the_stacks() -> None:
    personalize = client("personalize")
    with Stubber(personalize) as stub:
        stub.add_response("list_tags_for_resource", tags((app.STACK_ID_TAG, STACK)), {"resourceArn": GROUP})
        assert app.stack_manages(personalize, client("cloudformation"), STACK, "Group", GROUP) is None


def test_an_imported_resource_is_the_stacks_by_describe_stack_resource() -> None:
    """Imported into the stack, it carries no tag of it: CloudFormation's own record says it is the stack's."""
    personalize, cloudformation = client("personalize"), client("cloudformation")
    detail = {
        "LogicalResourceId": "Group",
        "PhysicalResourceId": GROUP,
        "ResourceType": "AWS::Personalize::DatasetGroup",
        "LastUpdatedTimestamp": "2026-12-01T00:00:00Z",
        "ResourceStatus": "UPDATE_COMPLETE",
    }
    with Stubber(personalize) as tag_stub, Stubber(cloudformation) as stack_stub:
        tag_stub.add_response("list_tags_for_resource", tags(("team", "ml")), {"resourceArn": GROUP})
        stack_stub.add_response(
            "describe_stack_resource",
            {"StackResourceDetail": detail},
            {"StackName": STACK, "LogicalResourceId": "Group"},
        )
        assert app.stack_manages(personalize, cloudformation, STACK, "Group", GROUP) is None


def test_a_resource_neither_source_confirms_is_not_the_stacks_and_the_reason_says_why() -> None:
    personalize, cloudformation = client("personalize"), client("cloudformation")
    with Stubber(personalize) as tag_stub, Stubber(cloudformation) as stack_stub:
        other = tags((app.STACK_ID_TAG, STACK.replace("recommendations", "other")))
        tag_stub.add_response("list_tags_for_resource", other, {"resourceArn": GROUP})
        stack_stub.add_client_error("describe_stack_resource", "AccessDenied", http_status_code=403)
        why = app.stack_manages(personalize, cloudformation, STACK, "Group", GROUP)
    assert why is not None
    assert "no aws:cloudformation:stack-id tag of that stack" in why
    assert "CloudFormation could not say what the stack's Group is (AccessDenied)" in why


def test_a_tracker_that_disappears_mid_way_counts_as_gone() -> None:
    """Listed, then gone before its tags are read: the group has no tracker of the application's left."""
    personalize = client("personalize")
    group = {"name": "shop", "datasetGroupArn": GROUP, "status": "ACTIVE", "creationDateTime": "2026-12-01"}
    with Stubber(personalize) as stub:
        stub.add_response("describe_dataset_group", {"datasetGroup": group}, {"datasetGroupArn": GROUP})
        listed = {"eventTrackers": [{"eventTrackerArn": TRACKER, "status": "ACTIVE"}]}
        stub.add_response("list_event_trackers", listed, {"datasetGroupArn": GROUP})
        stub.add_client_error("list_tags_for_resource", "ResourceNotFoundException", http_status_code=400)
        released = app.release_step(personalize, client("ssm"), "/p", GROUP, "CloudFormation (test)")
    assert released.done and not released.theirs


@pytest.mark.parametrize("invocation, status", [(1, "IN_PROGRESS"), (3, "FAILED")])
def test_with_too_little_of_the_30_s_left_no_call_begins_and_the_hook_answers(invocation: int, status: str) -> None:
    """Every call would have to end before CloudFormation stops waiting: none begins (the client points nowhere,
    so a call that began would fail differently), and the answer comes at once."""
    deadline = Deadline(reserve=app.HOOK_ANSWER_SECONDS)
    deadline.seconds_left = lambda: deadline.needed - 0.1
    nowhere = {"endpoint_url": "http://127.0.0.1:9", "region_name": REGION}
    keys = {"aws_access_key_id": "x", "aws_secret_access_key": "x"}
    personalize = deadline.watch(boto3.client("personalize", **nowhere, **keys))
    request = event("hook-delete-dataset.json")
    request["requestContext"]["invocation"] = invocation

    answer = app.on_hook(personalize, client("ssm"), client("cloudformation"), "/p", request, deadline.seconds_left)

    assert answer["hookStatus"] == status, answer
    assert "out of time for this invocation" in answer["message"]


def test_a_step_the_deadline_cuts_short_leaves_the_answer_to_the_step_before(
    personalize: Any, emulator: PersonalizeEmulator
) -> None:
    """The hook's answer says what the last whole look saw (a tracker still being created), not only "out of
    time": once the first look's three calls are made, no call may begin."""
    emulator.tracker_timing = Timing(pending=3600)
    group = personalize.create_dataset_group(name="shop")["datasetGroupArn"]
    made = [{"tagKey": TAG_MADE_BY, "tagValue": MADE_BY}]
    tracker = personalize.create_event_tracker(name="shop-tracker", datasetGroupArn=group, tags=made)
    deadline = Deadline(reserve=app.HOOK_ANSWER_SECONDS)
    calls = iter(range(100))
    deadline.seconds_left = lambda: deadline.needed + (1 if next(calls) < 3 else -1)

    released = app.release(deadline.watch(personalize), client("ssm"), "/p", group, "test", 60, sleep=lambda _: None)

    assert not released.done
    assert f"{tracker['eventTrackerArn']} is CREATE PENDING" in released.message
