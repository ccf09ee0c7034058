"""Where the trackingId lives in SSM Parameter Store, and how we recognise our own parameters."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from common import lag
from common.errors import InvalidTrackingId, error_code, named_aws_error
from common.polling import PollRequest, PollResult

TAG_DATASET_GROUP_ARN = "event-tracker-provisioner:dataset-group-arn"
TAG_EVENT_TRACKER_ARN = "event-tracker-provisioner:event-tracker-arn"
TAG_DATASET_ARN = "event-tracker-provisioner:dataset-arn"


def parameter_name(prefix: str, dataset_group_name: str) -> str:
    """The event tracker's trackingId, for PutEvents."""
    return f"{prefix.rstrip('/')}/{dataset_group_name}/tracking-id"


def action_parameter_name(prefix: str, dataset_group_name: str) -> str:
    """The Action interactions dataset's trackingId, for PutActionInteractions."""
    return f"{prefix.rstrip('/')}/{dataset_group_name}/action-tracking-id"


def put_tracking_id(
    ssm: Any,
    name: str,
    tracking_id: str,
    description: str,
    tags: dict[str, str],
    parameter_type: str = "String",
    kms_key_id: str = "",
) -> None:
    """Write the parameter with its tags.

    A new parameter is created with its tags in one call, so it never exists untagged. PutParameter rejects Tags
    together with Overwrite: an existing one is overwritten, then tagged (if that second call fails, the
    reconciler tags it on its next run: `tag_if_untagged`)."""
    put: dict[str, Any] = {
        "Name": name,
        "Value": tracking_id,
        "Type": parameter_type,
        "Tier": "Standard",
        "Description": description[:1024],
    }
    if parameter_type == "SecureString" and kms_key_id:
        put["KeyId"] = kms_key_id
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    try:
        try:
            ssm.put_parameter(**put, Tags=tag_list)
            return
        except ClientError as error:
            if error_code(error) != "ParameterAlreadyExists":
                raise
        ssm.put_parameter(**put, Overwrite=True)
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=tag_list)
    except ClientError as error:
        raise named_aws_error(error, throttling_as_limit=False) from error


def tag_if_untagged(ssm: Any, name: str, tags: dict[str, str]) -> bool:
    """Tag a parameter whose tags lack any of these (a write whose tagging failed); whether it had to."""
    present = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    if all({"Key": k, "Value": v} in present for k, v in tags.items()):
        return False
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )
    return True


class Stored(PollResult, total=False):
    """A check's answer once the resource is ACTIVE (and, unless skipped, its tracking ID stored)."""

    datasetGroupArn: str
    datasetGroupName: str
    parameterName: str
    trackingId: str  # String parameters only
    lag: lag.Lag


def store_tracking_id(
    ssm: Any,
    resource: dict[str, Any],
    owner: str,
    name: str,
    description: str,
    tags: dict[str, str],
    request: PollRequest,
    parameter_type: str = "String",
    kms_key_id: str = "",
) -> Stored:
    """Write the ACTIVE resource's trackingId (from its Describe answer) to SSM; the answer's lag, and the ID itself
    for a String parameter. InvalidTrackingId, and nothing written, if it is missing, empty or padded (the value is
    never repeated: with SecureString it must appear only in SSM)."""
    tracking_id = resource.get("trackingId")
    if not isinstance(tracking_id, str) or not tracking_id.strip() or tracking_id != tracking_id.strip():
        raise InvalidTrackingId(f"Refusing to store the trackingId of {owner}: it is missing, empty or padded")
    put_tracking_id(ssm, name, tracking_id, description, tags, parameter_type, kms_key_id)
    started = request.get("executionStartTime")
    stored: Stored = {
        "lag": lag.measure(resource.get("lastUpdatedDateTime"), request.get("eventTime"), started, time.time())
    }
    if parameter_type == "String":
        stored["trackingId"] = tracking_id
    return stored
