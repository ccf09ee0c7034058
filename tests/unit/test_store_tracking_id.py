"""CheckEventTracker, once the tracker is ACTIVE: the trackingId, read from DescribeEventTracker, in SSM, tagged,
overwritten, never empty."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from check_event_tracker.app import check_event_tracker
from common.errors import EventTrackerFailed, InvalidTrackingId
from tests.helpers import event

NAME = "/personalize/retail-recommendations/tracking-id"
SAMPLE = event("check-event-tracker.json")
TRACKING_ID = "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e"


def personalize(*tracking_ids: str | None) -> Any:
    """A Personalize client whose DescribeEventTracker answers these trackingIds, one call each (None: absent)."""
    client = boto3.client("personalize", region_name="us-east-1")
    stubber = Stubber(client)
    for tracking_id in tracking_ids:
        tracker = {"eventTrackerArn": SAMPLE["eventTrackerArn"], "status": "ACTIVE"}
        if tracking_id is not None:
            tracker["trackingId"] = tracking_id
        stubber.add_response(
            "describe_event_tracker", {"eventTracker": tracker}, {"eventTrackerArn": SAMPLE["eventTrackerArn"]}
        )
    stubber.activate()
    return client


def request(**changes: Any) -> dict[str, Any]:
    return {**SAMPLE, "executionStartTime": datetime.now(UTC).isoformat(), **changes}


def store_tracking_id(ssm: Any, personalize: Any, request: Any, **options: Any) -> dict[str, Any]:
    """CheckEventTracker on an ACTIVE tracker (it stores before it answers "ready")."""
    return dict(check_event_tracker(personalize, ssm, request, time.time(), **options))


def test_the_sample_carries_no_tracking_id() -> None:
    assert "trackingId" not in SAMPLE  # the workflow never passes it: CheckEventTracker reads it


def test_writes_the_tracking_id_with_its_arns(ssm) -> None:
    result = store_tracking_id(ssm, personalize(TRACKING_ID), request(eventTime=None, executionStartTime=None))

    assert result == {
        "status": "ACTIVE",
        "outcome": "ready",
        "waitSeconds": 0,
        "datasetGroupArn": SAMPLE["datasetGroupArn"],
        "datasetGroupName": "retail-recommendations",
        "eventTrackerArn": SAMPLE["eventTrackerArn"],
        "trackingId": TRACKING_ID,
        "parameterName": NAME,
        "adopted": False,
        # The stub's tracker has no lastUpdatedDateTime, and the sample no execution start: nothing to count.
        "lag": {
            "provisioningLagSeconds": None,
            "timeToTrackingIdSeconds": None,
            "timeToTrackingIdFrom": "executionStartTime",
        },
    }
    parameter = ssm.get_parameter(Name=NAME)["Parameter"]
    assert (parameter["Value"], parameter["Type"]) == (TRACKING_ID, "String")
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=NAME)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {
        "event-tracker-provisioner:dataset-group-arn": SAMPLE["datasetGroupArn"],
        "event-tracker-provisioner:event-tracker-arn": SAMPLE["eventTrackerArn"],
    }
    [described] = ssm.describe_parameters()["Parameters"]
    assert SAMPLE["eventTrackerArn"] in described["Description"]
    assert SAMPLE["datasetGroupArn"] in described["Description"]


def test_a_rerun_overwrites(ssm) -> None:
    client = personalize("old", "new")
    store_tracking_id(ssm, client, request())
    store_tracking_id(ssm, client, request(adopted=True))
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Value"] == "new"


def test_secure_string_with_a_kms_key_keeps_the_value_out_of_the_result(ssm) -> None:
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    result = store_tracking_id(ssm, personalize(TRACKING_ID), request(), parameter_type="SecureString", kms_key_id=key)
    assert "trackingId" not in result and TRACKING_ID not in str(result)
    parameter = ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", TRACKING_ID)
    [described] = ssm.describe_parameters()["Parameters"]
    assert described["KeyId"] == key


@pytest.mark.parametrize("tracking_id", ["", " ", " x7q9 ", None])
def test_never_writes_an_empty_or_partial_value(ssm, tracking_id: str | None) -> None:
    with pytest.raises(InvalidTrackingId) as raised:
        store_tracking_id(ssm, personalize(tracking_id), request())
    assert ssm.describe_parameters()["Parameters"] == []
    if tracking_id and tracking_id.strip():
        assert tracking_id.strip() not in str(raised.value)  # the value itself is never repeated


def test_a_tracker_gone_while_checked_fails_by_name(ssm) -> None:
    client = boto3.client("personalize", region_name="us-east-1")
    with Stubber(client) as stubber, pytest.raises(EventTrackerFailed, match="disappeared"):
        stubber.add_client_error("describe_event_tracker", "ResourceNotFoundException", "gone", 400)
        store_tracking_id(ssm, client, request())


@pytest.mark.parametrize("code", ["TooManyUpdates", "ThrottlingException"])
def test_ssm_throttling_keeps_its_name_for_the_state_machine_to_retry(code: str) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("put_parameter", code, "slow down", 400)
        with pytest.raises(Exception, match="slow down") as raised:
            store_tracking_id(client, personalize(TRACKING_ID), request())
    assert type(raised.value).__name__ == code


def test_the_handler_answers_wait_when_personalize_throttles(monkeypatch, ssm) -> None:
    """Waiting, not failing: the state machine waits and calls again, until the deadline."""
    import check_event_tracker.app as app
    from local.engine import LambdaContext

    client = boto3.client("personalize", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("describe_event_tracker", "LimitExceededException", "slow down", 400)
    stubber.activate()
    monkeypatch.setattr(app, "personalize", client)
    monkeypatch.setattr(app, "ssm", ssm)
    context = LambdaContext("CheckEventTrackerFunction", "arn:aws:lambda:us-east-1:123456789012:function:s")
    assert app.lambda_handler(request(previousWaitSeconds=0), context) == {
        "status": "THROTTLED",
        "outcome": "waiting",
        "waitSeconds": 5,
        "eventTrackerArn": SAMPLE["eventTrackerArn"],
        "adopted": False,
    }
    assert ssm.describe_parameters()["Parameters"] == []


class Recording:
    """moto's SSM, with the calls made on it recorded (operation, and whether it carried Tags or Overwrite)."""

    def __init__(self, ssm: Any) -> None:
        self.ssm, self.calls = ssm, []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.ssm, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, "Tags" in kwargs, bool(kwargs.get("Overwrite"))))
            return method(**kwargs)

        return call


def test_a_new_parameter_is_created_with_its_tags_in_one_call(ssm) -> None:
    recording = Recording(ssm)

    store_tracking_id(recording, personalize(TRACKING_ID), request())

    assert recording.calls == [("put_parameter", True, False)]
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=NAME)["TagList"]
    assert {t["Key"] for t in tags} == {
        "event-tracker-provisioner:dataset-group-arn",
        "event-tracker-provisioner:event-tracker-arn",
    }


def test_only_an_existing_parameter_is_overwritten_then_tagged(ssm) -> None:
    ssm.put_parameter(Name=NAME, Value="stale", Type="String")
    recording = Recording(ssm)

    store_tracking_id(recording, personalize(TRACKING_ID), request())

    assert recording.calls == [
        ("put_parameter", True, False),  # ParameterAlreadyExists
        ("put_parameter", False, True),
        ("add_tags_to_resource", True, False),
    ]
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Value"] == TRACKING_ID
    assert len(ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=NAME)["TagList"]) == 2
