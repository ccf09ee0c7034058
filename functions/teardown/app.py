"""Teardown: remove the parameters of a deleted event tracker, Action interactions dataset or dataset group.

Triggered by CloudTrail DeleteEventTracker, DeleteDataset and DeleteDatasetGroup calls. Only
parameters this application wrote (recognised by its tags) are deleted.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from common.clients import ssm_client
from common.errors import error_code, named_aws_error
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN

logger = Logger()
metrics = Metrics()
ssm = ssm_client()
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")

# CloudTrail eventName -> (request parameter holding the deleted ARN, tag that names it on our parameters)
_DELETIONS = {
    "DeleteEventTracker": ("eventTrackerArn", TAG_EVENT_TRACKER_ARN),
    "DeleteDatasetGroup": ("datasetGroupArn", TAG_DATASET_GROUP_ARN),
    "DeleteDataset": ("datasetArn", TAG_DATASET_ARN),  # the Action interactions dataset's action-tracking-id
}


def deleted_resource(event: Any) -> tuple[str, str] | None:
    """(tag key, deleted ARN) for a successful deletion event, else None."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or detail.get("errorCode"):
        return None
    deletion = _DELETIONS.get(str(detail.get("eventName")))
    request = detail.get("requestParameters")
    if deletion is None or not isinstance(request, dict):
        return None
    field, tag = deletion
    arn = request.get(field)
    return (tag, arn) if isinstance(arn, str) and arn else None


def our_parameters(ssm: Any, prefix: str, tag: str, arn: str) -> list[str]:
    """Names of the parameters under the prefix that this application tagged with that ARN."""
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[
            {"Key": "Path", "Option": "Recursive", "Values": [prefix]},
            {"Key": f"tag:{tag}", "Values": [arn]},
        ]
    )
    return [parameter["Name"] for page in pages for parameter in page["Parameters"]]


def tear_down(ssm: Any, event: Any, prefix: str) -> list[str]:
    resource = deleted_resource(event)
    if resource is None:
        logger.warning("Not a successful DeleteEventTracker, DeleteDataset or DeleteDatasetGroup call; nothing to do")
        return []
    tag, arn = resource
    deleted = []
    try:
        for name in our_parameters(ssm, prefix, tag, arn):
            try:
                ssm.delete_parameter(Name=name)
            except ClientError as error:
                if error_code(error) != "ParameterNotFound":
                    raise
                continue
            deleted.append(name)
    except ClientError as error:
        raise named_aws_error(error, throttling_as_limit=False) from error
    return deleted


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    deleted = tear_down(ssm, event, PARAMETER_PREFIX)
    metrics.add_metric(name="ParametersDeleted", unit=MetricUnit.Count, value=len(deleted))
    logger.info("Teardown", extra={"deleted": deleted})
    return {"deleted": deleted}
