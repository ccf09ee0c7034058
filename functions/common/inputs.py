"""The two inputs the workflow accepts, and the dataset group each names.

A CloudTrail CreateDatasetGroup event from EventBridge, or {"datasetGroupArn": ...}
for manual runs, replays and backfills. Parsed with Powertools Parser (pydantic) models.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.errors import InvalidEvent
from common.parameters import parameter_name
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


class DirectInput(BaseModel):
    """`{"datasetGroupArn": ...}`, for manual runs, replays and backfills."""

    model_config = ConfigDict(extra="forbid")

    datasetGroupArn: str


_CAUSE_MAX = 1000
CLOUDFORMATION = "cloudformation.amazonaws.com"


class DatasetGroup(TypedDict):
    datasetGroupArn: str
    datasetGroupName: str
    parameterName: str
    createdByCloudFormation: bool  # its stack may declare the tracker too (AWS::Personalize::EventTracker)


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


def parse_input(event: Any, region: str, account: str, partition: str, prefix: str) -> DatasetGroup:
    """The dataset group to provision a tracker for, or InvalidEvent saying why not."""
    by_cloudformation = False  # a direct input is a person's or the reconciler's: no stack is creating a tracker
    if isinstance(event, dict) and "datasetGroupArn" in event:
        try:
            arn = parse(event=event, model=DirectInput).datasetGroupArn
        except ValidationError as error:
            raise InvalidEvent(f"Not a direct input: {_describe(error)}") from None
    elif isinstance(event, dict):
        arn, by_cloudformation = _arn_from_event(event, partition)
    else:
        raise InvalidEvent(
            f'Expected a JSON object (an EventBridge event or {{"datasetGroupArn": ...}}), got {type(event).__name__}'
        )

    dataset_group = parse_dataset_group_arn(arn)
    if dataset_group is None:
        raise InvalidEvent(f"Not a Personalize dataset group ARN: {arn[:300]!r}")
    if (dataset_group.region, dataset_group.account) != (region, account):
        raise InvalidEvent(
            f"Dataset group {arn} is in {dataset_group.account}/{dataset_group.region}; "
            f"this application provisions {account}/{region} only"
        )
    return {
        "datasetGroupArn": dataset_group.arn,
        "datasetGroupName": dataset_group.name,
        "parameterName": parameter_name(prefix, dataset_group.name),
        "createdByCloudFormation": by_cloudformation,
    }
