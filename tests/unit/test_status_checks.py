"""CheckDatasetGroup and CheckEventTracker, against the Personalize emulator and botocore's Stubber."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from check_dataset_group.app import check_dataset_group
from check_event_tracker.app import check_event_tracker
from common import holds
from common.errors import (
    DatasetGroupFailed,
    DatasetGroupNotFound,
    EventTrackerFailed,
    InvalidTrackingId,
    LimitExceeded,
    ProvisioningTimedOut,
)
from common.polling import STEADY_PHASE_SECONDS
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn


def poll(previous: int = 0, started: float | None = None, timeout: int = 1800) -> dict[str, Any]:
    start = datetime.fromtimestamp(started if started is not None else time.time(), UTC)
    return {
        "executionId": "arn:aws:states:us-east-1:123456789012:execution:m:e",
        "executionStartTime": start.isoformat(),
        "previousWaitSeconds": previous,
        "polling": {"initialWaitSeconds": "5", "maxWaitSeconds": "60", "timeoutSeconds": str(timeout)},
    }


def check_group(personalize: Any, name: str = "g", later: float = 0, **kwargs: Any) -> dict[str, Any]:
    """The check `later` seconds from now (the resource that much older)."""
    request = {"datasetGroupArn": dataset_group_arn(name), **poll(**kwargs)}
    return dict(check_dataset_group(personalize, request, time.time() + later))


def check_tracker(personalize: Any, arn: str, later: float = 0, ssm: Any = None, **kwargs: Any) -> dict[str, Any]:
    """CheckEventTracker with the request the state machine sends (once ACTIVE it stores: test_store_tracking_id)."""
    request = {
        "eventTrackerArn": arn,
        "adopted": False,
        "datasetGroupArn": dataset_group_arn("g"),
        "datasetGroupName": "g",
        "parameterName": "/personalize/g/tracking-id",
        "eventTime": None,
        **poll(**kwargs),
    }
    return dict(check_event_tracker(personalize, ssm, request, time.time() + later))


# ------------------------------------------------------------------ dataset group
def test_a_creating_dataset_group_means_wait(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(pending=60))
    personalize.create_dataset_group(name="g")
    assert check_group(personalize) == {"status": "CREATE PENDING", "outcome": "waiting", "waitSeconds": 5}
    assert check_group(personalize, previous=5)["waitSeconds"] == 5  # young: a steady pace
    assert check_group(personalize, previous=5, later=STEADY_PHASE_SECONDS)["waitSeconds"] == 10  # then backoff


def test_in_progress_means_wait_too(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(pending=0, in_progress=60))
    personalize.create_dataset_group(name="g")
    assert check_group(personalize)["status"] == "CREATE IN_PROGRESS"


def test_an_active_dataset_group_is_ready(personalize) -> None:
    personalize.create_dataset_group(name="g")
    now = time.time()
    request = {"datasetGroupArn": dataset_group_arn("g"), **poll()}
    created = personalize.describe_dataset_group(datasetGroupArn=dataset_group_arn("g"))["datasetGroup"]
    assert check_dataset_group(personalize, request, now) == {
        "status": "ACTIVE",
        "outcome": "ready",
        "waitSeconds": 0,
        "readyAt": round(now, 3),  # a stack's grace period counts from it
        "createdAt": created["creationDateTime"].timestamp(),  # which group of that name a hold is about
    }


def test_a_failed_dataset_group_names_the_reason(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(fails_with="Role cannot be assumed"))
    personalize.create_dataset_group(name="g")
    with pytest.raises(DatasetGroupFailed, match="is CREATE FAILED: Role cannot be assumed"):
        check_group(personalize)


def test_a_dataset_group_being_deleted_fails(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(deleting=60))
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    personalize.delete_dataset_group(datasetGroupArn=arn)
    with pytest.raises(DatasetGroupFailed, match=r"is being deleted \(DELETE PENDING\)"):
        check_group(personalize)


def test_a_missing_dataset_group_is_not_found(personalize) -> None:
    with pytest.raises(DatasetGroupNotFound, match="does not exist"):
        check_group(personalize, "missing")


def test_throttling_means_wait_and_at_the_deadline_limit_exceeded(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g")
    inject(Fault("personalize", "DescribeDatasetGroup", per_second=0), emulator=emulator)
    assert check_group(personalize) == {"status": "THROTTLED", "outcome": "waiting", "waitSeconds": 5}
    with pytest.raises(LimitExceeded, match="still throttling after ProvisioningTimeoutSeconds"):
        check_group(personalize, started=time.time() - 1801)


def test_a_throttled_tracker_check_waits_too(personalize, emulator: PersonalizeEmulator, group: str) -> None:
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    inject(Fault("personalize", "DescribeEventTracker", per_second=0), emulator=emulator)
    assert check_tracker(personalize, arn, previous=5) == {
        "status": "THROTTLED",
        "outcome": "waiting",
        "waitSeconds": 10,
        "eventTrackerArn": arn,
        "adopted": False,
    }


def test_other_aws_errors_keep_their_name() -> None:
    client = boto3.client("personalize", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_dataset_group", "AccessDeniedException", "not allowed", 400)
        with pytest.raises(Exception, match="not allowed") as raised:
            check_group(client)
    assert type(raised.value).__name__ == "AccessDeniedException"


def test_an_unknown_status_means_wait_until_the_deadline() -> None:
    client = boto3.client("personalize", region_name="us-east-1")
    group = {"datasetGroup": {"name": "g", "datasetGroupArn": dataset_group_arn("g"), "status": "UPDATE PENDING"}}
    with Stubber(client) as stubber:
        stubber.add_response("describe_dataset_group", group)
        assert check_group(client)["outcome"] == "waiting"
        stubber.add_response("describe_dataset_group", group)
        with pytest.raises(ProvisioningTimedOut, match="still UPDATE PENDING"):
            check_group(client, started=time.time() - 1801)


# ------------------------------------------------------------------ event tracker
@pytest.fixture
def group(personalize) -> str:
    return personalize.create_dataset_group(name="g")["datasetGroupArn"]


def test_a_creating_tracker_means_wait(personalize, emulator: PersonalizeEmulator, group: str) -> None:
    emulator.time_tracker("g", Timing(pending=60))
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    assert check_tracker(personalize, arn, previous=40) == {
        "status": "CREATE PENDING",
        "outcome": "waiting",
        "waitSeconds": 5,
        "eventTrackerArn": arn,
        "adopted": False,
    }
    assert check_tracker(personalize, arn, previous=40, later=STEADY_PHASE_SECONDS)["waitSeconds"] == 60


def test_a_failed_tracker_fails_and_is_held_so_that_it_is_reported_once(
    personalize, emulator: PersonalizeEmulator, group: str, ssm: Any
) -> None:
    emulator.time_tracker("g", Timing(fails_with="x"))
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    with pytest.raises(EventTrackerFailed, match="CREATE FAILED"):
        check_tracker(personalize, arn, ssm=ssm)
    hold = holds.read_hold(ssm, "/personalize", "g", None)
    assert hold is not None and (hold.kind, hold.eventTrackerArn) == (holds.FAILED, arn)
    assert not hold.lifted_by(holds.SCHEDULE) and not hold.lifted_by(holds.EVENT) and hold.lifted_by(holds.PERSON)


def test_a_tracker_being_deleted_fails(personalize, emulator: PersonalizeEmulator, group: str) -> None:
    emulator.time_tracker("g", Timing(deleting=60))
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    personalize.delete_event_tracker(eventTrackerArn=arn)
    with pytest.raises(EventTrackerFailed, match=r"being deleted \(DELETE PENDING\)"):
        check_tracker(personalize, arn)


def test_a_tracker_that_disappears_fails(personalize, group: str) -> None:
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    personalize.delete_event_tracker(eventTrackerArn=arn)
    with pytest.raises(EventTrackerFailed, match="disappeared"):
        check_tracker(personalize, arn)


def test_a_creating_tracker_past_the_deadline_times_out(personalize, emulator: PersonalizeEmulator, group: str) -> None:
    emulator.time_tracker("g", Timing(pending=60))
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    with pytest.raises(ProvisioningTimedOut):
        check_tracker(personalize, arn, started=time.time() - 100, timeout=100)


@pytest.mark.parametrize("tracking_id", ["", "   "])
def test_an_active_tracker_without_tracking_id_is_refused(tracking_id: str) -> None:
    client = boto3.client("personalize", region_name="us-east-1")
    arn = "arn:aws:personalize:us-east-1:123456789012:event-tracker/abc"
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_event_tracker",
            {"eventTracker": {"eventTrackerArn": arn, "status": "ACTIVE", "trackingId": tracking_id}},
        )
        with pytest.raises(InvalidTrackingId):
            check_tracker(client, arn)
