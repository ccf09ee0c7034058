"""Why the application must not give a dataset group a tracker now: a hold, kept in SSM beside its tracking ID.

`{prefix}/{group}/tracker-hold` is a String parameter holding JSON, tagged with the group's ARN:

- `deleted`: someone other than the application deleted the group's tracker (who and when come from CloudTrail,
  "unknown" when the tracker vanished without an event). No event-driven or scheduled run makes it again.
- `released`: the application removed the tracker it made so that a deletion of the group, or of its Item
  interactions dataset, could go through. A new Item interactions dataset in the group brings it back.
- `failed`: the tracker ended in CREATE FAILED. It is reported once, not every hour.

A start by hand (`{"datasetGroupArn": ...}`) lifts any hold. A hold names the group's creationDateTime: the hold of
an earlier group of the same name (the same ARN) does not hold a new one back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from common.errors import error_code
from common.parameters import TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN, parameter_name
from common.personalize import unless_gone

HOLD = "tracker-hold"
DELETED, RELEASED, FAILED = "deleted", "released", "failed"
UNKNOWN = "unknown"
# Who started a workflow execution (ParseInput's `startedBy`): only a person lifts every hold.
PERSON, EVENT, SCHEDULE, INTERACTIONS_DATASET = "person", "event", "schedule", "interactionsDataset"
SAME_GROUP_SECONDS = 0.001  # creation times compared across APIs: the same group within rounding (a group deleted
# and made again under its name has a later creationDateTime, even within the same second)


def hold_name(prefix: str, dataset_group_name: str) -> str:
    return f"{prefix.rstrip('/')}/{dataset_group_name}/{HOLD}"


def epoch(value: Any) -> float | None:
    """A creationDateTime as boto3 gives it (datetime), or as a float; None when absent."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def of_an_earlier_group(written: Any, created: float | None) -> bool:
    """Whether a parameter last written at `written` (its LastModifiedDate) is an earlier group's of the same name
    (the same ARN) than the group made at `created`: a group's own is written once its tracker is ACTIVE, after the
    group was made; an earlier group's, before that group's tracker and then the group itself went."""
    last_written = epoch(written)
    return last_written is not None and created is not None and last_written < created


def restore_command(state_machine_arn: str, dataset_group_arn: str) -> str:
    """How a person brings the tracker back: the workflow started by hand."""
    workflow_input = json.dumps({"datasetGroupArn": dataset_group_arn})
    return f"aws stepfunctions start-execution --state-machine-arn {state_machine_arn} --input '{workflow_input}'"


@dataclass(frozen=True)
class Hold:
    kind: str  # DELETED, RELEASED or FAILED
    datasetGroupArn: str
    datasetGroupCreated: float | None  # epoch seconds: which group of that name
    eventTrackerArn: str | None
    by: str  # an identity's ARN, the application, or UNKNOWN
    at: str  # ISO 8601, or UNKNOWN
    reason: str = ""

    def describe(self) -> str:
        tracker = self.eventTrackerArn or "its event tracker"
        if self.kind == DELETED:
            return f"{tracker} was deleted by {self.by} at {self.at}: not made again until a start by hand"
        if self.kind == RELEASED:
            return (
                f"{tracker} was removed by the application at {self.at} so that a deletion by {self.by} could go "
                "through: made again on a new Item interactions dataset or a start by hand"
            )
        return f"{tracker} failed ({self.reason}) at {self.at}: reported once; start by hand to try again"

    def lifted_by(self, started_by: str, event_time: str | None = None) -> bool:
        """A start by hand lifts any hold; an Item interactions dataset created after the release lifts that one
        (a late event about the dataset that was deleted does not)."""
        if started_by == PERSON:
            return True
        newer = event_time is None or self.at == UNKNOWN or event_time >= self.at  # both ISO 8601 UTC
        return self.kind == RELEASED and started_by == INTERACTIONS_DATASET and newer

    def holds(self, dataset_group_created: float | None) -> bool:
        """Whether it is about this group and not an earlier one of the same name."""
        if self.datasetGroupCreated is None or dataset_group_created is None:
            return True
        return abs(self.datasetGroupCreated - dataset_group_created) < SAME_GROUP_SECONDS

    def same_as(self, other: Hold) -> bool:
        return (self.kind, self.eventTrackerArn) == (other.kind, other.eventTrackerArn) and self.holds(
            other.datasetGroupCreated
        )


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_hold(ssm: Any, prefix: str, dataset_group_name: str, dataset_group_created: float | None) -> Hold | None:
    """The group's hold, or None (none, one of an earlier group of that name, or one a person garbled)."""
    try:
        value = ssm.get_parameter(Name=hold_name(prefix, dataset_group_name))["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return None
        raise
    try:
        hold = Hold(**json.loads(value))
    except (TypeError, ValueError):
        return None
    return hold if hold.holds(dataset_group_created) else None


def record_hold(ssm: Any, prefix: str, dataset_group_name: str, hold: Hold) -> bool:
    """Write the hold; whether it is new (False: the same hold was already recorded, so it was already said)."""
    name = hold_name(prefix, dataset_group_name)
    try:
        ssm.put_parameter(**_put(name, hold), Tags=_tags(hold))
        return True
    except ClientError as error:
        if error_code(error) != "ParameterAlreadyExists":
            raise
    existing = read_hold(ssm, prefix, dataset_group_name, hold.datasetGroupCreated)
    if existing is not None and existing.same_as(hold):
        return False
    put_hold(ssm, prefix, dataset_group_name, hold)
    return True


def put_hold(ssm: Any, prefix: str, dataset_group_name: str, hold: Hold) -> None:
    """Write the hold over whatever is there (PutParameter takes no Tags with Overwrite: tagged after)."""
    name = hold_name(prefix, dataset_group_name)
    ssm.put_parameter(**_put(name, hold), Overwrite=True)
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=_tags(hold))


