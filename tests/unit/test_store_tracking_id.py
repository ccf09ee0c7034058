"""StoreTrackingId: the trackingId in SSM, tagged, overwritten on re-runs, never empty."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from common.errors import InvalidTrackingId
from store_tracking_id.app import store_tracking_id
from tests.helpers import event

NAME = "/personalize/retail-recommendations/tracking-id"


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def request(**changes: Any) -> dict[str, Any]:
    return {**event("store-tracking-id.json"), **changes}


def test_writes_the_tracking_id_with_its_arns(ssm) -> None:
    result = store_tracking_id(ssm, request())

    sample = event("store-tracking-id.json")
    assert result == {
        "datasetGroupArn": sample["datasetGroupArn"],
        "datasetGroupName": "retail-recommendations",
        "eventTrackerArn": sample["eventTrackerArn"],
        "trackingId": sample["trackingId"],
        "parameterName": NAME,
        "adopted": False,
        "skipped": False,
    }
    parameter = ssm.get_parameter(Name=NAME)["Parameter"]
    assert (parameter["Value"], parameter["Type"]) == (sample["trackingId"], "String")
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=NAME)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {
        "event-tracker-provisioner:dataset-group-arn": sample["datasetGroupArn"],
        "event-tracker-provisioner:event-tracker-arn": sample["eventTrackerArn"],
    }
    [described] = ssm.describe_parameters()["Parameters"]
    assert sample["eventTrackerArn"] in described["Description"]
    assert sample["datasetGroupArn"] in described["Description"]


def test_a_rerun_overwrites(ssm) -> None:
    store_tracking_id(ssm, request(trackingId="old"))
    store_tracking_id(ssm, request(trackingId="new", adopted=True))
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Value"] == "new"


def test_secure_string_with_a_kms_key(ssm) -> None:
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    store_tracking_id(ssm, request(), parameter_type="SecureString", kms_key_id=key)
    parameter = ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", event("store-tracking-id.json")["trackingId"])
    [described] = ssm.describe_parameters()["Parameters"]
    assert described["KeyId"] == key


@pytest.mark.parametrize("tracking_id", ["", " ", " padded ", None, 42])
def test_never_writes_an_empty_or_partial_value(ssm, tracking_id: Any) -> None:
    with pytest.raises(InvalidTrackingId):
        store_tracking_id(ssm, request(trackingId=tracking_id))
    assert ssm.describe_parameters()["Parameters"] == []


@pytest.mark.parametrize("code", ["TooManyUpdates", "ThrottlingException"])
def test_ssm_throttling_keeps_its_name_for_the_state_machine_to_retry(code: str) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("put_parameter", code, "slow down", 400)
        with pytest.raises(Exception, match="slow down") as raised:
            store_tracking_id(client, request())
    assert type(raised.value).__name__ == code
