"""CreateOrAdoptTracker: make the dataset group's event tracker, or adopt the one it has."""

from __future__ import annotations

import math
import os
import re
import time
import warnings
from dataclasses import dataclass
from typing import Any, TypedDict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from common import holds
from common.clients import personalize_client, ssm_client
from common.errors import DatasetGroupNotFound, LimitExceeded, error_code, named_aws_error
from common.opt_out import compile_exclude_pattern, opt_out_reason
from common.personalize import (
    MADE_BY,
    TAG_MADE_BY,
    TAGS_MAX,
    dataset_group_tags,
    live_trackers,
    parse_dataset_group_arn,
    tracker_name,
)
from common.polling import THROTTLED, PollRequest, keep_waiting
from common.status import waiting_out_outage

logger = Logger()
metrics = Metrics()
# A skipped or waiting answer adds no metric: expected, so no UserWarning in the logs
# (Powertools' documented way to say so).
warnings.filterwarnings("ignore", "No application metrics to publish*")
personalize = personalize_client()
ssm = ssm_client()
EXCLUDE = compile_exclude_pattern(os.environ.get("EXCLUDE_NAME_PATTERN", ""))
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")

# What an outcome `waiting` waits for (`waitingFor`, in the execution's history for whoever reads it).
DELETION = "the deletion of the group's tracker"
STACK = "the stack's own tracker"
THROTTLING = "Personalize's throttling to end"
OUTAGE = "Personalize to answer"
# Codes CreateEventTracker may answer when the dataset group already has a
# tracker. ResourceAlreadyExists is the likely one, the others are not ruled out.
_ALREADY_HAS_TRACKER = frozenset({"ResourceAlreadyExistsException", "ResourceInUseException", "InvalidInputException"})


class TrackerRequest(PollRequest):
    datasetGroupArn: str
    createdByCloudFormation: bool
    readyAt: float  # when CheckDatasetGroup saw the group ACTIVE
    graceSeconds: float | str  # CloudFormationGraceSeconds
    startedBy: str  # which holds this start lifts (common.holds)
    datasetGroupCreated: float | None  # the group's creationDateTime (CheckDatasetGroup)
    eventTime: str | None  # of the CloudTrail event that started the execution


class TrackerResult(TypedDict, total=False):
    outcome: str  # created, adopted, skipped or waiting: the Choice after this step reads only this
    eventTrackerArn: str | None
    eventTrackerName: str
    adopted: bool
    waitSeconds: int
    reason: str  # why skipped, or what CreateEventTracker answered while the group's tracker is being deleted
    waitingFor: str  # DELETION, STACK, THROTTLING or OUTAGE, with outcome `waiting`


def tracker_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    """The dataset group's tags as the tracker's, within Personalize's limits, and the mark of the trackers this
    application made (never copied from the group: a person's tag must not make a tracker ours)."""
    copied = [
        {"tagKey": key, "tagValue": value}
        for key, value in sorted(tags.items())
        if not key.lower().startswith("aws:") and key != TAG_MADE_BY
    ]
    return [{"tagKey": TAG_MADE_BY, "tagValue": MADE_BY}, *copied[: TAGS_MAX - 1]]


def find_tracker(personalize: Any, dataset_group_arn: str) -> dict[str, Any] | None:
    """The dataset group's tracker that is not being deleted, if any (there is one at most)."""
    trackers = live_trackers(personalize, dataset_group_arn)
    return trackers[0] if trackers else None


def _adopted(tracker: dict[str, Any]) -> TrackerResult:
    return {
        "outcome": "adopted",
        "eventTrackerArn": tracker["eventTrackerArn"],
        "eventTrackerName": tracker["name"],
        "adopted": True,
    }


@dataclass
class HoldContext:
    """What CreateOrAdoptTracker needs to honour holds (common.holds): SSM, who started it, which group."""

    ssm: Any
    prefix: str
    started_by: str = holds.PERSON
    created: float | None = None  # the group's creationDateTime
    event_time: str | None = None  # of the CloudTrail event that started the execution


def _skipped(reason: str) -> TrackerResult:
    return {"outcome": "skipped", "eventTrackerArn": None, "adopted": False, "reason": reason}


def _waiting(waiting_for: str) -> TrackerResult:
    return {"outcome": "waiting", "eventTrackerArn": None, "adopted": False, "waitingFor": waiting_for}


