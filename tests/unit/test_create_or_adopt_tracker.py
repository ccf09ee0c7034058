"""CreateOrAdoptTracker: one tracker per dataset group, whoever made it."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from common.errors import DatasetGroupNotFound, EventTrackerFailed, LimitExceeded
from common.opt_out import compile_exclude_pattern
from create_or_adopt_tracker.app import create_or_adopt_tracker, tracker_tags
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn

ARN = dataset_group_arn("g")


def test_creates_the_tracker_with_the_dataset_groups_tags(personalize, emulator: PersonalizeEmulator) -> None:
    tags = [{"tagKey": "team", "tagValue": "recs"}, {"tagKey": "cost-center", "tagValue": "42"}]
    personalize.create_dataset_group(name="g", tags=tags)

    result = create_or_adopt_tracker(personalize, ARN)

    assert result == {
        "skipped": False,
        "eventTrackerArn": result["eventTrackerArn"],
        "eventTrackerName": "g-tracker",
        "adopted": False,
    }
    assert re.fullmatch(r"arn:aws:personalize:us-east-1:123456789012:event-tracker/\w+", result["eventTrackerArn"])
    copied = personalize.list_tags_for_resource(resourceArn=result["eventTrackerArn"])["tags"]
    assert sorted(copied, key=lambda t: t["tagKey"]) == sorted(tags, key=lambda t: t["tagKey"])


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
        "skipped": False,
        "eventTrackerArn": existing["eventTrackerArn"],
        "eventTrackerName": "by-hand",
        "adopted": True,
    }
    assert emulator.calls["CreateEventTracker"] == 1


def test_a_tracker_being_deleted_is_not_adopted(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_tracker("g", Timing(deleting=60))
    personalize.create_dataset_group(name="g")
    old = personalize.create_event_tracker(name="old", datasetGroupArn=ARN)
    personalize.delete_event_tracker(eventTrackerArn=old["eventTrackerArn"])

    with pytest.raises(EventTrackerFailed, match="being deleted"):
        create_or_adopt_tracker(personalize, ARN)


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
    emulator.limit_rate("CreateEventTracker", 0)
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
        "skipped": True,
        "reason": "dataset group g is tagged event-tracker-provisioner:skip=true",
        "adopted": False,
    }
    assert emulator.calls.get("CreateEventTracker", 0) == 0


def test_a_name_matching_the_exclude_pattern_is_left_alone(personalize, emulator: PersonalizeEmulator) -> None:
    personalize.create_dataset_group(name="g")
    result: dict[str, Any] = dict(create_or_adopt_tracker(personalize, ARN, compile_exclude_pattern("g|sandbox-.*")))
    assert result["skipped"] is True
    assert "ExcludeNamePattern" in result["reason"]


def test_the_exclude_pattern_must_match_the_whole_name(personalize) -> None:
    personalize.create_dataset_group(name="g")
    assert create_or_adopt_tracker(personalize, ARN, compile_exclude_pattern("sandbox"))["skipped"] is False
