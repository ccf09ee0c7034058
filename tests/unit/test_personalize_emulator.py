"""The emulator is faithful where the workflow depends on it: protocol, validation, errors, limits, clock."""

from __future__ import annotations

import json
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn


def error_of(call, **kwargs) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_speaks_json_1_1_with_the_target_header(emulator: PersonalizeEmulator) -> None:
    request = urllib.request.Request(
        emulator.url,
        data=json.dumps({"name": "raw"}).encode(),
        headers={"X-Amz-Target": "AmazonPersonalize.CreateDatasetGroup", "Content-Type": "application/x-amz-json-1.1"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
        assert json.loads(response.read()) == {"datasetGroupArn": dataset_group_arn("raw")}


def test_statuses_carry_spaces_and_move_with_the_clock(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(pending=0.3, in_progress=0.3))
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    seen = []
    for _ in range(8):
        seen.append(personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"])
        time.sleep(0.1)
    assert seen[0] == "CREATE PENDING"
    assert "CREATE IN_PROGRESS" in seen
    assert seen[-1] == "ACTIVE"


def test_arns_have_the_real_shape(personalize) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    assert arn == "arn:aws:personalize:us-east-1:123456789012:dataset-group/g"
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=arn)
    assert tracker["eventTrackerArn"].startswith("arn:aws:personalize:us-east-1:123456789012:event-tracker/")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "-starts-with-dash"},
        {"name": "x" * 64},
        {"name": "ok", "domain": "GAMES"},
        {"name": "ok", "roleArn": "not-an-arn"},
    ],
)
def test_requests_are_validated_against_botocores_model(personalize, kwargs) -> None:
    client = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url=personalize.meta.endpoint_url,
        config=Config(parameter_validation=False),
    )
    assert error_of(client.create_dataset_group, **kwargs) == ("InvalidInputException", 400)


def test_one_tracker_per_dataset_group(personalize) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    personalize.create_event_tracker(name="first", datasetGroupArn=arn)
    assert error_of(personalize.create_event_tracker, name="second", datasetGroupArn=arn) == (
        "ResourceAlreadyExistsException",
        400,
    )


def test_no_tracker_before_the_dataset_group_is_active(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(pending=60))
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    assert error_of(personalize.create_event_tracker, name="t", datasetGroupArn=arn)[0] == "ResourceInUseException"


def test_the_tags_limit(personalize) -> None:
    tags = [{"tagKey": f"k{index}", "tagValue": "v"} for index in range(150)]
    arn = personalize.create_dataset_group(name="g", tags=tags)["datasetGroupArn"]
    more = [{"tagKey": f"m{index}", "tagValue": "v"} for index in range(51)]
    assert error_of(personalize.tag_resource, resourceArn=arn, tags=more) == ("TooManyTagsException", 400)
    personalize.tag_resource(resourceArn=arn, tags=more[:50])
    assert len(personalize.list_tags_for_resource(resourceArn=arn)["tags"]) == 200


def test_not_found_and_in_use(personalize) -> None:
    missing = dataset_group_arn("missing")
    assert error_of(personalize.describe_dataset_group, datasetGroupArn=missing) == ("ResourceNotFoundException", 400)
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    personalize.create_event_tracker(name="t", datasetGroupArn=arn)
    assert error_of(personalize.delete_dataset_group, datasetGroupArn=arn)[0] == "ResourceInUseException"


def test_list_event_trackers_paginates(personalize) -> None:
    for index in range(5):
        arn = personalize.create_dataset_group(name=f"g{index}")["datasetGroupArn"]
        personalize.create_event_tracker(name=f"t{index}", datasetGroupArn=arn)
    pages = list(personalize.get_paginator("list_event_trackers").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(page["eventTrackers"]) for page in pages] == [2, 2, 1]
    assert {t["name"] for page in pages for t in page["eventTrackers"]} == {f"t{i}" for i in range(5)}
    assert "trackingId" not in pages[0]["eventTrackers"][0]
    assert error_of(personalize.list_event_trackers, nextToken="bogus")[0] == "InvalidNextTokenException"
    only = personalize.list_event_trackers(datasetGroupArn=dataset_group_arn("g3"))["eventTrackers"]
    assert [t["name"] for t in only] == ["t3"]


def test_list_dataset_groups_paginates(personalize) -> None:
    for index in range(3):
        personalize.create_dataset_group(name=f"g{index}")
    pages = list(personalize.get_paginator("list_dataset_groups").paginate(PaginationConfig={"PageSize": 2}))
    assert sum(len(page["datasetGroups"]) for page in pages) == 3


def test_a_failed_creation_has_a_reason(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(fails_with="bad role"))
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    group = personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]
    assert (group["status"], group["failureReason"]) == ("CREATE FAILED", "bad role")


def test_injected_errors_then_normal_service(personalize, emulator: PersonalizeEmulator) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    emulator.inject_error("DescribeDatasetGroup", "InternalServerError", times=1)
    client = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        config=Config(retries={"total_max_attempts": 1}),
    )
    assert error_of(client.describe_dataset_group, datasetGroupArn=arn) == ("InternalServerError", 500)
    assert client.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE"


def test_rate_limit_answers_limit_exceeded(personalize, emulator: PersonalizeEmulator) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    emulator.limit_rate("DescribeDatasetGroup", 2)
    client = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.describe_dataset_group(datasetGroupArn=arn)
    client.describe_dataset_group(datasetGroupArn=arn)
    assert error_of(client.describe_dataset_group, datasetGroupArn=arn) == ("LimitExceededException", 400)
    assert emulator.throttled == 1


def test_a_tracker_deleted_while_polled(personalize, emulator: PersonalizeEmulator) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    emulator.delete_tracker_after("g", 0.2)
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=arn)["eventTrackerArn"]
    time.sleep(0.3)
    assert error_of(personalize.describe_event_tracker, eventTrackerArn=tracker)[0] == "ResourceNotFoundException"


def test_unknown_operations_are_refused(emulator: PersonalizeEmulator) -> None:
    client = boto3.client("personalize", region_name="us-east-1", endpoint_url=emulator.url)
    assert error_of(client.list_campaigns)[0] == "UnknownOperationException"
