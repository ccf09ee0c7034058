"""Reconciler: start the provisioning workflow for every dataset group that lacks its tracker or parameter.

Runs on a schedule (ReconcileSchedule) and by hand for a backfill. CloudTrail
delivery is best effort, and dataset groups made before the deployment had no
event: this finds them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from common.clients import personalize_client, ssm_client, stepfunctions_client
from common.config import STATE_MACHINE_ARN, checked
from common.errors import DatasetGroupNotFound, InvalidEvent, error_code
from common.opt_out import compile_exclude_pattern, opt_out_reason
from common.parameters import action_parameter_name, parameter_name
from common.personalize import ACTIVE, CREATING, dataset_group_tags, live_trackers

logger = Logger()
metrics = Metrics()
personalize = personalize_client()
ssm = ssm_client()
stepfunctions = stepfunctions_client()
STATE_MACHINE = os.environ.get("STATE_MACHINE_ARN", "")
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
EXCLUDE = compile_exclude_pattern(os.environ.get("EXCLUDE_NAME_PATTERN", ""))
STARTS_PER_SECOND = float(os.environ.get("STARTS_PER_SECOND") or 2)
WINDOW_SECONDS = 3600
ACTION_INTERACTIONS_TYPE = "ACTION_INTERACTIONS"
ACTIONS_SUFFIX = "(action tracking ID)"  # how the report names a group's Action interactions dataset
NAME_MAX = 80


@dataclass
class Report:
    checked: int = 0
    started: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "started": self.started, "skipped": self.skipped}


def execution_name(dataset_group_name: str, now: float) -> str:
    """One name per dataset group and hour: a second start in the same hour cannot make a second execution."""
    window = datetime.fromtimestamp(now - now % WINDOW_SECONDS, UTC).strftime("%Y%m%dT%H")
    name = f"reconcile-{window}-{dataset_group_name}"
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(dataset_group_name.encode()).hexdigest()[:10]
    return f"{name[: NAME_MAX - len(digest) - 1]}-{digest}"


def running_dataset_groups(stepfunctions: Any, state_machine_arn: str, region: str, account: str) -> set[str]:
    """What the workflow's running executions are provisioning: dataset group ARNs (their trackers) and
    dataset ARNs (Action interactions tracking IDs)."""
    from common.inputs import parse_input  # pydantic: imported only when there is an input to read

    _, partition, *_ = state_machine_arn.split(":")
    running: set[str] = set()
    pages = stepfunctions.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="RUNNING"
    )
    for page in pages:
        for execution in page["executions"]:
            described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
            try:
                data = json.loads(described.get("input") or "null")
                parsed = parse_input(data, region, account, partition, "/")
                running.add(parsed["datasetArn"] or parsed["datasetGroupArn"] or "")
            except (ValueError, InvalidEvent):
                continue  # an execution that fails on its input provisions nothing
    return running


def needs_provisioning(personalize: Any, ssm: Any, group: dict[str, Any], prefix: str) -> str | None:
    """Why the dataset group needs the workflow, or None when its tracker and parameter are right."""
    trackers = live_trackers(personalize, group["datasetGroupArn"])
    active = [tracker for tracker in trackers if tracker.get("status") == ACTIVE]
    if not active:
        return "no ACTIVE event tracker"
    tracking_id = personalize.describe_event_tracker(eventTrackerArn=active[0]["eventTrackerArn"])["eventTracker"][
        "trackingId"
    ]
    try:
        stored = ssm.get_parameter(Name=parameter_name(prefix, group["name"]), WithDecryption=True)
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return "no SSM parameter"
        raise
    if stored["Parameter"]["Value"] != tracking_id:
        return "the SSM parameter holds another trackingId"
    return None


def action_dataset_needing_provisioning(personalize: Any, ssm: Any, group: dict[str, Any], prefix: str) -> str | None:
    """The ARN of the group's ACTIVE Action interactions dataset whose parameter is missing or wrong, else None."""
    pages = personalize.get_paginator("list_datasets").paginate(datasetGroupArn=group["datasetGroupArn"])
    datasets = [d for page in pages for d in page.get("datasets", [])]
    actions = [d for d in datasets if d.get("datasetType", "").upper() == ACTION_INTERACTIONS_TYPE]
    if not actions or actions[0].get("status") != ACTIVE:
        return None  # none, or not ACTIVE yet: its own CreateDataset event starts the workflow, which waits
    arn = actions[0]["datasetArn"]
    tracking_id = personalize.describe_dataset(datasetArn=arn)["dataset"].get("trackingId")
    try:
        stored = ssm.get_parameter(Name=action_parameter_name(prefix, group["name"]), WithDecryption=True)
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return str(arn)
        raise
    return None if stored["Parameter"]["Value"] == tracking_id else str(arn)


