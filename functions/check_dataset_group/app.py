"""WaitForDatasetGroup: is the dataset group ACTIVE yet?"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from common.clients import personalize_client
from common.errors import DatasetGroupFailed, DatasetGroupNotFound
from common.personalize import ACTIVE, CREATE_FAILED, CREATING, describe_or_throttled, is_being_deleted
from common.polling import THROTTLED, PollRequest, PollResult, keep_waiting

logger = Logger()
personalize = personalize_client()


class CheckDatasetGroupRequest(PollRequest):
    datasetGroupArn: str


def check_dataset_group(personalize: Any, request: CheckDatasetGroupRequest, now: float) -> PollResult:
    arn = request["datasetGroupArn"]
    group = describe_or_throttled(
        lambda: personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"],
        DatasetGroupNotFound(f"Dataset group {arn} does not exist"),
    )
    if group is None:
        logger.warning("DescribeDatasetGroup throttled; waiting")
        return keep_waiting(f"DescribeDatasetGroup {arn}", THROTTLED, request, now)

    status = group.get("status", "")
    logger.info("Dataset group status", extra={"datasetGroupArn": arn, "status": status})
    if status == ACTIVE:
        return {"status": status, "ready": True, "waitSeconds": 0}
    if status == CREATE_FAILED or is_being_deleted(status):
        reason = group.get("failureReason") or "Personalize gave no failureReason"
        raise DatasetGroupFailed(f"Dataset group {arn} is {status}: {reason}")
    if status not in CREATING:
        logger.warning("Unknown dataset group status; waiting", extra={"status": status})
    return keep_waiting(f"Dataset group {arn}", status, request, now, group.get("creationDateTime"))


@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: CheckDatasetGroupRequest, context: Any) -> PollResult:
    return check_dataset_group(personalize, event, now=time.time())
