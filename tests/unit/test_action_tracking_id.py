"""CheckDataset against the emulator: waiting, failing by name, never writing a bad value."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from check_dataset.app import check_dataset
from common.errors import DatasetFailed, DatasetNotFound, InvalidTrackingId
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing

SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/s"
PARAMETER = "/personalize/g/action-tracking-id"


def dataset(personalize: Any, dataset_type: str = "ACTION_INTERACTIONS") -> str:
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    return personalize.create_dataset(name="d", schemaArn=SCHEMA, datasetGroupArn=group, datasetType=dataset_type)[
        "datasetArn"
    ]


def check(personalize: Any, arn: str, previous: int = 0, ssm: Any = None) -> dict[str, Any]:
    request = {
        "datasetArn": arn,
        "eventTime": None,
        "executionId": "e",
        "executionStartTime": datetime.fromtimestamp(time.time(), UTC).isoformat(),
        "previousWaitSeconds": previous,
        "polling": {"initialWaitSeconds": "5", "maxWaitSeconds": "60", "timeoutSeconds": "1800"},
    }
    return dict(check_dataset(personalize, ssm, request, time.time()))  # type: ignore[arg-type]


def test_a_creating_dataset_means_wait_and_an_active_one_is_stored(
    personalize, ssm, emulator: PersonalizeEmulator
) -> None:
    emulator.time_dataset("g", "ACTION_INTERACTIONS", Timing(pending=60))
    arn = dataset(personalize)
    waiting = {"status": "CREATE PENDING", "outcome": "waiting", "waitSeconds": 5}
    assert check(personalize, arn, ssm=ssm) == waiting
    assert ssm.describe_parameters()["Parameters"] == []
    emulator.time_dataset("g", "ACTION_INTERACTIONS", Timing())
    stored = check(personalize, arn, ssm=ssm)
    assert (stored["status"], stored["outcome"], stored["waitSeconds"]) == ("ACTIVE", "ready", 0)
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == stored["trackingId"]


def test_failed_and_missing_datasets_fail_by_name(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset("g", "ACTION_INTERACTIONS", Timing(fails_with="bad schema"))
    arn = dataset(personalize)
    with pytest.raises(DatasetFailed, match="CREATE FAILED"):
        check(personalize, arn)
    with pytest.raises(DatasetNotFound):
        check(personalize, arn.replace("/g/", "/other/"))


def test_throttling_means_wait(personalize, emulator: PersonalizeEmulator) -> None:
    arn = dataset(personalize)
    inject(Fault("personalize", "DescribeDataset", per_second=0), emulator=emulator)
    assert check(personalize, arn, previous=5) == {
        "status": "THROTTLED",
        "outcome": "waiting",
        "waitSeconds": 10,
    }


def test_the_tracking_id_is_read_from_describe_dataset_and_tagged(personalize, ssm) -> None:
    arn = dataset(personalize)
    result = check(personalize, arn, ssm=ssm)
    tracking_id = personalize.describe_dataset(datasetArn=arn)["dataset"]["trackingId"]
    assert result["trackingId"] == tracking_id and result["parameterName"] == PARAMETER
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == tracking_id
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=PARAMETER)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {
        "event-tracker-provisioner:dataset-group-arn": "arn:aws:personalize:us-east-1:123456789012:dataset-group/g",
        "event-tracker-provisioner:dataset-arn": arn,
    }


@pytest.mark.parametrize("tracking_id", [None, "", " x7q9 "])
def test_never_writes_a_missing_or_padded_value(ssm, tracking_id: str | None) -> None:
    client = boto3.client("personalize", region_name="us-east-1")
    arn = "arn:aws:personalize:us-east-1:123456789012:dataset/g/ACTION_INTERACTIONS"
    described = {
        "datasetArn": arn,
        "status": "ACTIVE",
        "datasetGroupArn": "arn:aws:personalize:us-east-1:123456789012:dataset-group/g",
    }
    if tracking_id is not None:
        described["trackingId"] = tracking_id
    with Stubber(client) as stubber, pytest.raises(InvalidTrackingId):
        stubber.add_response("describe_dataset", {"dataset": described})
        stubber.add_response("list_tags_for_resource", {"tags": []})
        check(client, arn, ssm=ssm)
    assert ssm.describe_parameters()["Parameters"] == []


def test_a_throttled_opt_out_check_means_wait_and_nothing_is_written(ssm) -> None:
    """Once the dataset is ACTIVE, ListTagsForResource (the group's opt-out tag) throttled past the client's retries
    is waited out like a throttled DescribeDataset."""
    client = boto3.client("personalize", region_name="us-east-1")
    arn = "arn:aws:personalize:us-east-1:123456789012:dataset/g/ACTION_INTERACTIONS"
    group = "arn:aws:personalize:us-east-1:123456789012:dataset-group/g"
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_dataset", {"dataset": {"datasetArn": arn, "status": "ACTIVE", "datasetGroupArn": group}}
        )
        stubber.add_client_error("list_tags_for_resource", "LimitExceededException", "slow down", 400)
        result = check(client, arn, previous=5, ssm=ssm)
    assert result == {"status": "THROTTLED", "outcome": "waiting", "waitSeconds": 10}
    assert ssm.describe_parameters()["Parameters"] == []
