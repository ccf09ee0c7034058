"""The inputs the workflow accepts, and what each asks it to provision.

- the event tracker of a dataset group: a CloudTrail CreateDatasetGroup event from EventBridge, or
  {"datasetGroupArn": ...} for manual runs, replays and backfills;
- the tracking ID of an Action interactions dataset: a CloudTrail CreateDataset event of that type,
  or {"datasetArn": ...}.

Parsed with Powertools Parser: the four models as one discriminated union (`Input`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from common.errors import InvalidEvent
from common.holds import EVENT, INTERACTIONS_DATASET, PERSON
from common.parameters import action_parameter_name, parameter_name
from common.personalize import ITEM_INTERACTIONS, dataset_group_arn, parse_dataset_group_arn


class UserIdentity(BaseModel):
    invokedBy: str | None = None


class CloudTrailCall(BaseModel):
    """The CloudTrail record in the event's `detail`: what every Personalize call's record has."""

    eventSource: Literal["personalize.amazonaws.com"]
    errorCode: str | None = None
    userIdentity: UserIdentity | None = None
    sourceIPAddress: str | None = None
    userAgent: str | None = None

    def made_by_cloudformation(self) -> bool:
        """CloudTrail names the service that made a call on a principal's behalf in `userIdentity.invokedBy`,
        and records its DNS name as `sourceIPAddress` and `userAgent` (CloudTrail record contents)."""
        invoked_by = self.userIdentity.invokedBy if self.userIdentity else None
        return CLOUDFORMATION in (invoked_by, self.sourceIPAddress, self.userAgent)


class CreateDatasetGroupRequest(BaseModel):
    name: str | None = None


class CreateDatasetGroupResponse(BaseModel):
    datasetGroupArn: str | None = None


class CreateDatasetGroupCall(CloudTrailCall):
    eventName: Literal["CreateDatasetGroup"]
    requestParameters: CreateDatasetGroupRequest | None = None
    responseElements: CreateDatasetGroupResponse | None = None


class CreateDatasetRequest(BaseModel):
    datasetGroupArn: str | None = None
    datasetType: str | None = None


class CreateDatasetResponse(BaseModel):
    datasetArn: str | None = None


class CreateDatasetCall(CloudTrailCall):
    eventName: Literal["CreateDataset"]
    requestParameters: CreateDatasetRequest | None = None
    responseElements: CreateDatasetResponse | None = None


class CloudTrailEvent(EventBridgeModel):
    source: Literal["aws.personalize"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")  # type: ignore[assignment]


class CreateDatasetGroupEvent(CloudTrailEvent):
    detail: CreateDatasetGroupCall  # type: ignore[assignment]


class CreateDatasetEvent(CloudTrailEvent):
    detail: CreateDatasetCall  # type: ignore[assignment]


class DirectInput(BaseModel):
    """`{"datasetGroupArn": ...}`, for manual runs, replays and backfills: a start by hand, which lifts any hold
    (common.holds). The reconciler adds `"startedBy": "schedule"`, which lifts none."""

    model_config = ConfigDict(extra="forbid")

    datasetGroupArn: str
    startedBy: Literal["person", "schedule"] = "person"


class DirectDatasetInput(BaseModel):
    """`{"datasetArn": ...}`: store an Action interactions dataset's tracking ID (replays, the reconciler)."""

    model_config = ConfigDict(extra="forbid")

    datasetArn: str


def _input_kind(value: Any) -> str:
    """Which of the four inputs this is: by the key a direct input has, or by the CloudTrail call's eventName (a
    CreateDatasetGroup event when it is none of the others, so that its model says what is missing)."""
    for key in ("datasetArn", "datasetGroupArn"):
        if key in value:
            return key
    detail = value.get("detail")
    return "CreateDataset" if isinstance(detail, dict) and detail.get("eventName") == "CreateDataset" else "Group"


