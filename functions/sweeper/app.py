"""Sweeper: delete the parameters whose dataset group or Action interactions dataset no longer exists.

Runs on the reconciler's schedule. CloudTrail delivery is best effort: a DeleteDatasetGroup or DeleteDataset
event can be lost, and the teardown can fail (its dead-letter queue). The reconciler repairs what is missing; this
removes what is stale. It deletes only parameters this application wrote (they carry its tag), and only when
Personalize itself says the resource the tag names is gone (ResourceNotFoundException or a DELETE status):

- the dataset group: its tracking-id, action-tracking-id and tracker-hold go;
- the Action interactions dataset: its action-tracking-id goes;
- a tracker-hold or a tracking-id of an earlier dataset group of the same name (so of the same ARN) goes: a
  tracking-id written before the group was made names a tracker Personalize deleted before it let that group go.
  (A group's own is written once its tracker is ACTIVE, after the group was made: `common.holds.of_an_earlier_group`.)

A tracking-id whose tracker is gone while its group lives is the reconciler's: someone deleted that tracker, which
it records (common.holds) before it removes the parameter.

A parameter that cannot be checked now (throttled past its retries, access denied) is left for the next run.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from common.clients import Deadline, personalize_client, ssm_client, worst_call_seconds
from common.continuation import continue_in_new_invocation, within_deadline
from common.errors import AwsError, InvalidEvent, LimitExceeded, error_code
from common.holds import epoch, hold_name, of_an_earlier_group, read_hold
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, action_parameter_name, parameter_name
from common.personalize import unless_gone

logger = Logger()
metrics = Metrics()
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
PAGE_SIZE = 50  # DescribeParameters' maximum
MARGIN_SECONDS = 10  # kept free at the end of an invocation, beyond twice its slowest parameter
# No call begins that could outlast the invocation: the hand-over's own call and the report still fit after it.
DEADLINE = Deadline(reserve=worst_call_seconds() + MARGIN_SECONDS)
personalize = DEADLINE.watch(personalize_client(paced=True))
ssm = DEADLINE.watch(ssm_client(paced=True))


@dataclass
class Report:
    checked: int = 0  # parameters of this application whose resources were checked
    swept: dict[str, str] = field(default_factory=dict)  # deleted: name -> why
    unchecked: dict[str, str] = field(default_factory=dict)  # could not be checked now: the next run will
    continued: bool = False  # the parameters after these are checked by a new invocation

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "swept": self.swept, "unchecked": self.unchecked, "continued": self.continued}


def ours_by_name(prefix: str, name: str) -> bool:
    """Whether the name is one this application writes: {prefix}/{group}/tracking-id, .../action-tracking-id or
    .../tracker-hold."""
    group = name.removeprefix(prefix.rstrip("/") + "/").split("/")[0]
    return name in (parameter_name(prefix, group), action_parameter_name(prefix, group), hold_name(prefix, group))


def is_gone(describe: Callable[[], dict[str, Any]]) -> bool:
    return unless_gone(describe) is None


@dataclass
class Sweep:
    """One run over the parameters under the prefix, in name order; a parameter not checked now waits a run."""

    personalize: Any
    ssm: Any
    prefix: str
    seconds_left: Callable[[], float] = lambda: math.inf  # the invocation's remaining time
    hand_over: Callable[[str], None] | None = None  # continues after a parameter name in a new invocation
    report: Report = field(default_factory=Report)
    deadline: Deadline | None = None  # the clients' guard against calls that could outlast the invocation
    _groups: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # by ARN: None when gone
    _written: dict[str, Any] = field(default_factory=dict)  # each parameter's LastModifiedDate, by name
    _after: str | None = None  # the last parameter checked

    def names(self) -> list[str]:
        """Every parameter name under the prefix (DescribeParameters: names, never values), sorted: the cursor a
        new invocation continues from is a name, so deleting parameters never shifts what the next invocation
        reads (unlike a page token)."""
        pages = self.ssm.get_paginator("describe_parameters").paginate(
            ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [self.prefix]}],
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        self._written = {p["Name"]: p.get("LastModifiedDate") for page in pages for p in page["Parameters"]}
        return sorted(self._written)

    def run(self, after: str | None = None) -> Report:
        """Name by name; when the next might not fit in the time left, or a call could not begin in it, hand the
        rest to a new invocation, after the last parameter checked."""
        self._after = after
        if within_deadline(self._run, self.deadline, self.seconds_left, self.hand_over, lambda: self._after) is None:
            self.report.continued = True
        return self.report

    def _run(self) -> Report:
        slowest, progressed = 0.0, False
        for name in self.names():
            if self._after is not None and name <= self._after:
                continue
            if not ours_by_name(self.prefix, name):
                continue
            if progressed and self.hand_over is not None and self.seconds_left() < 2 * slowest + MARGIN_SECONDS:
                self.hand_over(self._after or "")
                self.report.continued = True
                return self.report
            started = time.monotonic()
            self.sweep_or_leave(name)
            slowest, progressed = max(slowest, time.monotonic() - started), True
            self._after = name
        return self.report

    def sweep_or_leave(self, name: str) -> None:
        try:
            self.sweep(name)
        except (ClientError, BotoCoreError, AwsError, LimitExceeded) as error:
            reason = f"{type(error).__name__}: {error}"
            self.report.unchecked[name] = reason
            logger.warning("Left for the next run", extra={"parameterName": name, "reason": reason})

    def sweep(self, name: str) -> None:
        try:
            tag_list = self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
        except ClientError as error:
            if error_code(error) == "InvalidResourceId":  # deleted meanwhile (by the teardown)
                return
            raise
        tags = {tag["Key"]: tag["Value"] for tag in tag_list}
        group = tags.get(TAG_DATASET_GROUP_ARN)
        if not group:
            return  # not written by this application: never touched
        reason = self.why_stale(name, group, tags.get(TAG_DATASET_ARN))
        self.report.checked += 1
        if reason is None:
            return
        try:
            self.ssm.delete_parameter(Name=name)
        except ClientError as error:
            if error_code(error) != "ParameterNotFound":
                raise
        self.report.swept[name] = reason
        logger.info("Swept", extra={"parameterName": name, "reason": reason})

    def why_stale(self, name: str, group: str, dataset: str | None) -> str | None:
        """Why the parameter names a resource that is gone, or None while it names live ones."""
        live = self.group(group)
        if live is None:
            return f"dataset group {group} does not exist or is being deleted"
        if dataset:
            if is_gone(lambda: self.personalize.describe_dataset(datasetArn=dataset)["dataset"]):
                return f"Action interactions dataset {dataset} does not exist or is being deleted"
            return None
        group_name, created = group.rsplit("/", 1)[1], epoch(live.get("creationDateTime"))
        if name == hold_name(self.prefix, group_name) and read_hold(self.ssm, self.prefix, group_name, created) is None:
            return f"the hold is about an earlier dataset group named as {group} is"
        if name == parameter_name(self.prefix, group_name) and of_an_earlier_group(self._written.get(name), created):
            return f"the tracking ID is of an earlier dataset group named as {group} is (written before it was made)"
        return None

    def group(self, arn: str) -> dict[str, Any] | None:
        """Asked once per run: a group's parameters name the same group. None when it is gone."""
        if arn not in self._groups:
            self._groups[arn] = unless_gone(
                lambda: self.personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]
            )
        return self._groups[arn]


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    after = event.get("after") if isinstance(event, dict) else None
    if after is not None and not isinstance(after, str):
        raise InvalidEvent(f"after must be a string (a parameter name), not {after!r}")

    report = Sweep(
        personalize,
        ssm,
        PARAMETER_PREFIX,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        hand_over=lambda name: continue_in_new_invocation(context.invoked_function_arn, {"after": name}),
        deadline=DEADLINE,
    ).run(after)
    metrics.add_metric(name="ParametersChecked", unit=MetricUnit.Count, value=report.checked)
    metrics.add_metric(name="ParametersSwept", unit=MetricUnit.Count, value=len(report.swept))
    metrics.add_metric(name="ParametersUnchecked", unit=MetricUnit.Count, value=len(report.unchecked))
    logger.info("Swept stale parameters", extra=report.as_dict())
    return report.as_dict()
