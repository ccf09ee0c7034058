"""The inputs the workflow accepts, and what each asks it to provision.

- the event tracker of a dataset group: a CloudTrail CreateDatasetGroup event from EventBridge, or
  {"datasetGroupArn": ...} for manual runs, replays and backfills;
- the tracking ID of an Action interactions dataset: a CloudTrail CreateDataset event of that type,
  or {"datasetArn": ...}.

Parsed with Powertools Parser (pydantic) models.
"""

from __future__ import annotations

import re
from typing import Any, Literal, NotRequired, TypedDict

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.errors import InvalidEvent
from common.holds import EVENT, INTERACTIONS_DATASET, PERSON
from common.parameters import action_parameter_name, parameter_name
from common.personalize import dataset_group_arn, parse_dataset_group_arn


class CreateDatasetGroupRequest(BaseModel):
    name: str | None = None
    domain: str | None = None


class CreateDatasetGroupResponse(BaseModel):
    datasetGroupArn: str | None = None


class UserIdentity(BaseModel):
    invokedBy: str | None = None


class CreateDatasetGroupCall(BaseModel):
    """The CloudTrail record in the event's `detail`."""

    eventSource: Literal["personalize.amazonaws.com"]
    eventName: Literal["CreateDatasetGroup"]
    errorCode: str | None = None
    errorMessage: str | None = None
    requestParameters: CreateDatasetGroupRequest | None = None
    responseElements: CreateDatasetGroupResponse | None = None
    userIdentity: UserIdentity | None = None
    sourceIPAddress: str | None = None
    userAgent: str | None = None

    def made_by_cloudformation(self) -> bool:
        """CloudTrail names the service that made a call on a principal's behalf in `userIdentity.invokedBy`,
        and records its DNS name as `sourceIPAddress` and `userAgent` (CloudTrail record contents)."""
        invoked_by = self.userIdentity.invokedBy if self.userIdentity else None
        return CLOUDFORMATION in (invoked_by, self.sourceIPAddress, self.userAgent)


class CreateDatasetGroupEvent(EventBridgeModel):
    source: Literal["aws.personalize"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: CreateDatasetGroupCall  # type: ignore[assignment]


class CreateDatasetRequest(BaseModel):
    datasetGroupArn: str | None = None
    datasetType: str | None = None


class CreateDatasetResponse(BaseModel):
    datasetArn: str | None = None


class CreateDatasetCall(BaseModel):
    eventSource: Literal["personalize.amazonaws.com"]
    eventName: Literal["CreateDataset"]
    errorCode: str | None = None
    requestParameters: CreateDatasetRequest | None = None
    responseElements: CreateDatasetResponse | None = None
    userIdentity: UserIdentity | None = None
    sourceIPAddress: str | None = None
    userAgent: str | None = None

    def made_by_cloudformation(self) -> bool:
        invoked_by = self.userIdentity.invokedBy if self.userIdentity else None
        return CLOUDFORMATION in (invoked_by, self.sourceIPAddress, self.userAgent)


class CreateDatasetEvent(EventBridgeModel):
    source: Literal["aws.personalize"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: CreateDatasetCall  # type: ignore[assignment]


class DirectDatasetInput(BaseModel):
    """`{"datasetArn": ...}`: store an Action interactions dataset's tracking ID (replays, the reconciler)."""

    model_config = ConfigDict(extra="forbid")

    datasetArn: str


class DirectInput(BaseModel):
    """`{"datasetGroupArn": ...}`, for manual runs, replays and backfills: a start by hand, which lifts any hold
    (common.holds). The reconciler adds `"startedBy": "schedule"`, which lifts none."""

    model_config = ConfigDict(extra="forbid")

    datasetGroupArn: str
    startedBy: Literal["person", "schedule"] = "person"


_CAUSE_MAX = 1000
CLOUDFORMATION = "cloudformation.amazonaws.com"


EVENT_TRACKER, ACTION_INTERACTIONS = "eventTracker", "actionInteractions"
_DATASET_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):personalize:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):dataset/\S{1,230}"
)


class DatasetGroup(TypedDict):
    kind: str  # EVENT_TRACKER or ACTION_INTERACTIONS
    datasetGroupArn: str | None  # for a dataset named only by its ARN: read from DescribeDataset later
    datasetGroupName: str | None
    parameterName: str | None
    createdByCloudFormation: bool  # its stack may declare the tracker too (AWS::Personalize::EventTracker)
    datasetArn: str | None  # the Action interactions dataset, for ACTION_INTERACTIONS
    # person, event, schedule or interactionsDataset (common.holds): which holds this start lifts
    startedBy: str
    # The CloudTrail event's time: when the dataset group (or dataset) was created, if an event says.
    eventTime: NotRequired[str | None]


def event_time(event: Any) -> str | None:
    """The CloudTrail record's eventTime (the call's own time), for TimeToTrackingIdSeconds; None without one."""
    detail = event.get("detail") if isinstance(event, dict) else None
    stamp = detail.get("eventTime") if isinstance(detail, dict) else None
    return stamp if isinstance(stamp, str) and 0 < len(stamp) <= 64 else None


def _describe(error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'input'}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    ]
    return "; ".join(problems)[:_CAUSE_MAX]


