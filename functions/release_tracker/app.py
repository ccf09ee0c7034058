"""ReleaseTracker: the application's own tracker never blocks the deletion of a dataset group.

Personalize refuses DeleteDatasetGroup, and DeleteDataset of the Item interactions dataset, while the group has an
event tracker. This removes the tracker the application made for the group, for two callers:

- CloudFormation and Cloud Control, through the stack's Lambda hook, before they delete an
  AWS::Personalize::DatasetGroup or AWS::Personalize::Dataset: the hook answers SUCCESS once Personalize no longer
  counts the tracker, IN_PROGRESS (CloudFormation calls again) while it is being deleted. A stack's request acts
  only on a resource that stack manages; each invocation answers within CloudFormation's 30 s.
- EventBridge, when CloudTrail shows that Personalize refused one of those deletions: the next try succeeds.

It never touches a tracker it did not make (an adopted one has no made-by tag; IAM checks the same tag). It records
a `released` hold first (common.holds), so that no scheduled run makes the tracker again while the group is being
torn down.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from common import holds
from common.clients import (
    Deadline,
    OutOfTime,
    cloudformation_client,
    personalize_client,
    ssm_client,
    worst_call_seconds,
)
from common.errors import ProvisioningError, error_code, is_outage, is_throttling, named_aws_error, unanswered
from common.personalize import (
    CREATING,
    DELETING,
    ITEM_INTERACTIONS,
    MADE_BY,
    TAG_MADE_BY,
    dataset_group_arn,
    dataset_of_type,
    unless_gone,
)

logger = Logger()
# The event path polls until the tracker is gone: no call begins that could outlast the invocation (Lambda tries
# the event again).
DEADLINE = Deadline(reserve=worst_call_seconds())
personalize = DEADLINE.watch(personalize_client())
ssm = DEADLINE.watch(ssm_client())
# The hook path answers within CloudFormation's 30 s, whatever hangs: single-attempt clients (a call takes at most
# ATTEMPT_SECONDS) and no attempt begins that could end after the answer is due.
CLOUDFORMATION_WAIT_SECONDS = 30.0  # CloudFormation waits this long for each invocation of a Lambda hook
HOOK_ANSWER_SECONDS = 1.0  # kept to answer after the last call
HOOK_DEADLINE = Deadline(reserve=HOOK_ANSWER_SECONDS)
HOOK_INVOCATIONS = 3  # CloudFormation invokes a Lambda hook at most three times: the third answer is final
HOOK_CALLBACK_SECONDS = 30
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
REGION = os.environ.get("AWS_REGION", "")
ACCOUNT = os.environ.get("ACCOUNT_ID", "")
PARTITION = os.environ.get("PARTITION", "aws")
POLL_SECONDS = 2.0
GROUP_TYPE, DATASET_TYPE = "AWS::Personalize::DatasetGroup", "AWS::Personalize::Dataset"
STACK_ID_TAG = "aws:cloudformation:stack-id"  # CloudFormation's system tag on what a stack creates
# The request's properties: the Hooks user guide puts a deleted resource's in previousResourceProperties
# (resourceProperties "will be empty"); cloudformation-cli's contract tests send them in resourceProperties.
PROPERTY_FIELDS = ("previousResourceProperties", "resourceProperties")
TOKEN_SPELLINGS = ("clientRequestToken", "clientRequesttoken")  # the guide spells it both ways


@functools.cache
def hook_clients() -> tuple[Any, Any, Any]:
    """Personalize, SSM and CloudFormation for the hook, made at its first invocation: the event path, which most
    invocations take, never needs them."""
    watch = HOOK_DEADLINE.watch
    return watch(personalize_client(once=True)), watch(ssm_client(once=True)), watch(cloudformation_client(once=True))


class TrackerStillCreating(ProvisioningError):
    """The application's tracker was still being created when the time ran out (Lambda tries the event again)."""


@dataclass
class Released:
    done: bool  # no tracker of the application's is left in the group (Personalize no longer counts it)
    message: str
    theirs: bool = False  # the group's tracker is not the application's: left in place


