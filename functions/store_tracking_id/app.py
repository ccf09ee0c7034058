"""StoreTrackingId: write the ACTIVE tracker's trackingId to SSM Parameter Store.

The trackingId is read here, from DescribeEventTracker, and goes only to SSM: it is not in the
state machine's payloads or history. The result carries it only for String parameters.
"""

from __future__ import annotations

import os
import time
from typing import Any, TypedDict

from aws_lambda_powertools import Logger, Metrics
from botocore.exceptions import ClientError

from common import lag
from common.clients import personalize_client, ssm_client
from common.errors import EventTrackerFailed, InvalidTrackingId, LimitExceeded, error_code, named_aws_error
from common.parameters import TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN, put_tracking_id
from common.polling import PollRequest, Throttled, throttled

logger = Logger()
metrics = Metrics()
personalize = personalize_client()
ssm = ssm_client()
PARAMETER_TYPE = os.environ.get("PARAMETER_TYPE", "String")
KMS_KEY_ID = os.environ.get("KMS_KEY_ID", "")


class StoreRequest(PollRequest):
    datasetGroupArn: str
    datasetGroupName: str
    parameterName: str
    eventTrackerArn: str
    adopted: bool
    executionId: str
    eventTime: str | None  # the CloudTrail event's, when an event started the execution


class Provisioned(TypedDict, total=False):
    datasetGroupArn: str
    datasetGroupName: str
    eventTrackerArn: str
    trackingId: str  # String parameters only
    parameterName: str
    adopted: bool
    skipped: bool
    throttled: bool  # False: WasStoreThrottled reads it
    lag: lag.Lag


def read_tracking_id(personalize: Any, event_tracker_arn: str) -> tuple[str, Any]:
    """The ACTIVE tracker's trackingId, from DescribeEventTracker (never from the workflow's payload), and when it
    became ACTIVE (its lastUpdatedDateTime, None if Personalize gave none)."""
    try:
        tracker = personalize.describe_event_tracker(eventTrackerArn=event_tracker_arn)["eventTracker"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise EventTrackerFailed(
                f"Event tracker {event_tracker_arn} disappeared before its trackingId was stored"
            ) from error
        raise named_aws_error(error) from error
    tracking_id = tracker.get("trackingId")
    if not isinstance(tracking_id, str) or not tracking_id.strip() or tracking_id != tracking_id.strip():
        # The value itself is not repeated: with SecureString it must appear only in SSM.
        raise InvalidTrackingId(f"Refusing to store the trackingId of {event_tracker_arn}: it is empty or padded")
    return tracking_id, tracker.get("lastUpdatedDateTime")


def store_tracking_id(
    ssm: Any, personalize: Any, request: StoreRequest, parameter_type: str = "String", kms_key_id: str = ""
) -> Provisioned:
    tracking_id, active_at = read_tracking_id(personalize, request["eventTrackerArn"])

    name = request["parameterName"]
    put_tracking_id(
        ssm,
        name,
        tracking_id,
        f"trackingId of event tracker {request['eventTrackerArn']} of dataset group {request['datasetGroupArn']}",
        {TAG_DATASET_GROUP_ARN: request["datasetGroupArn"], TAG_EVENT_TRACKER_ARN: request["eventTrackerArn"]},
        parameter_type,
        kms_key_id,
    )

    result: Provisioned = {
        "datasetGroupArn": request["datasetGroupArn"],
        "datasetGroupName": request["datasetGroupName"],
        "eventTrackerArn": request["eventTrackerArn"],
        "parameterName": name,
        "adopted": bool(request.get("adopted")),
        "skipped": False,
        "throttled": False,
        "lag": lag.measure(active_at, request.get("eventTime"), request.get("executionStartTime"), time.time()),
    }
    if parameter_type == "String":
        result["trackingId"] = tracking_id
    return result


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: StoreRequest, context: Any) -> Provisioned | Throttled:
    try:
        result = store_tracking_id(ssm, personalize, event, PARAMETER_TYPE, KMS_KEY_ID)
    except LimitExceeded as error:
        logger.warning("Throttled; waiting", extra={"reason": str(error)})
        return throttled(f"StoreTrackingId {event['eventTrackerArn']}", event, time.time())
    lag.emit(metrics, result["lag"])
    logger.info("Stored trackingId", extra={"parameterName": result["parameterName"], **result["lag"]})
    return result
