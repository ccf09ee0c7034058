"""CreateOrAdoptTracker: make the dataset group's event tracker, or adopt the one it has."""

from __future__ import annotations

import os
import re
import time
from typing import Any, TypedDict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from common.clients import personalize_client
from common.errors import DatasetGroupNotFound, EventTrackerFailed, LimitExceeded, error_code, named_aws_error
from common.opt_out import compile_exclude_pattern, opt_out_reason
from common.personalize import TAGS_MAX, dataset_group_tags, live_trackers, parse_dataset_group_arn, tracker_name
from common.polling import THROTTLED, PollRequest, keep_waiting

logger = Logger()
metrics = Metrics()
personalize = personalize_client()
EXCLUDE = compile_exclude_pattern(os.environ.get("EXCLUDE_NAME_PATTERN", ""))

# Codes CreateEventTracker may answer when the dataset group already has a
# tracker. ResourceAlreadyExists is the likely one, the others are not ruled out.
_ALREADY_HAS_TRACKER = frozenset({"ResourceAlreadyExistsException", "ResourceInUseException", "InvalidInputException"})


class TrackerRequest(PollRequest):
    datasetGroupArn: str


class TrackerResult(TypedDict, total=False):
    skipped: bool
    throttled: bool
    waitSeconds: int
    reason: str
    eventTrackerArn: str
    eventTrackerName: str
    adopted: bool


def tracker_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    """The dataset group's tags as the tracker's, within Personalize's limits."""
    copied = [
        {"tagKey": key, "tagValue": value} for key, value in sorted(tags.items()) if not key.lower().startswith("aws:")
    ]
    return copied[:TAGS_MAX]


def find_tracker(personalize: Any, dataset_group_arn: str) -> dict[str, Any] | None:
    """The dataset group's tracker that is not being deleted, if any (there is one at most)."""
    trackers = live_trackers(personalize, dataset_group_arn)
    return trackers[0] if trackers else None


def _adopted(tracker: dict[str, Any]) -> TrackerResult:
    return {
        "skipped": False,
        "eventTrackerArn": tracker["eventTrackerArn"],
        "eventTrackerName": tracker["name"],
        "adopted": True,
    }


def create_or_adopt_tracker(
    personalize: Any, dataset_group_arn: str, exclude: re.Pattern[str] | None = None
) -> TrackerResult:
    dataset_group = parse_dataset_group_arn(dataset_group_arn)
    if dataset_group is None:
        raise ValueError(f"Not a dataset group ARN: {dataset_group_arn!r}")

    try:
        tags = dataset_group_tags(personalize, dataset_group.arn)
        reason = opt_out_reason(dataset_group.name, tags, exclude)
        if reason:
            return {"skipped": True, "reason": reason, "adopted": False}

        existing = find_tracker(personalize, dataset_group.arn)
        if existing:
            return _adopted(existing)

        name = tracker_name(dataset_group)
        try:
            created = personalize.create_event_tracker(
                name=name, datasetGroupArn=dataset_group.arn, tags=tracker_tags(tags)
            )
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                raise DatasetGroupNotFound(f"Dataset group {dataset_group.arn} does not exist") from error
            if code not in _ALREADY_HAS_TRACKER:
                raise
            # Another execution (or a person) made the tracker first: adopt it.
            winner = find_tracker(personalize, dataset_group.arn)
            if winner:
                return _adopted(winner)
            if code == "InvalidInputException":
                raise
            raise EventTrackerFailed(
                f"CreateEventTracker {name} answered {code} but the dataset group has no tracker "
                "that is not being deleted; run the workflow again once the deletion has finished"
            ) from error
    except ClientError as error:
        raise named_aws_error(error) from error

    return {
        "skipped": False,
        "eventTrackerArn": created["eventTrackerArn"],
        "eventTrackerName": name,
        "adopted": False,
    }


def create_adopt_or_wait(
    personalize: Any, request: TrackerRequest, exclude: re.Pattern[str] | None, now: float
) -> TrackerResult:
    """create_or_adopt_tracker, or "throttled: wait N s" (LimitExceeded once the deadline has passed)."""
    try:
        return {**create_or_adopt_tracker(personalize, request["datasetGroupArn"], exclude), "throttled": False}
    except LimitExceeded as error:
        logger.warning("Throttled; waiting", extra={"reason": str(error)})
        wait = keep_waiting(f"CreateOrAdoptTracker {request['datasetGroupArn']}", THROTTLED, request, now)
        return {"skipped": False, "adopted": False, "throttled": True, "waitSeconds": wait["waitSeconds"]}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: TrackerRequest, context: Any) -> TrackerResult:
    result = create_adopt_or_wait(personalize, event, EXCLUDE, time.time())
    if result["throttled"]:
        return result
    if result["skipped"]:
        logger.info("Dataset group opted out", extra={"reason": result["reason"]})
    else:
        metrics.add_metric(
            name="TrackerAdopted" if result["adopted"] else "TrackerCreated", unit=MetricUnit.Count, value=1
        )
        logger.info("Event tracker", extra=dict(result))
    return result
