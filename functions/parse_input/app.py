"""ParseInput: the dataset group a CreateDatasetGroup event or a direct input names."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.config import ACCOUNT_ID_PATTERN, PARTITION_PATTERN, checked
from common.inputs import DatasetGroup, parse_input

logger = Logger()
REGION = os.environ.get("AWS_REGION", "")
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
ACCOUNT = os.environ.get("ACCOUNT_ID", "")
PARTITION_NAME = os.environ.get("PARTITION", "")


def _unwrap(event: Any) -> Any:
    """The state machine sends {"input": <its input>, "executionId": ...}; `sam local invoke` the bare event."""
    if isinstance(event, dict) and event.keys() == {"input", "executionId"}:
        return event["input"]
    return event


@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: Any, context: LambdaContext) -> DatasetGroup:
    # The account and partition the template names (not the context's function ARN: under
    # `sam local invoke` that is always account 012345678912, whatever the template says).
    account = checked("ACCOUNT_ID", ACCOUNT, ACCOUNT_ID_PATTERN, "an AWS account id (the template sets AWS::AccountId)")
    partition = checked(
        "PARTITION", PARTITION_NAME, PARTITION_PATTERN, "an AWS partition (the template sets AWS::Partition)"
    )
    result = parse_input(_unwrap(event), REGION, account, partition, PARAMETER_PREFIX)
    logger.info("Dataset group to provision", extra=dict(result))
    return result
