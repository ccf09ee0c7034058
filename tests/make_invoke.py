"""What `make invoke` gives for each function on its sample: the function's result and what it changed (the
"seeded" and "after" lines `tools/invoke.py` writes on stderr). The container tier checks the lines docs/local.md
documents in containers; tests/integration/test_make_invoke.py checks every one in-process."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/"
PARAMETER = "/personalize/retail-recommendations/tracking-id"
SAMPLE_TIME = "2026-11-26T06:00:00Z"  # the samples' CloudTrail eventTime


def parse_input(
    name: str, by_cloudformation: bool = False, event_time: str | None = SAMPLE_TIME
) -> Callable[[Any, str], None]:
    def check(result: Any, log: str) -> None:
        assert result == {
            "datasetGroupArn": GROUP + name,
            "datasetGroupName": name,
            "parameterName": f"/personalize/{name}/tracking-id",
            "createdByCloudFormation": by_cloudformation,
            "kind": "eventTracker",
            "datasetArn": None,
            "eventTime": event_time,
            "startedBy": "event" if event_time else "person",  # the direct input is a start by hand
        }

    return check


def check_dataset_group(result: Any, log: str) -> None:
    assert (result["status"], result["outcome"], result["waitSeconds"]) == ("ACTIVE", "ready", 0)
    assert isinstance(result["readyAt"], float)


def create_or_adopt_tracker(result: Any, log: str) -> None:
    assert (result["outcome"], result["adopted"], result["waitSeconds"]) == ("created", False, 5)
    assert result["eventTrackerName"] == "retail-recommendations-tracker"
    assert f"after      event tracker {result['eventTrackerArn']} (retail-recommendations-tracker)" in log


def check_event_tracker(result: Any, log: str) -> None:
    """ACTIVE: the trackingId stored (a String parameter: in the result too)."""
    seeded = re.search(r"seeded     event tracker \S+ \(ACTIVE, trackingId ([0-9a-f-]{36})\)", log)
    assert seeded, log
    assert (result["status"], result["outcome"]) == ("ACTIVE", "ready")
    assert result["parameterName"] == PARAMETER and result["trackingId"] == seeded.group(1)
    assert f"after      parameter {PARAMETER} = {seeded.group(1)}" in log


def reconciler(result: Any, log: str) -> None:
    assert result == {
        "checked": 2,
        "started": ["retail-recommendations"],
        "joined": [],
        "retagged": [],
        "skipped": {"video-on-demand": "tracker and parameter are in place"},
        "held": {},
        "unchecked": {},
        "continued": False,
    }
    assert re.search(r"after      execution reconcile-\d{8}T\d{2}-retail-recommendations \(RUNNING\)", log)


ACTION_PARAMETER = "/personalize/retail-recommendations/action-tracking-id"
DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/retail-recommendations/ACTION_INTERACTIONS"


def parse_action_input(group_known: bool) -> Callable[[Any, str], None]:
    def check(result: Any, log: str) -> None:
        assert result.pop("eventTime") == (SAMPLE_TIME if group_known else None)  # the event's; none for the input
        assert result == {
            "kind": "actionInteractions",
            "datasetArn": DATASET,
            "datasetGroupArn": GROUP + "retail-recommendations" if group_known else None,
            "datasetGroupName": "retail-recommendations" if group_known else None,
            "parameterName": ACTION_PARAMETER if group_known else None,
            "createdByCloudFormation": False,
            "startedBy": "event" if group_known else "person",
        }

    return check


def check_dataset(result: Any, log: str) -> None:
    seeded = re.search(r"seeded     Action interactions dataset \S+ \(ACTIVE, trackingId ([0-9a-f-]{36})\)", log)
    assert seeded, log
    assert result == {
        "datasetArn": DATASET,
        "datasetGroupArn": GROUP + "retail-recommendations",
        "datasetGroupName": "retail-recommendations",
        "parameterName": ACTION_PARAMETER,
        "status": "ACTIVE",
        "outcome": "ready",
        "waitSeconds": 0,
        "trackingId": seeded.group(1),
        # The seeded dataset became ACTIVE just now: a lag of seconds; the sample's start lies in the future (so that a
        # hand-run check never times out), and a time to the ID is never negative.
        "lag": {**result["lag"], "timeToTrackingIdSeconds": 0.0, "timeToTrackingIdFrom": "executionStartTime"},
    }
    assert 0 <= result["lag"]["provisioningLagSeconds"] < 600
    assert f"after      parameter {ACTION_PARAMETER} = {seeded.group(1)}" in log


def teardown(*deleted: str) -> Callable[[Any, str], None]:
    def check(result: Any, log: str) -> None:
        assert sorted(result["deleted"]) == sorted(deleted)
        for name in deleted:
            assert f"after      parameter {name}" not in log
        for spared in {PARAMETER, ACTION_PARAMETER} - set(deleted):
            assert f"after      parameter {spared} = " in log
        assert "after      parameter /personalize/retail-recommendations/notes = written by someone else" in log

    return check


def release_tracker(result: Any, log: str) -> None:
    """The hook's answer once the application's tracker is gone; its parameter removed, a `released` hold kept."""
    assert (result["hookStatus"], result["clientRequestToken"]) == ("SUCCESS", "f1a2b3c4-d5e6-4f70-8a9b-0c1d2e3f4a5b")
    assert "after      no event tracker in retail-recommendations" in log
    assert f"after      parameter {PARAMETER}" not in log
    assert re.search(
        r'after      parameter /personalize/retail-recommendations/tracker-hold = \{"kind": "released"', log
    )


def sweeper(result: Any, log: str) -> None:
    stale = [PARAMETER, ACTION_PARAMETER]
    assert sorted(result["swept"]) == sorted(stale) and result["checked"] == 3, result
    assert (result["unchecked"], result["continued"]) == ({}, False)
    for name in stale:
        assert f"after      parameter {name}" not in log
    assert re.search(r"after      parameter /personalize/video-on-demand/tracking-id = [0-9a-f-]{36}", log), log
    assert "after      parameter /personalize/retail-recommendations/notes = written by someone else" in log


EXPECTED: dict[tuple[str, str], Callable[[Any, str], None]] = {
    ("ParseInputFunction", "events/create-dataset-group.json"): parse_input("retail-recommendations"),
    ("CheckDatasetGroupFunction", "events/check-dataset-group.json"): check_dataset_group,
    ("CreateOrAdoptTrackerFunction", "events/create-or-adopt-tracker.json"): create_or_adopt_tracker,
    ("CheckEventTrackerFunction", "events/check-event-tracker.json"): check_event_tracker,
    ("ReconcilerFunction", "events/scheduled-event.json"): reconciler,
    ("SweeperFunction", "events/scheduled-event.json"): sweeper,
    ("TeardownFunction", "events/delete-dataset-group.json"): teardown(PARAMETER, ACTION_PARAMETER),
    ("CheckDatasetFunction", "events/check-dataset.json"): check_dataset,
    ("ReleaseTrackerFunction", "events/hook-delete-dataset.json"): release_tracker,
}
