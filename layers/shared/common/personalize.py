"""Personalize facts the workflow relies on: ARNs, names and statuses."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from common.errors import DatasetGroupNotFound, ProvisioningError, error_code, is_throttling, named_aws_error

# Status strings carry spaces; the model types `status` as a free string.
ACTIVE = "ACTIVE"
CREATING = frozenset({"CREATE PENDING", "CREATE IN_PROGRESS"})
CREATE_FAILED = "CREATE FAILED"
DELETING = frozenset({"DELETE PENDING", "DELETE IN_PROGRESS"})
ITEM_INTERACTIONS = "INTERACTIONS"  # a datasetType, which the API matches in any case

NAME_MAX = 63
NAME_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9\-_]*"
TRACKER_SUFFIX = "-tracker"
TAGS_MAX = 200
# On every tracker this application creates: only those may it ever delete (IAM cannot scope DeleteEventTracker
# to tags: Personalize has no condition keys). Adopted trackers never carry it.
TAG_MADE_BY = "event-tracker-provisioner:made-by"
MADE_BY = "event-tracker-provisioner"

_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):personalize:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):dataset-group/(?P<name>" + NAME_PATTERN + ")"
)


class DatasetGroupArn(NamedTuple):
    arn: str
    partition: str
    region: str
    account: str
    name: str


def parse_dataset_group_arn(arn: str) -> DatasetGroupArn | None:
    """The parts of a dataset group ARN, or None when it is not one."""
    match = _ARN.fullmatch(arn)
    if not match or len(match["name"]) > NAME_MAX:
        return None
    return DatasetGroupArn(arn, match["partition"], match["region"], match["account"], match["name"])


def dataset_group_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:personalize:{region}:{account}:dataset-group/{name}"


def tracker_name(dataset_group: DatasetGroupArn) -> str:
    """The event tracker's name, derived from the dataset group's.

    `<name>-tracker` when it fits in 63 characters; otherwise the name is cut
    and a short hash of the ARN is appended, so long names that share a prefix
    still get distinct tracker names.
    """
    name = dataset_group.name + TRACKER_SUFFIX
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(dataset_group.arn.encode()).hexdigest()[:10]
    return f"{dataset_group.name[: NAME_MAX - len(digest) - 1]}-{digest}"


def is_being_deleted(status: str) -> bool:
    return status in DELETING


def dataset_group_tags(personalize: Any, arn: str) -> dict[str, str]:
    try:
        tags = personalize.list_tags_for_resource(resourceArn=arn).get("tags", [])
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise DatasetGroupNotFound(f"Dataset group {arn} does not exist") from error
        raise named_aws_error(error) from error
    return {tag["tagKey"]: tag.get("tagValue", "") for tag in tags}


def live_trackers(personalize: Any, dataset_group_arn: str) -> list[dict[str, Any]]:
    """The dataset group's event trackers that are not being deleted (summaries: no trackingId)."""
    pages = personalize.get_paginator("list_event_trackers").paginate(datasetGroupArn=dataset_group_arn)
    return [
        tracker
        for page in pages
        for tracker in page.get("eventTrackers", [])
        if not is_being_deleted(tracker.get("status", ""))
    ]


def dataset_of_type(personalize: Any, dataset_group_arn: str, dataset_type: str) -> dict[str, Any] | None:
    """The group's dataset of this type (ListDatasets' summary), if it has one."""
    pages = personalize.get_paginator("list_datasets").paginate(datasetGroupArn=dataset_group_arn)
    for page in pages:
        for dataset in page.get("datasets", []):
            if str(dataset.get("datasetType", "")).upper() == dataset_type:
                return dict(dataset)
    return None


def unless_gone(describe: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """What a Describe call answers, or None when Personalize says the resource is gone: not found, or being
    deleted. Any other error propagates."""
    try:
        resource = describe()
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    return None if is_being_deleted(resource.get("status", "")) else resource


def describe_or_throttled(
    describe: Callable[[], dict[str, Any]], not_found: ProvisioningError
) -> dict[str, Any] | None:
    """What a status check's Describe call answers, or None when Personalize throttled it (wait and ask again).

    ResourceNotFoundException raises `not_found`; any other error, the exception named after its code.
    """
    try:
        return describe()
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise not_found from error
        if is_throttling(error):
            return None
        raise named_aws_error(error) from error