def _arn_from_event(event: dict[str, Any], partition: str) -> tuple[str, bool]:
    try:
        parsed = parse(event=event, model=CreateDatasetGroupEvent)
    except ValidationError as error:
        raise InvalidEvent(f"Not a CreateDatasetGroup event: {_describe(error)}") from None
    call = parsed.detail
    if call.errorCode:
        raise InvalidEvent(f"The CreateDatasetGroup call failed ({call.errorCode}): nothing to provision")
    if call.responseElements and call.responseElements.datasetGroupArn:
        return call.responseElements.datasetGroupArn, call.made_by_cloudformation()
    name = call.requestParameters.name if call.requestParameters else None
    if not name:
        raise InvalidEvent("The event has neither responseElements.datasetGroupArn nor requestParameters.name")
    return dataset_group_arn(partition, parsed.region, parsed.account, name), call.made_by_cloudformation()


def _action_interactions(event: dict[str, Any], region: str, account: str, partition: str, prefix: str) -> DatasetGroup:
    """The Action interactions dataset a CreateDataset event or {"datasetArn": ...} names; for a new Item
    interactions dataset, its group's tracker (a sign that the group lives on: it lifts a `released` hold)."""
    group_arn = None
    started_by = EVENT
    try:
        if "datasetArn" in event:
            dataset_arn = parse(event=event, model=DirectDatasetInput).datasetArn
            started_by = PERSON
        else:
            call = parse(event=event, model=CreateDatasetEvent).detail
            if call.errorCode:
                raise InvalidEvent(f"The CreateDataset call failed ({call.errorCode}): nothing to provision")
            request = call.requestParameters or CreateDatasetRequest()
            if (request.datasetType or "").upper() == "INTERACTIONS" and request.datasetGroupArn:
                return {
                    **_dataset_group(request.datasetGroupArn, region, account, prefix),
                    "createdByCloudFormation": call.made_by_cloudformation(),
                    "startedBy": INTERACTIONS_DATASET,
                }
            if (request.datasetType or "").upper() != "ACTION_INTERACTIONS":  # the API ignores its case
                raise InvalidEvent(
                    f"Dataset type {request.datasetType!r} has no tracking ID: only Action_Interactions "
                    "(and Interactions, with its dataset group)"
                )
            if not (call.responseElements and call.responseElements.datasetArn):
                raise InvalidEvent("The CreateDataset event has no responseElements.datasetArn")
            dataset_arn, group_arn = call.responseElements.datasetArn, request.datasetGroupArn
    except ValidationError as error:
        raise InvalidEvent(f"Not a CreateDataset event or a direct input: {_describe(error)}") from None
    match = _DATASET_ARN.fullmatch(dataset_arn)
    if match is None:
        raise InvalidEvent(f"Not a Personalize dataset ARN: {dataset_arn[:300]!r}")
    if (match["region"], match["account"]) != (region, account):
        raise InvalidEvent(
            f"Dataset {dataset_arn} is in {match['account']}/{match['region']}; "
            f"this application provisions {account}/{region} only"
        )
    group = parse_dataset_group_arn(group_arn) if group_arn else None
    return {
        "kind": ACTION_INTERACTIONS,
        "datasetGroupArn": group.arn if group else None,
        "datasetGroupName": group.name if group else None,
        "parameterName": action_parameter_name(prefix, group.name) if group else None,
        "createdByCloudFormation": False,
        "datasetArn": dataset_arn,
        "startedBy": started_by,
    }


def parse_input(event: Any, region: str, account: str, partition: str, prefix: str) -> DatasetGroup:
    """What to provision, or InvalidEvent saying why not."""
    return {**_parse_input(event, region, account, partition, prefix), "eventTime": event_time(event)}


def _parse_input(event: Any, region: str, account: str, partition: str, prefix: str) -> DatasetGroup:
    if isinstance(event, dict) and (
        "datasetArn" in event
        or (isinstance(event.get("detail"), dict) and event["detail"].get("eventName") == "CreateDataset")
    ):
        return _action_interactions(event, region, account, partition, prefix)
    by_cloudformation = False  # a direct input is a person's or the reconciler's: no stack is creating a tracker
    started_by = EVENT
    if isinstance(event, dict) and "datasetGroupArn" in event:
        try:
            direct = parse(event=event, model=DirectInput)
        except ValidationError as error:
            raise InvalidEvent(f"Not a direct input: {_describe(error)}") from None
        arn, started_by = direct.datasetGroupArn, direct.startedBy
    elif isinstance(event, dict):
        arn, by_cloudformation = _arn_from_event(event, partition)
    else:
        raise InvalidEvent(
            f'Expected a JSON object (an EventBridge event or {{"datasetGroupArn": ...}}), got {type(event).__name__}'
        )
    return {
        **_dataset_group(arn, region, account, prefix),
        "createdByCloudFormation": by_cloudformation,
        "startedBy": started_by,
    }


def _dataset_group(arn: str, region: str, account: str, prefix: str) -> DatasetGroup:
    dataset_group = parse_dataset_group_arn(arn)
    if dataset_group is None:
        raise InvalidEvent(f"Not a Personalize dataset group ARN: {arn[:300]!r}")
    if (dataset_group.region, dataset_group.account) != (region, account):
        raise InvalidEvent(
            f"Dataset group {arn} is in {dataset_group.account}/{dataset_group.region}; "
            f"this application provisions {account}/{region} only"
        )
    return {
        "kind": EVENT_TRACKER,
        "datasetGroupArn": dataset_group.arn,
        "datasetGroupName": dataset_group.name,
        "parameterName": parameter_name(prefix, dataset_group.name),
        "createdByCloudFormation": False,
        "datasetArn": None,
        "startedBy": EVENT,
    }
