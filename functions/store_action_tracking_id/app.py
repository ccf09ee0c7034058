"""StoreActionTrackingId: the ACTIVE Action interactions dataset's trackingId (for PutActionInteractions) in SSM.

Personalize creates that tracker with the dataset and reports its ID only in DescribeDataset. It is read
here and goes only to SSM, at {ParameterPrefix}/{datasetGroupName}/action-tracking-id, tagged with the
dataset's and the dataset group's ARNs. An opted-out dataset group is left alone.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any, TypedDict

from aws_lambda_powertools import Logger, Metrics
from botocore.exceptions import ClientError

from common import lag
from common.clients import personalize_client, ssm_client
from common.errors import DatasetNotFound, InvalidTrackingId, LimitExceeded, error_code, named_aws_error
from common.opt_out import compile_exclude_pattern, opt_out_reason
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, action_parameter_name, put_tracking_id
from common.personalize import dataset_group_tags, parse_dataset_group_arn
from common.polling import PollRequest, Throttled, throttled

logger = Logger()
metrics = Metrics()
personalize = personalize_client()
ssm = ssm_client()
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
PARAMETER_TYPE = os.environ.get("PARAMETER_TYPE", "String")
KMS_KEY_ID = os.environ.get("KMS_KEY_ID", "")
EXCLUDE = compile_exclude_pattern(os.environ.get("EXCLUDE_NAME_PATTERN", ""))


class ActionRequest(PollRequest):
    datasetArn: str
    eventTime: str | None  # the CloudTrail event's, when an event started the execution


class ActionProvisioned(TypedDict, total=False):
    datasetArn: str
    datasetGroupArn: str
    datasetGroupName: str
    parameterName: str
    trackingId: str  # String parameters only
    skipped: bool
    throttled: bool  # False: WasActionStoreThrottled reads it
    reason: str
    lag: lag.Lag


def store_action_tracking_id(
    personalize: Any,
    ssm: Any,
    dataset_arn: str,
    prefix: str,
    exclude: re.Pattern[str] | None = None,
    parameter_type: str = "String",
    kms_key_id: str = "",
    event_time: str | None = None,
    execution_start: str | None = None,
) -> ActionProvisioned:
    try:
        dataset = personalize.describe_dataset(datasetArn=dataset_arn)["dataset"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise DatasetNotFound(f"Dataset {dataset_arn} does not exist") from error
        raise named_aws_error(error) from error
    group = parse_dataset_group_arn(dataset.get("datasetGroupArn", ""))
    if group is None:
        raise DatasetNotFound(f"Dataset {dataset_arn} names no dataset group: {dataset.get('datasetGroupArn')!r}")
    result: ActionProvisioned = {
        "datasetArn": dataset_arn,
        "datasetGroupArn": group.arn,
        "datasetGroupName": group.name,
        "parameterName": action_parameter_name(prefix, group.name),
    }
    reason = opt_out_reason(group.name, dataset_group_tags(personalize, group.arn), exclude)
    if reason:
        return {**result, "skipped": True, "reason": reason, "throttled": False}
    tracking_id = dataset.get("trackingId")
    if not isinstance(tracking_id, str) or not tracking_id.strip() or tracking_id != tracking_id.strip():
        raise InvalidTrackingId(f"Refusing to store the trackingId of {dataset_arn}: it is missing, empty or padded")
    put_tracking_id(
        ssm,
        result["parameterName"],
        tracking_id,
        f"trackingId (PutActionInteractions) of Action interactions dataset {dataset_arn}",
        {TAG_DATASET_GROUP_ARN: group.arn, TAG_DATASET_ARN: dataset_arn},
        parameter_type,
        kms_key_id,
    )
    result["skipped"] = False
    result["throttled"] = False
    result["lag"] = lag.measure(dataset.get("lastUpdatedDateTime"), event_time, execution_start, time.time())
    if parameter_type == "String":
        result["trackingId"] = tracking_id
    return result


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: ActionRequest, context: Any) -> ActionProvisioned | Throttled:
    try:
        result = store_action_tracking_id(
            personalize, ssm, event["datasetArn"], PARAMETER_PREFIX, EXCLUDE, PARAMETER_TYPE, KMS_KEY_ID,
            event.get("eventTime"), event.get("executionStartTime"),
        )  # fmt: skip
    except LimitExceeded as error:
        logger.warning("Throttled; waiting", extra={"reason": str(error)})
        return throttled(f"StoreActionTrackingId {event['datasetArn']}", event, time.time())
    if "lag" in result:
        lag.emit(metrics, result["lag"])
    logger.info("Action tracking ID", extra={k: v for k, v in result.items() if k != "trackingId"})
    return result
