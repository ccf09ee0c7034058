"""ReleaseTracker: the application's own tracker never blocks the deletion of a dataset group.

Personalize refuses DeleteDatasetGroup, and DeleteDataset of the Item interactions dataset, while the group has an
event tracker. This removes the tracker the application made for the group, for two callers:

- CloudFormation and Cloud Control, through the stack's Lambda hook, before they delete an
  AWS::Personalize::DatasetGroup or AWS::Personalize::Dataset: the hook answers SUCCESS once Personalize no longer
  counts the tracker, IN_PROGRESS (CloudFormation calls again) while it is being deleted.
- EventBridge, when CloudTrail shows that Personalize refused one of those deletions: the next try succeeds.

It never touches a tracker it did not make (an adopted one has no made-by tag). It records a `released` hold
first (common.holds), so that no scheduled run makes the tracker again while the group is being torn down.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from common import holds
from common.clients import Deadline, personalize_client, ssm_client, worst_call_seconds
from common.errors import ProvisioningError, error_code, named_aws_error
from common.personalize import CREATING, DELETING, MADE_BY, TAG_MADE_BY, dataset_group_arn

logger = Logger()
# It polls until the tracker is gone: no call begins that could outlast the invocation (an event is tried again by
# Lambda; a hook that fails lets the deletion go on, FailureMode WARN).
DEADLINE = Deadline(reserve=worst_call_seconds())
personalize = DEADLINE.watch(personalize_client())
ssm = DEADLINE.watch(ssm_client())
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
REGION = os.environ.get("AWS_REGION", "")
ACCOUNT = os.environ.get("ACCOUNT_ID", "")
PARTITION = os.environ.get("PARTITION", "aws")
POLL_SECONDS = 2.0
HOOK_SECONDS = 20.0  # of polling per hook invocation: CloudFormation waits 30 s for the function
HOOK_CALLBACK_SECONDS = 30
HOOK_IN_PROGRESS_MAX = 2  # answers before the last: CloudFormation invokes a Lambda hook at most 3 times
INTERACTIONS = "INTERACTIONS"


class TrackerStillCreating(ProvisioningError):
    """The application's tracker was still being created when the time ran out (Lambda tries the event again)."""


@dataclass
class Released:
    done: bool  # no tracker of the application's is left in the group (Personalize no longer counts it)
    message: str
    theirs: bool = False  # the group's tracker is not the application's: left in place


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of a request, or an empty one (a field missing or of another type)."""
    return value if isinstance(value, dict) else {}


def made_here(personalize: Any, tracker_arn: str) -> bool:
    tags = personalize.list_tags_for_resource(resourceArn=tracker_arn).get("tags", [])
    return any(tag["tagKey"] == TAG_MADE_BY and tag.get("tagValue") == MADE_BY for tag in tags)


def release_step(personalize: Any, ssm: Any, prefix: str, group_arn: str, by: str) -> Released:
    """One look at the group: delete the application's trackers that can be deleted (a `released` hold and the
    parameter first); done when none is left."""
    try:
        group = personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return Released(True, f"dataset group {group_arn} does not exist")
        raise
    pages = personalize.get_paginator("list_event_trackers").paginate(datasetGroupArn=group_arn)
    trackers = [tracker for page in pages for tracker in page.get("eventTrackers", [])]
    if not trackers:
        return Released(True, f"dataset group {group_arn} has no event tracker")
    name, created = group["name"], holds.epoch(group.get("creationDateTime"))
    waiting = []
    for tracker in trackers:
        arn, status = tracker["eventTrackerArn"], tracker.get("status", "")
        if not made_here(personalize, arn):
            return Released(True, f"event tracker {arn} was not made by this application: left in place", True)
        if status in DELETING or status in CREATING:  # CREATING: Personalize cannot delete it yet
            waiting.append(f"{arn} is {status}")
            continue
        hold = holds.Hold(holds.RELEASED, group_arn, created, arn, by, holds.now_iso())
        holds.record_hold(ssm, prefix, name, hold)
        holds.remove_tracking_id(ssm, prefix, name, arn)
        try:
            personalize.delete_event_tracker(eventTrackerArn=arn)
            logger.info("Deleting the application's tracker so that a deletion goes through", extra={"arn": arn})
        except ClientError as error:
            if error_code(error) not in ("ResourceNotFoundException", "ResourceInUseException"):
                raise
        waiting.append(f"{arn} is being deleted")
    return Released(False, "; ".join(waiting))


def release(
    personalize: Any,
    ssm: Any,
    prefix: str,
    group_arn: str,
    by: str,
    seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Released:
    """Release steps every POLL_SECONDS until none of the application's trackers is left, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        released = release_step(personalize, ssm, prefix, group_arn, by)
        if released.done or time.monotonic() + POLL_SECONDS > deadline:
            return released
        sleep(POLL_SECONDS)


