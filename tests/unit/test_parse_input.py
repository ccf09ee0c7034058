"""ParseInput: which dataset group an input names, or InvalidEvent saying why none."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from common.errors import InvalidEvent
from common.inputs import parse_input
from tests.helpers import ACCOUNT, REGION, create_event, dataset_group_arn, event
from tests.strategies import generated_inputs


def parse(payload: Any, prefix: str = "/personalize") -> dict[str, str]:
    return dict(parse_input(payload, REGION, ACCOUNT, "aws", prefix))


@pytest.mark.parametrize(
    "sample, name",
    [
        ("create-dataset-group.json", "retail-recommendations"),
        ("create-domain-dataset-group.json", "video-on-demand"),
        ("direct-input.json", "retail-recommendations"),
    ],
)
def test_the_sample_events_name_their_dataset_group(sample: str, name: str) -> None:
    assert parse(event(sample)) == {
        "datasetGroupArn": dataset_group_arn(name),
        "datasetGroupName": name,
        "parameterName": f"/personalize/{name}/tracking-id",
        "createdByCloudFormation": False,
        "kind": "eventTracker",
        "datasetArn": None,
        "eventTime": event(sample).get("detail", {}).get("eventTime"),  # None for the direct input
        "startedBy": "person" if sample == "direct-input.json" else "event",  # a start by hand lifts any hold
    }


def test_a_dataset_group_made_by_cloudformation_is_marked() -> None:
    assert parse(event("create-dataset-group-by-cloudformation.json")) == {
        "datasetGroupArn": dataset_group_arn("stack-recommendations"),
        "datasetGroupName": "stack-recommendations",
        "parameterName": "/personalize/stack-recommendations/tracking-id",
        "createdByCloudFormation": True,
        "kind": "eventTracker",
        "datasetArn": None,
        "eventTime": "2026-11-26T06:00:00Z",
        "startedBy": "event",
    }


def test_the_reconciler_starts_on_a_schedule_which_lifts_no_hold() -> None:
    scheduled = {"datasetGroupArn": dataset_group_arn("missed"), "startedBy": "schedule"}
    assert parse(scheduled)["startedBy"] == "schedule"
    with pytest.raises(InvalidEvent):
        parse({"datasetGroupArn": dataset_group_arn("missed"), "startedBy": "someone"})


@pytest.mark.parametrize("dataset_type", ["Interactions", "INTERACTIONS"])
def test_a_new_item_interactions_dataset_names_its_group(dataset_type: str) -> None:
    """A sign that the group lives on: it lifts a hold the application set when it released the tracker."""
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"]["datasetType"] = dataset_type
    group = sample["detail"]["requestParameters"]["datasetGroupArn"]
    parsed = parse(sample)
    assert (parsed["kind"], parsed["datasetGroupArn"], parsed["startedBy"]) == (
        "eventTracker",
        group,
        "interactionsDataset",
    )
    assert parsed["parameterName"] == f"/personalize/{group.rsplit('/', 1)[1]}/tracking-id"


@pytest.mark.parametrize("field", ["invokedBy", "sourceIPAddress", "userAgent"])
def test_any_one_cloudtrail_mark_of_cloudformation_is_enough(field: str) -> None:
    sample = create_event("by-stack")
    if field == "invokedBy":
        sample["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    else:
        sample["detail"][field] = "cloudformation.amazonaws.com"
    assert parse(sample)["createdByCloudFormation"] is True
    assert parse(create_event("by-person"))["createdByCloudFormation"] is False


def test_without_response_elements_the_arn_is_built_from_the_request() -> None:
    assert parse(create_event("built", with_arn=False))["datasetGroupArn"] == dataset_group_arn("built")


def test_the_prefix_names_the_parameter() -> None:
    assert (
        parse(event("direct-input.json"), "/ml/prod")["parameterName"] == "/ml/prod/retail-recommendations/tracking-id"
    )


def test_the_response_arn_wins_over_the_request_name() -> None:
    sample = create_event("from-response")
    sample["detail"]["requestParameters"]["name"] = "from-request"
    assert parse(sample)["datasetGroupName"] == "from-response"


@pytest.mark.parametrize(
    "payload, message",
    [
        ({}, "Not a CreateDatasetGroup event"),
        ({"datasetGroupArn": ""}, "Not a Personalize dataset group ARN"),
        ({"datasetGroupArn": dataset_group_arn("x") + "/extra"}, "Not a Personalize dataset group ARN"),
        ({"datasetGroupArn": dataset_group_arn("-starts-with-dash")}, "Not a Personalize dataset group ARN"),
        ({"datasetGroupArn": dataset_group_arn("a" * 64)}, "Not a Personalize dataset group ARN"),
        ({"datasetGroupArn": dataset_group_arn("../../etc")}, "Not a Personalize dataset group ARN"),
        ({"datasetGroupArn": dataset_group_arn("x").replace(REGION, "eu-west-1")}, "this application provisions"),
        ({"datasetGroupArn": None}, "Input should be a valid string"),
        ({"datasetGroupArn": ["a"]}, "Input should be a valid string"),
        ([{"datasetGroupArn": dataset_group_arn("x")}], "got list"),
    ],
)
def test_invalid_inputs_say_what_is_wrong(payload: Any, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        parse(payload)


def test_a_failed_call_is_not_provisioned() -> None:
    sample = event("create-dataset-group.json")
    sample["detail"]["errorCode"] = "ResourceAlreadyExistsException"
    with pytest.raises(InvalidEvent, match=r"failed \(ResourceAlreadyExistsException\)"):
        parse(sample)


def test_another_api_call_is_rejected() -> None:
    sample = event("create-dataset-group.json")
    sample["detail"]["eventName"] = "CreateSolution"
    with pytest.raises(InvalidEvent, match=r"detail\.eventName: Input should be 'CreateDatasetGroup'"):
        parse(sample)


def test_a_huge_input_gives_a_short_cause() -> None:
    with pytest.raises(InvalidEvent) as raised:
        parse({"datasetGroupArn": "x" * 1_000_000})
    assert len(str(raised.value)) < 2000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_inputs)
def test_generated_inputs_give_a_dataset_group_or_invalid_event(payload: Any) -> None:
    try:
        result = parse(payload)
    except InvalidEvent:
        return
    assert result["datasetGroupArn"].startswith(f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/")
    assert result["parameterName"] == f"/personalize/{result['datasetGroupName']}/tracking-id"


# ------------------------------------------------------------------ the Action interactions dataset
ACTION_DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/retail-recommendations/ACTION_INTERACTIONS"


@pytest.mark.parametrize("dataset_type", ["Action_Interactions", "action_interactions", "ACTION_INTERACTIONS"])
def test_a_create_dataset_event_names_its_action_interactions_dataset(dataset_type: str) -> None:
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"]["datasetType"] = dataset_type
    assert parse(sample) == {
        "kind": "actionInteractions",
        "datasetArn": ACTION_DATASET,
        "datasetGroupArn": dataset_group_arn("retail-recommendations"),
        "datasetGroupName": "retail-recommendations",
        "parameterName": "/personalize/retail-recommendations/action-tracking-id",
        "createdByCloudFormation": False,
        "eventTime": sample["detail"]["eventTime"],
        "startedBy": "event",
    }


def test_the_direct_dataset_input_leaves_the_group_to_describe_dataset() -> None:
    parsed = parse(event("direct-dataset-input.json"))
    assert (parsed["kind"], parsed["datasetArn"], parsed["datasetGroupArn"]) == (
        "actionInteractions",
        ACTION_DATASET,
        None,
    )


@pytest.mark.parametrize(
    "change, cause",
    [
        ({"datasetType": "Items"}, "has no tracking ID: only Action_Interactions"),
        ({"datasetType": None}, "has no tracking ID"),
    ],
)
def test_other_dataset_types_are_rejected(change: dict, cause: str) -> None:
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"].update(change)
    with pytest.raises(InvalidEvent, match=cause):
        parse(sample)


def test_a_failed_create_dataset_call_is_rejected() -> None:
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["errorCode"] = "ResourceAlreadyExistsException"
    with pytest.raises(InvalidEvent, match=r"failed \(ResourceAlreadyExistsException\)"):
        parse(sample)


@pytest.mark.parametrize(
    "arn, cause",
    [
        (ACTION_DATASET.replace("123456789012", "999999999999"), "this application provisions 123456789012/us-east-1"),
        ("arn:aws:personalize:us-east-1:123456789012:dataset-group/x", "Not a Personalize dataset ARN"),
    ],
)
def test_a_dataset_of_another_account_or_no_dataset_is_rejected(arn: str, cause: str) -> None:
    with pytest.raises(InvalidEvent, match=cause):
        parse({"datasetArn": arn})