def create_or_adopt_tracker(
    personalize: Any,
    dataset_group_arn: str,
    exclude: re.Pattern[str] | None = None,
    within_grace: bool = False,
    context: HoldContext | None = None,
) -> TrackerResult:
    """Adopt the group's tracker, or create one; `within_grace`: adopt, but do not create yet (outcome `waiting`).
    With `context`: a hold this start does not lift keeps it from creating one (outcome `skipped`), and so does a
    tracker someone deleted without an event saying so."""
    dataset_group = parse_dataset_group_arn(dataset_group_arn)
    if dataset_group is None:
        raise ValueError(f"Not a dataset group ARN: {dataset_group_arn!r}")
    name, arn = dataset_group.name, dataset_group.arn

    try:
        tags = dataset_group_tags(personalize, arn)
        reason = opt_out_reason(name, tags, exclude)
        if reason:
            return _skipped(reason)

        existing = find_tracker(personalize, arn)
        hold = holds.read_hold(context.ssm, context.prefix, name, context.created) if context else None
        lifted = hold is not None and context is not None and hold.lifted_by(context.started_by, context.event_time)
        failed_again = (
            hold is not None
            and not lifted
            and hold.kind == holds.FAILED
            and existing is not None
            and hold.eventTrackerArn == existing["eventTrackerArn"]
        )
        # Lifted by this start, or a tracker is there again (a person's, a stack's): the hold has ended.
        if context and hold and (lifted or (existing and not failed_again)):
            holds.clear_hold(context.ssm, context.prefix, name)
            hold = None
        if existing and not failed_again:
            return _adopted(existing)
        if hold:
            return _skipped(hold.describe())
        if context and context.started_by != holds.PERSON:
            # A tracker its parameter names is gone: someone deleted it, and no event has said so yet (the
            # teardown, or the reconciler within the hour, records who and when).
            gone = holds.vanished(personalize, context.ssm, context.prefix, arn, name, context.created)
            if gone is not None:
                return _skipped(gone.describe())
        if within_grace:
            return _waiting(STACK)

        tracker = tracker_name(dataset_group)
        try:
            created = personalize.create_event_tracker(name=tracker, datasetGroupArn=arn, tags=tracker_tags(tags))
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                raise DatasetGroupNotFound(f"Dataset group {arn} does not exist") from error
            if code not in _ALREADY_HAS_TRACKER:
                raise
            # Another execution (or a person) made the tracker first: adopt it.
            winner = find_tracker(personalize, arn)
            if winner:
                return _adopted(winner)
            if code == "InvalidInputException":
                raise
            # Its only tracker is being deleted (a person's deletion, or a release): wait until it is gone, then
            # ask again, holds and all.
            reason = f"CreateEventTracker {tracker} answered {code}: the group's tracker is being deleted"
            return {**_waiting(DELETION), "reason": reason}
    except ClientError as error:
        raise named_aws_error(error) from error

    return {
        "outcome": "created",
        "eventTrackerArn": created["eventTrackerArn"],
        "eventTrackerName": tracker,
        "adopted": False,
    }


def grace_seconds_left(request: TrackerRequest, now: float) -> float:
    """For a group a CloudFormation stack made: how much longer its own AWS::Personalize::EventTracker may appear."""
    if not request.get("createdByCloudFormation"):
        return 0.0
    return float(request.get("readyAt") or now) + float(request.get("graceSeconds") or 0) - now


def create_adopt_or_wait(
    personalize: Any,
    request: TrackerRequest,
    exclude: re.Pattern[str] | None,
    now: float,
    context: HoldContext | None = None,
) -> TrackerResult:
    """create_or_adopt_tracker, or "wait N s": Personalize throttled (LimitExceeded once the deadline has passed), or
    the group's stack may still create its own tracker (adopted as soon as it appears)."""
    arn = request["datasetGroupArn"]
    grace = grace_seconds_left(request, now)
    try:
        result = create_or_adopt_tracker(personalize, arn, exclude, within_grace=grace > 0, context=context)
    except LimitExceeded as error:
        logger.warning("Throttled; waiting", extra={"reason": str(error)})
        wait = keep_waiting(f"CreateOrAdoptTracker {arn}", THROTTLED, request, now)["waitSeconds"]
        return {**_waiting(THROTTLING), "waitSeconds": wait}
    except Exception as error:  # an outage: wait; a create that went through meanwhile is adopted next time
        wait = waiting_out_outage(f"CreateOrAdoptTracker {arn}", error, request, now)["waitSeconds"]
        return {**_waiting(OUTAGE), "waitSeconds": wait}
    if result.get("waitingFor") == DELETION:
        wait = keep_waiting(f"The deletion of the tracker of {arn}", "DELETE IN_PROGRESS", request, now)["waitSeconds"]
        return {**result, "waitSeconds": wait}
    if result.get("waitingFor") == STACK:
        wait = keep_waiting(f"The stack's own tracker of {arn}", "NOT THERE YET", request, now)["waitSeconds"]
        return {**result, "waitSeconds": max(1, min(wait, math.ceil(grace)))}
    # A tracker just created is never ACTIVE at once: the first check comes PollIntervalSeconds later.
    first_check = int(request["polling"]["initialWaitSeconds"]) if result["outcome"] == "created" else 0
    return {**result, "waitSeconds": first_check}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: TrackerRequest, context: LambdaContext) -> TrackerResult:
    hold_context = HoldContext(
        ssm,
        PARAMETER_PREFIX,
        event.get("startedBy") or holds.PERSON,
        event.get("datasetGroupCreated"),
        event.get("eventTime"),
    )
    result = create_adopt_or_wait(personalize, event, EXCLUDE, time.time(), hold_context)
    if result["outcome"] == "skipped":
        logger.info("Dataset group left alone (opted out, or held)", extra={"reason": result["reason"]})
    elif result["outcome"] in ("created", "adopted"):
        metrics.add_metric(
            name="TrackerAdopted" if result["adopted"] else "TrackerCreated", unit=MetricUnit.Count, value=1
        )
        logger.info("Event tracker", extra=dict(result))
    return result
