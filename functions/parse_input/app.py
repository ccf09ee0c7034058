"""ParseInput: the dataset group a CreateDatasetGroup event or a direct input names."""

from __future__ import annotations

import os
from typing import Any, TypedDict

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import parse
from pydantic import ValidationError

from common.errors import InvalidEvent
from common.parameters import parameter_name
from common.personalize import dataset_group_arn, parse_dataset_group_arn
from parse_input.models import CreateDatasetGroupEvent, DirectInput

logger = Logger()
REGION = os.environ.get("AWS_REGION", "")
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")

_CAUSE_MAX = 1000


class DatasetGroup(TypedDict):
    datasetGroupArn: str
    datasetGroupName: str
    parameterName: str


def _describe(error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'input'}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    ]
    return "; ".join(problems)[:_CAUSE_MAX]


def _arn_from_event(event: dict[str, Any], partition: str) -> str:
    try:
        parsed = parse(event=event, model=CreateDatasetGroupEvent)
    except ValidationError as error:
        raise InvalidEvent(f"Not a CreateDatasetGroup event: {_describe(error)}") from None
    call = parsed.detail
    if call.errorCode:
        raise InvalidEvent(f"The CreateDatasetGroup call failed ({call.errorCode}): nothing to provision")
    if call.responseElements and call.responseElements.datasetGroupArn:
        return call.responseElements.datasetGroupArn
    name = call.requestParameters.name if call.requestParameters else None
    if not name:
        raise InvalidEvent("The event has neither responseElements.datasetGroupArn nor requestParameters.name")
    return dataset_group_arn(partition, parsed.region, parsed.account, name)


def parse_input(
    event: Any, region: str, account: str, partition: str = "aws", prefix: str = PARAMETER_PREFIX
) -> DatasetGroup:
    """The dataset group to provision a tracker for, or InvalidEvent saying why not."""
    if isinstance(event, dict) and "datasetGroupArn" in event:
        try:
            arn = parse(event=event, model=DirectInput).datasetGroupArn
        except ValidationError as error:
            raise InvalidEvent(f"Not a direct input: {_describe(error)}") from None
    elif isinstance(event, dict):
        arn = _arn_from_event(event, partition)
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
    }


def _unwrap(event: Any) -> Any:
    """The state machine sends {"input": <its input>, "executionId": ...}; `sam local invoke` the bare event."""
    if isinstance(event, dict) and event.keys() == {"input", "executionId"}:
        return event["input"]
    return event


@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: Any, context: Any) -> DatasetGroup:
    _, partition, _, _, account, *_ = context.invoked_function_arn.split(":")
    result = parse_input(_unwrap(event), REGION, account, partition)
    logger.info("Dataset group to provision", extra=dict(result))
    return result
