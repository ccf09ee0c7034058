"""CheckDataset: is the Action interactions dataset ACTIVE yet? Once it is, store its trackingId in SSM.

Personalize creates that dataset's tracker with it and reports the ID (for PutActionInteractions) only in
DescribeDataset. It goes only to SSM, at {ParameterPrefix}/{datasetGroupName}/action-tracking-id, tagged with the
dataset's and the dataset group's ARNs. An opted-out dataset group is left alone.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from common import lag
from common.clients import personalize_client, ssm_client
from common.errors import DatasetFailed, DatasetNotFound, LimitExceeded
from common.opt_out import compile_exclude_pattern, opt_out_reason
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, Stored, action_parameter_name, store_tracking_id
from common.personalize import dataset_group_tags, parse_dataset_group_arn
from common.polling import THROTTLED, PollRequest, keep_waiting
from common.status import check_status, waiting_out_outage

logger = Logger()
metrics = Metrics()
# A check that finds the dataset not yet ACTIVE adds no metric: expected, so no UserWarning in the logs
# (Powertools' documented way to say so).
warnings.filterwarnings("ignore", "No application metrics to publish*")
personalize = personalize_client()
ssm = ssm_client()
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
PARAMETER_TYPE = os.environ.get("PARAMETER_TYPE", "String")
KMS_KEY_ID = os.environ.get("KMS_KEY_ID", "")
EXCLUDE = compile_exclude_pattern(os.environ.get("EXCLUDE_NAME_PATTERN", ""))


class CheckDatasetRequest(PollRequest):
    datasetArn: str
    eventTime: str | None  # the CloudTrail event's, when an event started the execution


class ActionProvisioned(Stored, total=False):
    datasetArn: str
    reason: str  # why an opted-out group was skipped


def check_dataset(
    personalize: Any,
    ssm: Any,
    request: CheckDatasetRequest,
    now: float,
    prefix: str = "/personalize",
    exclude: re.Pattern[str] | None = None,
    parameter_type: str = "String",
    kms_key_id: str = "",
) -> ActionProvisioned:
    arn = request["datasetArn"]
    dataset, result = check_status(
        "Dataset",
        arn,
        lambda: personalize.describe_dataset(datasetArn=arn)["dataset"],
        DatasetNotFound(f"Dataset {arn} does not exist"),
        DatasetFailed,
        request,
        now,
    )
    if dataset is None:
        return {**result}

    group = parse_dataset_group_arn(dataset.get("datasetGroupArn", ""))
    if group is None:
        raise DatasetNotFound(f"Dataset {arn} names no dataset group: {dataset.get('datasetGroupArn')!r}")
    provisioned: ActionProvisioned = {
        **result,
        "datasetArn": arn,
        "datasetGroupArn": group.arn,
        "datasetGroupName": group.name,
        "parameterName": action_parameter_name(prefix, group.name),
    }
    try:
        tags = dataset_group_tags(personalize, group.arn)
    except LimitExceeded:  # ListTagsForResource throttled past the client's retries: wait, as for DescribeDataset
        logger.warning("ListTagsForResource throttled; waiting", extra={"datasetGroupArn": group.arn})
        return {**keep_waiting(f"ListTagsForResource {group.arn}", THROTTLED, request, now)}
    except Exception as error:
        return {**waiting_out_outage(f"ListTagsForResource {group.arn}", error, request, now)}
    reason = opt_out_reason(group.name, tags, exclude)
    if reason:
        return {**provisioned, "outcome": "skipped", "reason": reason}

    try:
        stored = store_tracking_id(
            ssm,
            dataset,
            arn,
            provisioned["parameterName"],
            f"trackingId (PutActionInteractions) of Action interactions dataset {arn}",
            {TAG_DATASET_GROUP_ARN: group.arn, TAG_DATASET_ARN: arn},
            request,
            parameter_type,
            kms_key_id,
        )
    except Exception as error:  # an outage of SSM: wait, then describe again and store
        return {**waiting_out_outage(f"Storing the trackingId of {arn}", error, request, now)}
    return {**provisioned, **stored}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: CheckDatasetRequest, context: LambdaContext) -> ActionProvisioned:
    result = check_dataset(
        personalize, ssm, event, time.time(), PARAMETER_PREFIX, EXCLUDE, PARAMETER_TYPE, KMS_KEY_ID
    )  # fmt: skip
    if "lag" in result:
        lag.emit(metrics, result["lag"])
    if result["outcome"] == "ready":
        logger.info("Action tracking ID", extra={k: v for k, v in result.items() if k != "trackingId"})
    return result