class Pace:
    """At most `per_second` starts a second: each execution soon invokes Lambda, and accounts share 10 at first."""

    def __init__(self, per_second: float, clock: Any = time.monotonic, sleep: Any = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self.next_at = 0.0

    def wait(self) -> None:
        now = self.clock()
        if now < self.next_at:
            self.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval


def reconcile(
    personalize: Any,
    ssm: Any,
    stepfunctions: Any,
    state_machine_arn: str,
    prefix: str,
    exclude: Any,
    now: float,
    starts_per_second: float = STARTS_PER_SECOND,
) -> Report:
    report = Report()
    pace = Pace(starts_per_second)

    def start(label: str, name: str, workflow_input: dict[str, str]) -> None:
        pace.wait()
        try:
            stepfunctions.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(workflow_input)
            )
        except ClientError as error:
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            report.skipped[label] = "already started in this hour"
            return
        report.started.append(label)

    _, _, _, region, account, *_ = state_machine_arn.split(":")
    running = running_dataset_groups(stepfunctions, state_machine_arn, region, account)
    for page in personalize.get_paginator("list_dataset_groups").paginate():
        for group in page.get("datasetGroups", []):
            report.checked += 1
            name, arn, status = group["name"], group["datasetGroupArn"], group.get("status", "")
            if status != ACTIVE and status not in CREATING:
                report.skipped[name] = f"dataset group is {status}"
                continue
            try:
                reason = opt_out_reason(name, dataset_group_tags(personalize, arn), exclude)
            except DatasetGroupNotFound:
                report.skipped[name] = "dataset group was deleted meanwhile"
                continue
            if reason:
                report.skipped[name] = reason
                continue
            # The event tracker and its parameter.
            reason = "an execution for it is running" if arn in running else None
            if reason is None and status == ACTIVE:
                missing = needs_provisioning(personalize, ssm, group, prefix)
                reason = None if missing else "tracker and parameter are in place"
            if reason:
                report.skipped[name] = reason
            else:
                start(name, execution_name(name, now), {"datasetGroupArn": arn})
            # The Action interactions dataset's tracking ID, if the group has that dataset.
            dataset_arn = (
                action_dataset_needing_provisioning(personalize, ssm, group, prefix) if status == ACTIVE else None
            )
            if dataset_arn and dataset_arn in running:
                report.skipped[f"{name} {ACTIONS_SUFFIX}"] = "an execution for it is running"
            elif dataset_arn:
                label = f"{name} {ACTIONS_SUFFIX}"
                start(label, execution_name(f"{name}-actions", now), {"datasetArn": dataset_arn})
    return report


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    state_machine_arn = checked("STATE_MACHINE_ARN", STATE_MACHINE, STATE_MACHINE_ARN, "a state machine ARN")
    report = reconcile(personalize, ssm, stepfunctions, state_machine_arn, PARAMETER_PREFIX, EXCLUDE, time.time())
    metrics.add_metric(name="DatasetGroupsChecked", unit=MetricUnit.Count, value=report.checked)
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=len(report.started))
    metrics.add_metric(name="DatasetGroupsSkipped", unit=MetricUnit.Count, value=len(report.skipped))
    logger.info("Reconciled", extra=report.as_dict())
    return report.as_dict()