# The inputs as one discriminated union (Powertools Parser: parse(event, model=Input)).
Input = Annotated[
    Annotated[CreateDatasetGroupEvent, Tag("Group")]
    | Annotated[CreateDatasetEvent, Tag("CreateDataset")]
    | Annotated[DirectInput, Tag("datasetGroupArn")]
    | Annotated[DirectDatasetInput, Tag("datasetArn")],
    Discriminator(_input_kind),
]
ParsedInput = CreateDatasetGroupEvent | CreateDatasetEvent | DirectInput | DirectDatasetInput
_NOT = {
    "Group": "Not a CreateDatasetGroup event",
    "CreateDataset": "Not a CreateDataset event",
    "datasetGroupArn": "Not a direct input",
    "datasetArn": "Not a direct dataset input",
}


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
    """pydantic's errors, each at its place in the input (the union's tag left out)."""
    problems = [
        f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'input'}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    ]
    return "; ".join(problems)[:_CAUSE_MAX]


def parse_input(event: Any, region: str, account: str, partition: str, prefix: str) -> DatasetGroup:
    """What to provision, or InvalidEvent saying why not."""
    return {**_parse_input(event, region, account, partition, prefix), "eventTime": event_time(event)}


def _parse_input(event: Any, region: str, account: str, partition: str, prefix: str) -> DatasetGroup:
    if not isinstance(event, dict):
        raise InvalidEvent(
            f'Expected a JSON object (an EventBridge event or {{"datasetGroupArn": ...}}), got {type(event).__name__}'
        )
    try:
        # Powertools parses a union, as its docs show; its type hints name only a class.
        parsed: ParsedInput = parse(event=event, model=Input)  # type: ignore[call-overload]
    except ValidationError as error:
        raise InvalidEvent(f"{_NOT[_input_kind(event)]}: {_describe(error)}") from None
    match parsed:
        case DirectInput(datasetGroupArn=arn, startedBy=started_by):
            # a person's or the reconciler's start: no stack is creating a tracker
            return {**_dataset_group(arn, region, account, prefix), "startedBy": started_by}
        case DirectDatasetInput(datasetArn=arn):
            return _action_interactions(arn, None, PERSON, region, account, prefix)
        case CreateDatasetEvent(detail=call):
            return _created_dataset(call, region, account, prefix)
        case CreateDatasetGroupEvent():
            return _created_dataset_group(parsed, region, account, partition, prefix)


def _created_dataset_group(
    event: CreateDatasetGroupEvent, region: str, account: str, partition: str, prefix: str
) -> DatasetGroup:
    call = event.detail
    if call.errorCode:
        raise InvalidEvent(f"The CreateDatasetGroup call failed ({call.errorCode}): nothing to provision")
    if call.responseElements and call.responseElements.datasetGroupArn:
        arn = call.responseElements.datasetGroupArn
    elif call.requestParameters and call.requestParameters.name:
        arn = dataset_group_arn(partition, event.region, event.account, call.requestParameters.name)
    else:
        raise InvalidEvent("The event has neither responseElements.datasetGroupArn nor requestParameters.name")
    return {**_dataset_group(arn, region, account, prefix), "createdByCloudFormation": call.made_by_cloudformation()}


def _created_dataset(call: CreateDatasetCall, region: str, account: str, prefix: str) -> DatasetGroup:
    """An Action interactions dataset's tracking ID; for a new Item interactions dataset, its group's tracker (a sign
    that the group lives on: it lifts a `released` hold)."""
    if call.errorCode:
        raise InvalidEvent(f"The CreateDataset call failed ({call.errorCode}): nothing to provision")
    request = call.requestParameters or CreateDatasetRequest()
    dataset_type = (request.datasetType or "").upper()  # the API ignores its case
    if dataset_type == ITEM_INTERACTIONS and request.datasetGroupArn:
        return {
            **_dataset_group(request.datasetGroupArn, region, account, prefix),
            "createdByCloudFormation": call.made_by_cloudformation(),
            "startedBy": INTERACTIONS_DATASET,
        }
    if dataset_type != "ACTION_INTERACTIONS":
        raise InvalidEvent(
            f"Dataset type {request.datasetType!r} has no tracking ID: only Action_Interactions "
            "(and Interactions, with its dataset group)"
        )
    if not (call.responseElements and call.responseElements.datasetArn):
        raise InvalidEvent("The CreateDataset event has no responseElements.datasetArn")
    dataset_arn = call.responseElements.datasetArn
    return _action_interactions(dataset_arn, request.datasetGroupArn, EVENT, region, account, prefix)


def _action_interactions(
    dataset_arn: str, group_arn: str | None, started_by: str, region: str, account: str, prefix: str
) -> DatasetGroup:
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