@dataclass(frozen=True)
class HookTarget:
    group_arn: str | None  # the group whose tracker blocks the deletion; None: nothing to release, see `why`
    resource_arn: str | None  # what the stack deletes: the group, or its Item interactions dataset
    why: str = ""


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of a request, or an empty one (a field missing or of another type)."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def made_here(personalize: Any, tracker_arn: str) -> bool | None:
    """Whether the application made the tracker; None when it is gone."""
    try:
        tags = personalize.list_tags_for_resource(resourceArn=tracker_arn).get("tags", [])
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    return any(tag["tagKey"] == TAG_MADE_BY and tag.get("tagValue") == MADE_BY for tag in tags)


def release_step(personalize: Any, ssm: Any, prefix: str, group_arn: str, by: str) -> Released:
    """One look at the group: delete the application's trackers that can be deleted (a `released` hold and the
    parameter first); done when none is left."""
    group = unless_gone(lambda: personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"])
    if group is None:
        return Released(True, f"dataset group {group_arn} does not exist")
    pages = personalize.get_paginator("list_event_trackers").paginate(datasetGroupArn=group_arn)
    trackers = [tracker for page in pages for tracker in page.get("eventTrackers", [])]
    name, created = group["name"], holds.epoch(group.get("creationDateTime"))
    waiting = []
    for tracker in trackers:
        arn, status = tracker["eventTrackerArn"], tracker.get("status", "")
        ours = made_here(personalize, arn)
        if ours is None:  # gone since it was listed
            continue
        if not ours:
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
            if error_code(error) == "ResourceNotFoundException":
                continue
            if error_code(error) != "ResourceInUseException":
                raise
        waiting.append(f"{arn} is being deleted")
    if not waiting:
        return Released(True, f"dataset group {group_arn} has no event tracker of the application's")
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
    """Release steps every POLL_SECONDS until none of the application's trackers is left, or `seconds` pass.
    Throttling and calls with no answer only mean "not yet"; a step the invocation's deadline cuts short leaves the
    answer to the step before it (what it saw of the trackers, rather than only "out of time")."""
    deadline = time.monotonic() + seconds
    released: Released | None = None
    while True:
        try:
            released = release_step(personalize, ssm, prefix, group_arn, by)
        except OutOfTime:
            if released is None:
                raise
            return released
        except (ClientError, BotoCoreError) as error:
            if not (is_outage(error) or (isinstance(error, ClientError) and is_throttling(error))):
                raise
            released = Released(False, f"not released yet: {unanswered(error)}")
        if released.done or time.monotonic() + POLL_SECONDS > deadline:
            return released
        sleep(POLL_SECONDS)


# ------------------------------------------------------------------ the hook
def hook_properties(request: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The target's properties, and the field that carried them (None: neither did)."""
    model = _object(_object(request.get("requestData")).get("targetModel"))
    for field in PROPERTY_FIELDS:
        if properties := _object(model.get(field)):
            return properties, field
    return {}, None


def hook_target(personalize: Any, request: dict[str, Any], partition: str, region: str, account: str) -> HookTarget:
    """What the request deletes, and the dataset group whose tracker blocks that: the group itself, or the group of
    an Item interactions dataset. From the properties in either field, or a primary identifier."""
    data = _object(request.get("requestData"))
    properties, field = hook_properties(request)
    target = data.get("targetName") or data.get("targetType")
    nothing = "the request carries no properties (resourceProperties and previousResourceProperties are empty)"
    if target == GROUP_TYPE:
        group = _text(properties.get("DatasetGroupArn"))
        if group is None and (name := _text(properties.get("Name"))):
            group = dataset_group_arn(partition, region, str(request.get("awsAccountId") or account), name)
        if group is None:
            return HookTarget(None, None, nothing if field is None else f"{field} has neither DatasetGroupArn nor Name")
        return HookTarget(group, group)
    if target != DATASET_TYPE:
        return HookTarget(None, None, f"{target} is neither a dataset group nor a dataset")
    dataset_arn = _text(properties.get("DatasetArn"))
    if dataset_arn is not None:
        dataset = unless_gone(lambda: personalize.describe_dataset(datasetArn=dataset_arn)["dataset"])
        if dataset is None:
            return HookTarget(None, None, f"dataset {dataset_arn} does not exist")
        kind, group = _text(dataset.get("datasetType")), _text(dataset.get("datasetGroupArn"))
    else:
        kind, group = _text(properties.get("DatasetType")), _text(properties.get("DatasetGroupArn"))
    if kind is None or group is None:
        why = nothing if field is None else f"{field} has neither DatasetArn nor DatasetType and DatasetGroupArn"
        return HookTarget(None, None, why)
    if kind.upper() != ITEM_INTERACTIONS:
        return HookTarget(None, None, f"no tracker blocks the deletion of a {kind} dataset")
    if dataset_arn is None:
        dataset = dataset_of_type(personalize, group, ITEM_INTERACTIONS)
        if dataset is None:
            return HookTarget(None, None, f"dataset group {group} has no Item interactions dataset")
        dataset_arn = str(dataset["datasetArn"])
    return HookTarget(group, dataset_arn)


def stack_manages(
    personalize: Any, cloudformation: Any, stack_id: str, logical_id: str | None, resource_arn: str
) -> str | None:
    """None when the stack manages the resource: it carries CloudFormation's stack-id tag of that stack, or the
    stack's resource of that logical ID is it (an imported resource has no tag). Otherwise, why not confirmed."""
    reasons = []
    try:
        tags = personalize.list_tags_for_resource(resourceArn=resource_arn).get("tags", [])
        if any(tag["tagKey"] == STACK_ID_TAG and tag.get("tagValue") == stack_id for tag in tags):
            return None
        reasons.append(f"it has no {STACK_ID_TAG} tag of that stack")
    except ClientError as error:
        reasons.append(f"its tags could not be read ({error_code(error)})")
    if logical_id is None:
        return "; ".join([*reasons, "the request names no targetLogicalId"])
    try:
        answer = cloudformation.describe_stack_resource(StackName=stack_id, LogicalResourceId=logical_id)
        physical = answer["StackResourceDetail"].get("PhysicalResourceId")
        if physical == resource_arn:
            return None
        reasons.append(f"the stack's {logical_id} is {physical or 'not created'}")
    except ClientError as error:
        reasons.append(f"CloudFormation could not say what the stack's {logical_id} is ({error_code(error)})")
    except BotoCoreError as error:
        reasons.append(f"CloudFormation did not answer ({type(error).__name__})")
    return "; ".join(reasons)


def hook_invocation(request: dict[str, Any]) -> int:
    """Which invocation this is (1 to 3): requestContext.invocation, or the answers counted in callbackContext,
    an object or a JSON string."""
    context = _object(request.get("requestContext"))
    callback = context.get("callbackContext")
    if isinstance(callback, str):
        try:
            callback = json.loads(callback)
        except ValueError:
            callback = None
    answered = _object(callback).get("inProgressAnswers", 0)
    invocation = context.get("invocation")
    return max(
        invocation if isinstance(invocation, int) else 1,
        answered + 1 if isinstance(answered, int) else 1,
    )


def on_hook(
    personalize: Any,
    ssm: Any,
    cloudformation: Any,
    prefix: str,
    request: dict[str, Any],
    seconds_left: Callable[[], float] = lambda: CLOUDFORMATION_WAIT_SECONDS,
) -> dict[str, Any]:
    """A Lambda hook's answer (CloudFormation Hooks user guide): SUCCESS, IN_PROGRESS with a callback, or FAILED
    (the hook's FailureMode WARN lets the deletion go on; CloudTrail's refusal then brings the event path)."""
    spellings = [key for key in TOKEN_SPELLINGS if key in request] or [TOKEN_SPELLINGS[0]]
    token = next((request[key] for key in spellings if request.get(key)), None)
    answer: dict[str, Any] = dict.fromkeys({TOKEN_SPELLINGS[0], *spellings}, token)
    invocation = hook_invocation(request)
    # What a real run teaches (issue 33): which field carried the properties. No values are logged.
    logger.info("Hook request", extra={"propertiesFrom": hook_properties(request)[1], "invocation": invocation})
    data = _object(request.get("requestData"))
    stack_id = _text(request.get("stackId"))
    try:
        target = hook_target(personalize, request, PARTITION, REGION, ACCOUNT)
        if target.group_arn is None or target.resource_arn is None:
            return {**answer, "hookStatus": "SUCCESS", "message": f"Nothing released: {target.why}."[:1000]}
        if stack_id is not None:
            logical_id = _text(data.get("targetLogicalId"))
            why_not = stack_manages(personalize, cloudformation, stack_id, logical_id, target.resource_arn)
            if why_not is not None:
                message = f"Nothing released: stack {stack_id} does not manage {target.resource_arn} ({why_not})."
                return {**answer, "hookStatus": "SUCCESS", "message": message[:1000]}
        by = f"CloudFormation ({stack_id or 'Cloud Control API'})"
        seconds = seconds_left() - HOOK_DEADLINE.needed
        released = release(personalize, ssm, prefix, target.group_arn, by, seconds)
    except OutOfTime as error:
        released = Released(False, f"out of time for this invocation ({error})")
    except ClientError as error:
        failure = f"{error_code(error)}: {error}"
        return {**answer, "hookStatus": "FAILED", "errorCode": "InternalFailure", "message": failure[:1000]}
    if released.done:
        return {**answer, "hookStatus": "SUCCESS", "message": released.message[:1000]}
    if invocation >= HOOK_INVOCATIONS:
        message = f"Still releasing the tracker ({released.message}); the deletion goes on (FailureMode WARN)"
        return {**answer, "hookStatus": "FAILED", "errorCode": "InternalFailure", "message": message[:1000]}
    return {
        **answer,
        "hookStatus": "IN_PROGRESS",
        "message": released.message[:1000],
        "callbackContext": {"inProgressAnswers": invocation},
        "callbackDelaySeconds": HOOK_CALLBACK_SECONDS,
    }


# ------------------------------------------------------------------ CloudTrail's refusals
def refused_target(personalize: Any, detail: dict[str, Any]) -> str | None:
    """The dataset group of a refused DeleteDatasetGroup, or of a refused DeleteDataset of an Item interactions
    dataset."""
    request = _object(detail.get("requestParameters"))
    if detail.get("eventName") == "DeleteDatasetGroup":
        return _text(request.get("datasetGroupArn"))
    dataset_arn = _text(request.get("datasetArn"))
    if detail.get("eventName") != "DeleteDataset" or dataset_arn is None:
        return None
    try:
        dataset = personalize.describe_dataset(datasetArn=dataset_arn)["dataset"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    if str(dataset.get("datasetType", "")).upper() != ITEM_INTERACTIONS:
        return None
    return str(dataset["datasetGroupArn"])


def on_refused(personalize: Any, ssm: Any, prefix: str, event: dict[str, Any], seconds: float) -> dict[str, Any]:
    detail = _object(event.get("detail"))
    # What a real run teaches (issue 33): how CloudTrail spells Personalize's refusal. No values are logged.
    logger.info("Refused deletion", extra={"eventName": detail.get("eventName"), "errorCode": detail.get("errorCode")})
    group_arn = refused_target(personalize, detail)
    if group_arn is None:
        return {"released": False, "message": "Not a deletion a tracker blocks"}
    released = release(personalize, ssm, prefix, group_arn, holds.identity(detail), seconds)
    if not released.done and "CREATE" in released.message:
        raise TrackerStillCreating(released.message)
    return {"released": not released.theirs, "datasetGroupArn": group_arn, "message": released.message}


@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):
        return {"released": False, "message": "Not an event"}
    started = time.monotonic()
    try:
        if "actionInvocationPoint" in event or "hookTypeName" in event:

            def seconds_left() -> float:
                waited = CLOUDFORMATION_WAIT_SECONDS - (time.monotonic() - started)
                return min(context.get_remaining_time_in_millis() / 1000, waited)

            HOOK_DEADLINE.seconds_left = seconds_left
            answer = on_hook(*hook_clients(), PARAMETER_PREFIX, event, seconds_left)
        else:
            DEADLINE.seconds_left = lambda: context.get_remaining_time_in_millis() / 1000
            seconds = context.get_remaining_time_in_millis() / 1000 - DEADLINE.needed
            answer = on_refused(personalize, ssm, PARAMETER_PREFIX, event, seconds)
    except ClientError as error:
        raise named_aws_error(error, throttling_as_limit=False) from error
    logger.info("Release", extra={"answer": answer})
    return answer
