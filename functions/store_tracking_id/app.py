"""StoreTrackingId: write the ACTIVE tracker's trackingId to SSM Parameter Store."""

from __future__ import annotations

import os
from typing import Any, TypedDict

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from common.clients import ssm_client
from common.errors import InvalidTrackingId, named_aws_error
from common.parameters import TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN

logger = Logger()
ssm = ssm_client()
PARAMETER_TYPE = os.environ.get("PARAMETER_TYPE", "String")
KMS_KEY_ID = os.environ.get("KMS_KEY_ID", "")


class StoreRequest(TypedDict):
    datasetGroupArn: str
    datasetGroupName: str
    parameterName: str
    eventTrackerArn: str
    trackingId: str
    adopted: bool
    executionId: str


class Provisioned(TypedDict):
    datasetGroupArn: str
    datasetGroupName: str
    eventTrackerArn: str
    trackingId: str
    parameterName: str
    adopted: bool
    skipped: bool


def store_tracking_id(
    ssm: Any, request: StoreRequest, parameter_type: str = "String", kms_key_id: str = ""
) -> Provisioned:
    tracking_id = request.get("trackingId")
    if not isinstance(tracking_id, str) or not tracking_id.strip() or tracking_id != tracking_id.strip():
        raise InvalidTrackingId(f"Refusing to store trackingId {tracking_id!r} for {request['eventTrackerArn']}")

    name = request["parameterName"]
    put: dict[str, Any] = {
        "Name": name,
        "Value": tracking_id,
        "Type": parameter_type,
        "Overwrite": True,
        "Tier": "Standard",
        "Description": f"trackingId of event tracker {request['eventTrackerArn']} "
        f"of dataset group {request['datasetGroupArn']}"[:1024],
    }
    if parameter_type == "SecureString" and kms_key_id:
        put["KeyId"] = kms_key_id
    try:
        ssm.put_parameter(**put)
        # PutParameter rejects Tags together with Overwrite, so tag separately.
        ssm.add_tags_to_resource(
            ResourceType="Parameter",
            ResourceId=name,
            Tags=[
                {"Key": TAG_DATASET_GROUP_ARN, "Value": request["datasetGroupArn"]},
                {"Key": TAG_EVENT_TRACKER_ARN, "Value": request["eventTrackerArn"]},
            ],
        )
    except ClientError as error:
        raise named_aws_error(error, throttling_as_limit=False) from error

    return {
        "datasetGroupArn": request["datasetGroupArn"],
        "datasetGroupName": request["datasetGroupName"],
        "eventTrackerArn": request["eventTrackerArn"],
        "trackingId": tracking_id,
        "parameterName": name,
        "adopted": bool(request.get("adopted")),
        "skipped": False,
    }


@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: StoreRequest, context: Any) -> Provisioned:
    result = store_tracking_id(ssm, event, PARAMETER_TYPE, KMS_KEY_ID)
    logger.info("Stored trackingId", extra={"parameterName": result["parameterName"]})
    return result