def hook_target(request: dict[str, Any], partition: str, region: str, account: str) -> str | None:
    """The dataset group whose tracker blocks the resource the hook is about, if any: the group itself, or the
    group of an Item interactions dataset."""
    data = _object(request.get("requestData"))
    model = _object(data.get("targetModel"))
    properties = _object(model.get("resourceProperties"))
    target = data.get("targetName") or data.get("targetType")
    if target == "AWS::Personalize::DatasetGroup" and isinstance(properties.get("Name"), str):
        return dataset_group_arn(partition, region, str(request.get("awsAccountId") or account), properties["Name"])
    if target == "AWS::Personalize::Dataset" and str(properties.get("DatasetType", "")).upper() == INTERACTIONS:
        group = properties.get("DatasetGroupArn")
        return group if isinstance(group, str) else None
    return None


def on_hook(personalize: Any, ssm: Any, prefix: str, request: dict[str, Any]) -> dict[str, Any]:
    """A Lambda hook's answer (CloudFormation Hooks user guide): SUCCESS, IN_PROGRESS with a callback, or FAILED
    (the hook's FailureMode WARN lets the deletion go on; CloudTrail's refusal then brings the event path)."""
    answer: dict[str, Any] = {"clientRequestToken": request.get("clientRequestToken")}
    group_arn = hook_target(request, PARTITION, REGION, ACCOUNT)
    if group_arn is None:
        return {**answer, "hookStatus": "SUCCESS", "message": "No dataset group tracker blocks this deletion."}
    by = f"CloudFormation ({request.get('stackId') or 'Cloud Control API'})"
    try:
        released = release(personalize, ssm, prefix, group_arn, by, HOOK_SECONDS)
    except ClientError as error:
        failure = f"{error_code(error)}: {error}"
        return {**answer, "hookStatus": "FAILED", "errorCode": "InternalFailure", "message": failure[:1000]}
    if released.done:
        return {**answer, "hookStatus": "SUCCESS", "message": released.message[:1000]}
    context = _object(request.get("requestContext"))
    callback = _object(context.get("callbackContext"))
    answered = int(callback.get("inProgressAnswers", 0))
    if answered >= HOOK_IN_PROGRESS_MAX:
        message = f"Still releasing the tracker ({released.message}); the deletion goes on (FailureMode WARN)"
        return {**answer, "hookStatus": "FAILED", "errorCode": "InternalFailure", "message": message[:1000]}
    return {
        **answer,
        "hookStatus": "IN_PROGRESS",
        "message": released.message[:1000],
        "callbackContext": {"inProgressAnswers": answered + 1},
        "callbackDelaySeconds": HOOK_CALLBACK_SECONDS,
    }


def refused_target(personalize: Any, detail: dict[str, Any]) -> str | None:
    """The dataset group of a refused DeleteDatasetGroup, or of a refused DeleteDataset of an Item interactions
    dataset."""
    request = _object(detail.get("requestParameters"))
    if detail.get("eventName") == "DeleteDatasetGroup":
        group = request.get("datasetGroupArn")
        return group if isinstance(group, str) else None
    dataset_arn = request.get("datasetArn")
    if detail.get("eventName") != "DeleteDataset" or not isinstance(dataset_arn, str):
        return None
    try:
        dataset = personalize.describe_dataset(datasetArn=dataset_arn)["dataset"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    if str(dataset.get("datasetType", "")).upper() != INTERACTIONS:
        return None
    return str(dataset["datasetGroupArn"])


def on_refused(personalize: Any, ssm: Any, prefix: str, event: dict[str, Any], seconds: float) -> dict[str, Any]:
    detail = _object(event.get("detail"))
    group_arn = refused_target(personalize, detail)
    if group_arn is None:
        return {"released": False, "message": "Not a deletion a tracker blocks"}
    released = release(personalize, ssm, prefix, group_arn, holds.identity(detail), seconds)
    if not released.done and "CREATE" in released.message:
        raise TrackerStillCreating(released.message)
    return {"released": not released.theirs, "datasetGroupArn": group_arn, "message": released.message}


@logger.inject_lambda_context
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        return {"released": False, "message": "Not an event"}
    DEADLINE.seconds_left = lambda: context.get_remaining_time_in_millis() / 1000
    try:
        if "actionInvocationPoint" in event or "hookTypeName" in event:
            answer = on_hook(personalize, ssm, PARAMETER_PREFIX, event)
        else:
            seconds = context.get_remaining_time_in_millis() / 1000 - DEADLINE.needed
            answer = on_refused(personalize, ssm, PARAMETER_PREFIX, event, seconds)
    except ClientError as error:
        raise named_aws_error(error, throttling_as_limit=False) from error
    logger.info("Release", extra={"answer": answer})
    return answer
