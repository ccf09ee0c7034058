"""Where the trackingId lives in SSM Parameter Store, and how we recognise our own parameters."""

from __future__ import annotations

TAG_DATASET_GROUP_ARN = "event-tracker-provisioner:dataset-group-arn"
TAG_EVENT_TRACKER_ARN = "event-tracker-provisioner:event-tracker-arn"


def parameter_name(prefix: str, dataset_group_name: str) -> str:
    return f"{prefix.rstrip('/')}/{dataset_group_name}/tracking-id"
