"""CheckDatasetGroup: is the dataset group ACTIVE yet?"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clients import personalize_client
from common.errors import DatasetGroupFailed, DatasetGroupNotFound
from common.holds import epoch
from common.polling import PollRequest, PollResult
from common.status import check_status

logger = Logger()
personalize = personalize_client()


class CheckDatasetGroupRequest(PollRequest):
    datasetGroupArn: str


class DatasetGroupStatus(PollResult, total=False):
    readyAt: float  # when this check saw it ACTIVE: CreateOrAdoptTracker counts a stack's grace period from it
    createdAt: float | None  # its creationDateTime: which group of that name a hold is about (common.holds)


def check_dataset_group(personalize: Any, request: CheckDatasetGroupRequest, now: float) -> DatasetGroupStatus:
    arn = request["datasetGroupArn"]
    group, result = check_status(
        "Dataset group",
        arn,
        lambda: personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"],
        DatasetGroupNotFound(f"Dataset group {arn} does not exist"),
        DatasetGroupFailed,
        request,
        now,
    )
    status: DatasetGroupStatus = {**result}
    if group is not None:
        status["readyAt"] = round(now, 3)
        status["createdAt"] = epoch(group.get("creationDateTime"))
    return status


@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: CheckDatasetGroupRequest, context: LambdaContext) -> DatasetGroupStatus:
    return check_dataset_group(personalize, event, now=time.time())