def _put(name: str, hold: Hold) -> dict[str, Any]:
    return {"Name": name, "Value": json.dumps(asdict(hold)), "Type": "String", "Description": hold.describe()[:1024]}


def _tags(hold: Hold) -> list[dict[str, str]]:
    """The group's (the sweeper and the teardown remove the hold with the group) and the tracker's it is about."""
    tags = [{"Key": TAG_DATASET_GROUP_ARN, "Value": hold.datasetGroupArn}]
    if hold.eventTrackerArn:
        tags.append({"Key": TAG_EVENT_TRACKER_ARN, "Value": hold.eventTrackerArn})
    return tags


def clear_hold(ssm: Any, prefix: str, dataset_group_name: str) -> None:
    try:
        ssm.delete_parameter(Name=hold_name(prefix, dataset_group_name))
    except ClientError as error:
        if error_code(error) != "ParameterNotFound":
            raise


def tracker_is_gone(personalize: Any, arn: str) -> bool:
    """Personalize says the tracker is gone: not found, or being deleted."""
    return unless_gone(lambda: personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]) is None


def stored_tracker(
    ssm: Any, prefix: str, dataset_group_name: str, dataset_group_created: float | None
) -> tuple[str, datetime] | None:
    """(tracker ARN, when written) of the group's tracking-id parameter, if this application wrote it for this
    group (not for an earlier group of the same name: a parameter older than the group)."""
    name = parameter_name(prefix, dataset_group_name)
    try:
        written = ssm.get_parameter(Name=name)["Parameter"].get("LastModifiedDate")
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    except ClientError as error:
        if error_code(error) in ("ParameterNotFound", "InvalidResourceId"):
            return None
        raise
    tracker = {tag["Key"]: tag["Value"] for tag in tags}.get(TAG_EVENT_TRACKER_ARN)
    if not tracker or of_an_earlier_group(written, dataset_group_created):
        return None
    return tracker, written


def vanished(personalize: Any, ssm: Any, prefix: str, arn: str, name: str, created: float | None) -> Hold | None:
    """For a group with no live tracker: the hold to record when the tracker its parameter names is gone. Someone
    deleted it and no event said so (the application's own removals record theirs first)."""
    stored = stored_tracker(ssm, prefix, name, created)
    if stored is None or not tracker_is_gone(personalize, stored[0]):
        return None
    return Hold(DELETED, arn, created, stored[0], UNKNOWN, UNKNOWN, f"noticed gone at {now_iso()}")


def remove_tracking_id(ssm: Any, prefix: str, dataset_group_name: str, tracker_arn: str | None) -> bool:
    """Delete the group's tracking-id parameter if this application wrote it for that tracker; whether it did."""
    name = parameter_name(prefix, dataset_group_name)
    try:
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
        if {tag["Key"]: tag["Value"] for tag in tags}.get(TAG_EVENT_TRACKER_ARN) != tracker_arn or not tracker_arn:
            return False
        ssm.delete_parameter(Name=name)
    except ClientError as error:
        if error_code(error) in ("ParameterNotFound", "InvalidResourceId"):
            return False
        raise
    return True


def identity(detail: dict[str, Any]) -> str:
    """Who made a CloudTrail-recorded call: the identity's ARN (and the service that called for it)."""
    who: dict[str, Any] = detail["userIdentity"] if isinstance(detail.get("userIdentity"), dict) else {}
    name = who.get("arn") or who.get("principalId") or who.get("type") or UNKNOWN
    invoked_by = who.get("invokedBy")
    return f"{name} (through {invoked_by})" if invoked_by else str(name)


def announce_deleted(events: Any, hold: Hold, dataset_group_name: str, state_machine_arn: str) -> None:
    """Say once, on the default bus, that a tracker was deleted and how to bring it back."""
    detail = {
        "datasetGroupArn": hold.datasetGroupArn,
        "datasetGroupName": dataset_group_name,
        "eventTrackerArn": hold.eventTrackerArn,
        "deletedBy": hold.by,
        "deletedAt": hold.at,
        "message": hold.describe(),
        "restore": restore_command(state_machine_arn, hold.datasetGroupArn),
    }
    events.put_events(
        Entries=[
            {
                "Source": "event-tracker-provisioner",
                "DetailType": "Event Tracker Deleted",
                "Detail": json.dumps(detail),
            }
        ]
    )
