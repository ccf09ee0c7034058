"""CheckEventTracker: is the event tracker ACTIVE yet? Once it is, store its trackingId in SSM Parameter Store.

The trackingId is read from DescribeEventTracker and goes only to SSM: it is not in the state machine's
payloads or history, except in the result of a String parameter (which anyone may read anyway).
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from common import holds, lag
from common.clients import personalize_client, ssm_client
from common.errors import EventTrackerFailed, named_aws_error
from common.parameters import TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN, Stored, store_tracking_id
from common.polling import PollRequest
from common.status import check_status, waiting_out_outage

logger = Logger()
metrics = Metrics()
# A check that finds the tracker not yet ACTIVE adds no metric: expected, so no UserWarning in the logs
# (Powertools' documented way to say so).
warnings.filterwarnings("ignore", "No application metrics to publish*")
personalize = personalize_client()
ssm = ssm_client()
PARAMETER_TYPE = os.environ.get("PARAMETER_TYPE", "String")
KMS_KEY_ID = os.environ.get("KMS_KEY_ID", "")
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")


class CheckEventTrackerRequest(PollRequest):
    eventTrackerArn: str
    adopted: bool
    datasetGroupArn: str
    datasetGroupName: str
    parameterName: str
    eventTime: str | None  # the CloudTrail event's, when an event started the execution
    datasetGroupCreated: float | None  # the group's creationDateTime: which group a hold is about


class Provisioned(Stored, total=False):
    eventTrackerArn: str
    adopted: bool


def check_event_tracker(
    personalize: Any,
    ssm: Any,
    request: CheckEventTrackerRequest,
    now: float,
    parameter_type: str = "String",
    kms_key_id: str = "",
    prefix: str = "/personalize",
) -> Provisioned:
    arn = request["eventTrackerArn"]
    group = request["datasetGroupArn"]

    def record_failure(tracker: dict[str, Any]) -> None:
        """Failed once, reported once: no scheduled or event-driven run starts it again (common.holds)."""
        hold = holds.Hold(
            holds.FAILED,
            group,
            request.get("datasetGroupCreated"),
            arn,
            "Personalize",
            holds.now_iso(),
            "CREATE FAILED",
        )
        try:
            holds.put_hold(ssm, prefix, request["datasetGroupName"], hold)
        except ClientError as error:
            raise named_aws_error(error, throttling_as_limit=False) from error

    tracker, result = check_status(
        "Event tracker",
        arn,
        lambda: personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"],
        EventTrackerFailed(f"Event tracker {arn} disappeared while being created"),
        EventTrackerFailed,
        request,
        now,
        record_failure,
    )
    waiting: Provisioned = {"eventTrackerArn": arn, "adopted": bool(request.get("adopted"))}
    if tracker is None:
        return {**result, **waiting}
    try:
        stored = store_tracking_id(
            ssm,
            tracker,
            arn,
            request["parameterName"],
            f"trackingId of event tracker {arn} of dataset group {group}",
            {TAG_DATASET_GROUP_ARN: group, TAG_EVENT_TRACKER_ARN: arn},
            request,
            parameter_type,
            kms_key_id,
        )
    except Exception as error:  # an outage of SSM: wait, then describe again and store
        return {**waiting_out_outage(f"Storing the trackingId of {arn}", error, request, now), **waiting}
    return {
        **result,
        "datasetGroupArn": group,
        "datasetGroupName": request["datasetGroupName"],
        "eventTrackerArn": arn,
        "parameterName": request["parameterName"],
        "adopted": bool(request.get("adopted")),
        **stored,
    }


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: CheckEventTrackerRequest, context: LambdaContext) -> Provisioned:
    result = check_event_tracker(personalize, ssm, event, time.time(), PARAMETER_TYPE, KMS_KEY_ID, PARAMETER_PREFIX)
    if "lag" in result:
        lag.emit(metrics, result["lag"])
        logger.info("Stored trackingId", extra={"parameterName": result["parameterName"], **result["lag"]})
    return result
