"""Teardown: what a deleted event tracker, Action interactions dataset or dataset group leaves behind.

Triggered by CloudTrail DeleteEventTracker, DeleteDataset and DeleteDatasetGroup calls. Each event is checked
against the world first: a parameter goes only when what it names is gone now, so that a late or repeated event
about a group deleted and made again under the same name (the same ARN) spares the new group's parameters, and
holds nothing against it. Only parameters this application wrote (recognised by its tags) are deleted.

A tracker deleted by anyone but the application is a deliberate deletion: the group gets a `deleted` hold (who and
when, from the event) that keeps every later run from making it again, and it is said once on the default bus.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from common import holds
from common.clients import Deadline, events_client, personalize_client, ssm_client, worst_call_seconds
from common.errors import error_code, named_aws_error
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN
from common.personalize import unless_gone

logger = Logger()
metrics = Metrics()
# A deletion of a group with many parameters makes calls in a loop: none begins that could outlast the invocation
# (Lambda tries the event again; what was done is not done twice).
DEADLINE = Deadline(reserve=worst_call_seconds())
personalize = DEADLINE.watch(personalize_client())
ssm = DEADLINE.watch(ssm_client())
events = DEADLINE.watch(events_client())
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
STATE_MACHINE = os.environ.get("STATE_MACHINE_ARN", "<StateMachineArn>")

# CloudTrail eventName -> (request parameter holding the deleted ARN, tag that names it on our parameters)
_DELETIONS = {
    "DeleteEventTracker": ("eventTrackerArn", TAG_EVENT_TRACKER_ARN),
    "DeleteDatasetGroup": ("datasetGroupArn", TAG_DATASET_GROUP_ARN),
    "DeleteDataset": ("datasetArn", TAG_DATASET_ARN),  # the Action interactions dataset's action-tracking-id
}


def deleted_resource(event: Any) -> tuple[str, str] | None:
    """(tag key, deleted ARN) for a successful deletion event, else None."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or detail.get("errorCode"):
        return None
    deletion = _DELETIONS.get(str(detail.get("eventName")))
    request = detail.get("requestParameters")
    if deletion is None or not isinstance(request, dict):
        return None
    field, tag = deletion
    arn = request.get(field)
    return (tag, arn) if isinstance(arn, str) and arn else None


def our_parameters(ssm: Any, prefix: str, tag: str, arn: str) -> dict[str, Any]:
    """The parameters under the prefix that this application tagged with that ARN: name -> when last written."""
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[
            {"Key": "Path", "Option": "Recursive", "Values": [prefix]},
            {"Key": f"tag:{tag}", "Values": [arn]},
        ]
    )
    return {p["Name"]: p.get("LastModifiedDate") for page in pages for p in page["Parameters"]}


def groups_of(personalize: Any, ssm: Any, prefix: str, tracker: str) -> dict[str, list[Any]]:
    """The dataset groups the deleted tracker was of, each with when the parameters naming it were last written; for
    one whose ID was never stored, named by Personalize while the tracker is still being deleted (None: a group
    cannot go, nor be made again, before its tracker has)."""
    groups: dict[str, list[Any]] = {}
    for name, written in our_parameters(ssm, prefix, TAG_EVENT_TRACKER_ARN, tracker).items():
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
        groups.setdefault({tag["Key"]: tag["Value"] for tag in tags}.get(TAG_DATASET_GROUP_ARN, ""), []).append(written)
    try:
        deleting = personalize.describe_event_tracker(eventTrackerArn=tracker)["eventTracker"]
        groups.setdefault(str(deleting.get("datasetGroupArn") or ""), []).append(None)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
    groups.pop("", None)
    return groups


def hold_deleted_tracker(
    personalize: Any, ssm: Any, events: Any, prefix: str, tracker: str, detail: dict[str, Any], state_machine: str
) -> None:
    """Record who deleted the tracker in each group it was of, and say so once; not for a tracker the application
    removed itself (its `released` hold names it), nor against a group made again under the same name (the same
    ARN) after the parameter naming the tracker was written: the tracker was the earlier group's."""
    for group_arn, writes in sorted(groups_of(personalize, ssm, prefix, tracker).items()):
        group = unless_gone(functools.partial(_describer(personalize, TAG_DATASET_GROUP_ARN), group_arn))
        if group is None:
            continue  # the group is going too: nothing to hold back
        group_name, created = group["name"], holds.epoch(group.get("creationDateTime"))
        if all(holds.of_an_earlier_group(written, created) for written in writes):
            logger.info("The deleted tracker was an earlier group's of that name", extra={"datasetGroup": group_name})
            continue
        hold = holds.read_hold(ssm, prefix, group_name, created)
        if hold is not None and hold.kind == holds.RELEASED and hold.eventTrackerArn == tracker:
            continue
        at = str(detail.get("eventTime") or holds.UNKNOWN)
        deleted = holds.Hold(holds.DELETED, group["datasetGroupArn"], created, tracker, holds.identity(detail), at)
        if holds.record_hold(ssm, prefix, group_name, deleted):
            holds.announce_deleted(events, deleted, group_name, state_machine)
            logger.info("Tracker deleted by someone: held", extra={"datasetGroup": group_name, "by": deleted.by})


def _describer(personalize: Any, tag: str) -> Any:
    return {
        TAG_EVENT_TRACKER_ARN: lambda arn: personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"],
        TAG_DATASET_GROUP_ARN: lambda arn: personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"],
        TAG_DATASET_ARN: lambda arn: personalize.describe_dataset(datasetArn=arn)["dataset"],
    }[tag]


def tear_down(
    personalize: Any, ssm: Any, events: Any, event: Any, prefix: str, state_machine: str = "<StateMachineArn>"
) -> list[str]:
    """The parameters deleted for a deletion event: none while what it names still lives."""
    resource = deleted_resource(event)
    if resource is None:
        logger.warning("Not a successful DeleteEventTracker, DeleteDataset or DeleteDatasetGroup call; nothing to do")
        return []
    tag, arn = resource
    deleted = []
    try:
        if unless_gone(functools.partial(_describer(personalize, tag), arn)) is not None:
            logger.info("Still there: a late or repeated event, or another resource of that ARN", extra={"arn": arn})
            return []
        if tag == TAG_EVENT_TRACKER_ARN:
            hold_deleted_tracker(personalize, ssm, events, prefix, arn, event["detail"], state_machine)
        for name in our_parameters(ssm, prefix, tag, arn):
            if tag == TAG_EVENT_TRACKER_ARN and name.endswith("/" + holds.HOLD):
                continue  # a hold about this tracker outlives it: that is what it is for
            try:
                ssm.delete_parameter(Name=name)
            except ClientError as error:
                if error_code(error) != "ParameterNotFound":
                    raise
                continue
            deleted.append(name)
    except ClientError as error:
        raise named_aws_error(error, throttling_as_limit=False) from error
    return deleted


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    DEADLINE.seconds_left = lambda: context.get_remaining_time_in_millis() / 1000
    deleted = tear_down(personalize, ssm, events, event, PARAMETER_PREFIX, STATE_MACHINE)
    metrics.add_metric(name="ParametersDeleted", unit=MetricUnit.Count, value=len(deleted))
    logger.info("Teardown", extra={"deleted": deleted})
    return {"deleted": deleted}
