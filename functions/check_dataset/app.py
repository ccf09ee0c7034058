"""WaitForDataset: is the Action interactions dataset ACTIVE yet?"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from common.clients import personalize_client
from common.errors import DatasetFailed, DatasetNotFound
from common.personalize import ACTIVE, CREATE_FAILED, CREATING, describe_or_throttled, is_being_deleted
from common.polling import THROTTLED, PollRequest, PollResult, keep_waiting

logger = Logger()
personalize = personalize_client()


class CheckDatasetRequest(PollRequest):
    datasetArn: str


def check_dataset(personalize: Any, request: CheckDatasetRequest, now: float) -> PollResult:
    arn = request["datasetArn"]
    dataset = describe_or_throttled(
        lambda: personalize.describe_dataset(datasetArn=arn)["dataset"],
        DatasetNotFound(f"Dataset {arn} does not exist"),
    )
    if dataset is None:
        logger.warning("DescribeDataset throttled; waiting")
        return keep_waiting(f"DescribeDataset {arn}", THROTTLED, request, now)

    status = dataset.get("status", "")
    logger.info("Dataset status", extra={"datasetArn": arn, "status": status})
    if status == ACTIVE:
        return {"status": status, "ready": True, "waitSeconds": 0}
    if status == CREATE_FAILED or is_being_deleted(status):
        raise DatasetFailed(f"Dataset {arn} is {status}")
    if status not in CREATING:
        logger.warning("Unknown dataset status; waiting", extra={"status": status})
    return keep_waiting(f"Dataset {arn}", status, request, now, dataset.get("creationDateTime"))


@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: CheckDatasetRequest, context: Any) -> PollResult:
    return check_dataset(personalize, event, now=time.time())
