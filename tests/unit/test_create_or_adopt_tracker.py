"""CreateOrAdoptTracker: one tracker per dataset group, whoever made it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from common.errors import DatasetGroupNotFound, LimitExceeded
from common.opt_out import compile_exclude_pattern
from create_or_adopt_tracker.app import (
    DELETION,
    OUTAGE,
    STACK,
    THROTTLING,
    create_adopt_or_wait,
    create_or_adopt_tracker,
    tracker_tags,
)
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn

ARN = dataset_group_arn("g")


def test_creates_the_tracker_with_the_dataset_groups_tags(personalize, emulator: PersonalizeEmulator) -> None:
    tags = [{"tagKey": "team", "tagValue": "recs"}, {"tagKey": "cost-center", "tagValue": "42"}]
    personalize.create_dataset_group(name="g", tags=tags)

    result = create_or_adopt_tracker(personalize, ARN)

    assert result == {
        "outcome": "created",
        "eventTrackerArn": result["eventTrackerArn"],
        "eventTrackerName": "g-tracker",
        "adopted": False,
    }
    assert re.fullmatch(r"arn:aws:personalize:us-east-1:123456789012:event-tracker/\w+", result["eventTrackerArn"])
    copied = personalize.list_tags_for_resource(resourceArn=result["eventTrackerArn"])["tags"]
    made_by = {"tagKey": "event-tracker-provisioner:made-by", "tagValue": "event-tracker-provisioner"}
    assert sorted(copied, key=lambda t: t["tagKey"]) == sorted([*tags, made_by], key=lambda t: t["tagKey"])


def test_tags_are_copied_within_personalizes_limits() -> None:
    tags = {f"key-{index:03}": "v" for index in range(200)} | {"aws:cloudformation:stack-name": "s"}
    copied = tracker_tags(tags)
    assert len(copied) == 200
    assert all(not tag["tagKey"].startswith("aws:") for tag in copied)


def test_adopts_the_tracker_the_dataset_group_has(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g")
    existing = personalize.create_event_tracker(name="by-hand", datasetGroupArn=ARN)

    result = create_or_adopt_tracker(personalize, ARN)

    assert result == {
        "outcome": "adopted",
        "eventTrackerArn": existing["eventTrackerArn"],
        "eventTrackerName": "by-hand",
        "adopted": True,
    }
    assert emulator.calls["CreateEventTracker"] == 1


def test_a_tracker_being_deleted_is_not_adopted_but_waited_for(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_tracker("g", Timing(deleting=60))
    personalize.create_dataset_group(name="g")
    old = personalize.create_event_tracker(name="old", datasetGroupArn=ARN)
    personalize.delete_event_tracker(eventTrackerArn=old["eventTrackerArn"])

    result = create_or_adopt_tracker(personalize, ARN)

    assert (result["outcome"], result["eventTrackerArn"], result["waitingFor"]) == ("waiting", None, DELETION)
    assert "is being deleted" in result["reason"]


WINNER = {
    "name": "w",
    "eventTrackerArn": "arn:aws:personalize:us-east-1:123456789012:event-tracker/w",
    "status": "ACTIVE",
}


def create_answered(code: str, listed_after: list[dict[str, Any]]) -> dict[str, Any]:
    """CreateOrAdoptTracker when no tracker is listed, CreateEventTracker answers `code`, and a re-list shows these."""
    client = boto3.client("personalize", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_response("list_tags_for_resource", {"tags": []})
        stubber.add_response("list_event_trackers", {"eventTrackers": []})
        stubber.add_client_error("create_event_tracker", code, f"answered {code}", 400)
        stubber.add_response("list_event_trackers", {"eventTrackers": listed_after})
        result = dict(create_or_adopt_tracker(client, ARN))
        stubber.assert_no_pending_responses()
    return result


@pytest.mark.parametrize("code", ["ResourceAlreadyExistsException", "ResourceInUseException", "InvalidInputException"])
def test_losing_a_race_adopts_the_winner(code: str) -> None:
    result = create_answered(code, [WINNER])
    assert result["adopted"] is True
    assert result["eventTrackerArn"] == WINNER["eventTrackerArn"]


def test_an_invalid_input_with_no_tracker_keeps_its_name() -> None:
    with pytest.raises(Exception, match="answered InvalidInputException") as raised:
        create_answered("InvalidInputException", [])
    assert type(raised.value).__name__ == "InvalidInputException"


def test_a_missing_dataset_group_is_not_found(personalize) -> None:
    with pytest.raises(DatasetGroupNotFound):
        create_or_adopt_tracker(personalize, dataset_group_arn("missing"))


def test_limit_exceeded_after_the_clients_retries(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g")
    inject(Fault("personalize", "CreateEventTracker", per_second=0), emulator=emulator)
    with pytest.raises(LimitExceeded, match="LimitExceededException"):
        create_or_adopt_tracker(personalize, ARN)


def test_paginates_to_find_the_tracker() -> None:
    client = boto3.client("personalize", region_name="us-east-1")
    tracker = {
        "name": "t",
        "eventTrackerArn": "arn:aws:personalize:us-east-1:123456789012:event-tracker/t",
        "status": "ACTIVE",
    }
    deleting = dict(tracker, status="DELETE IN_PROGRESS", eventTrackerArn=tracker["eventTrackerArn"] + "old")
    with Stubber(client) as stubber:
        stubber.add_response("list_tags_for_resource", {"tags": []})
        stubber.add_response("list_event_trackers", {"eventTrackers": [deleting], "nextToken": "n"})
        stubber.add_response("list_event_trackers", {"eventTrackers": [tracker]})
        assert create_or_adopt_tracker(client, ARN)["eventTrackerArn"] == tracker["eventTrackerArn"]


# ------------------------------------------------------------------ opt-out
def test_a_dataset_group_tagged_skip_is_left_alone(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g", tags=[{"tagKey": "event-tracker-provisioner:skip", "tagValue": "TRUE"}])
    assert create_or_adopt_tracker(personalize, ARN) == {
        "outcome": "skipped",
        "eventTrackerArn": None,
        "reason": "dataset group g is tagged event-tracker-provisioner:skip=true",
        "adopted": False,
    }
    assert emulator.calls.get("CreateEventTracker", 0) == 0


def test_a_name_matching_the_exclude_pattern_is_left_alone(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g")
    result: dict[str, Any] = dict(create_or_adopt_tracker(personalize, ARN, compile_exclude_pattern("g|sandbox-.*")))
    assert result["outcome"] == "skipped"
    assert "ExcludeNamePattern" in result["reason"]


def test_the_exclude_pattern_must_match_the_whole_name(personalize) -> None:
    personalize.create_dataset_group(name="g")
    assert create_or_adopt_tracker(personalize, ARN, compile_exclude_pattern("sandbox"))["outcome"] == "created"


# ------------------------------------------------------------------ waiting: throttled, or a stack's grace period
def request(now: float, by_cloudformation: bool = False, ready_ago: float = 0, previous: int = 0) -> dict[str, Any]:
    return {
        "datasetGroupArn": ARN,
        "createdByCloudFormation": by_cloudformation,
        "readyAt": now - ready_ago,
        "graceSeconds": "120",
        "previousWaitSeconds": previous,
        "polling": {"initialWaitSeconds": "4", "maxWaitSeconds": "60", "timeoutSeconds": "1800"},
        "executionStartTime": datetime.fromtimestamp(now - ready_ago - 1, UTC).isoformat(),
        "executionId": "e",
    }


def wait_or_act(personalize: Any, **kwargs: Any) -> dict[str, Any]:
    now = time.time()
    return dict(create_adopt_or_wait(personalize, request(now, **kwargs), None, now))  # type: ignore[arg-type]


def test_a_stacks_group_waits_for_the_stacks_own_tracker_backing_off_to_the_grace_end(
    personalize, emulator: PersonalizeEmulator
) -> None:
    personalize.create_dataset_group(name="g")
    assert wait_or_act(personalize, by_cloudformation=True) == {
        "outcome": "waiting",
        "eventTrackerArn": None,
        "adopted": False,
        "waitingFor": STACK,
        "waitSeconds": 4,
    }
    assert wait_or_act(personalize, by_cloudformation=True, ready_ago=10, previous=4)["waitSeconds"] == 8
    assert wait_or_act(personalize, by_cloudformation=True, ready_ago=115, previous=32)["waitSeconds"] == 5
    assert emulator.calls.get("CreateEventTracker", 0) == 0


def test_a_stacks_tracker_is_adopted_as_soon_as_it_appears(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g")
    theirs = personalize.create_event_tracker(name="from-the-stack", datasetGroupArn=ARN)
    result = wait_or_act(personalize, by_cloudformation=True, ready_ago=5)
    assert (result["outcome"], result["eventTrackerArn"], result["waitSeconds"]) == (
        "adopted",
        theirs["eventTrackerArn"],
        0,
    )
    assert emulator.calls["CreateEventTracker"] == 1  # the stack's own


def test_after_the_grace_period_the_tracker_is_created(personalize) -> None:
    personalize.create_dataset_group(name="g")
    result = wait_or_act(personalize, by_cloudformation=True, ready_ago=121)
    # The first check of a tracker just created comes PollIntervalSeconds later.
    assert (result["outcome"], result["adopted"], result["waitSeconds"]) == ("created", False, 4)


def test_a_group_a_person_made_gets_no_grace_period(personalize) -> None:
    personalize.create_dataset_group(name="g")
    assert wait_or_act(personalize, by_cloudformation=False)["outcome"] == "created"


def test_throttling_means_wait_then_limit_exceeded_at_the_deadline(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g")
    inject(Fault("personalize", "CreateEventTracker", per_second=0), emulator=emulator)
    assert wait_or_act(personalize, previous=4) == {
        "outcome": "waiting",
        "eventTrackerArn": None,
        "adopted": False,
        "waitingFor": THROTTLING,
        "waitSeconds": 8,
    }
    with pytest.raises(LimitExceeded, match="still throttling after ProvisioningTimeoutSeconds"):
        wait_or_act(personalize, ready_ago=1800)


def test_an_outage_means_wait_and_says_for_what() -> None:
    unreachable = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # nothing listens: connection refused
        config=Config(retries={"total_max_attempts": 1}),
    )
    assert wait_or_act(unreachable, previous=4) == {
        "outcome": "waiting",
        "eventTrackerArn": None,
        "adopted": False,
        "waitingFor": OUTAGE,
        "waitSeconds": 8,
    }
