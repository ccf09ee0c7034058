"""The two inputs the workflow accepts, as Powertools Parser (pydantic) models."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field


class CreateDatasetGroupRequest(BaseModel):
    name: str | None = None
    domain: str | None = None


class CreateDatasetGroupResponse(BaseModel):
    datasetGroupArn: str | None = None


class CreateDatasetGroupCall(BaseModel):
    """The CloudTrail record in the event's `detail`."""

    eventSource: Literal["personalize.amazonaws.com"]
    eventName: Literal["CreateDatasetGroup"]
    errorCode: str | None = None
    errorMessage: str | None = None
    requestParameters: CreateDatasetGroupRequest | None = None
    responseElements: CreateDatasetGroupResponse | None = None


class CreateDatasetGroupEvent(EventBridgeModel):
    source: Literal["aws.personalize"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: CreateDatasetGroupCall  # type: ignore[assignment]


class DirectInput(BaseModel):
    """`{"datasetGroupArn": ...}`, for manual runs, replays and backfills."""

    model_config = ConfigDict(extra="forbid")

    datasetGroupArn: str
