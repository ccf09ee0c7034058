"""Reconciler: start the provisioning workflow for every dataset group that lacks its tracker or parameter.

Runs on a schedule (ReconcileSchedule) and by hand for a backfill. CloudTrail
delivery is best effort, and dataset groups made before the deployment had no
event: this finds them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from common import holds
from common.clients import (
    Deadline,
    events_client,
    personalize_client,
    ssm_client,
    stepfunctions_client,
    worst_call_seconds,
)
from common.config import STATE_MACHINE_ARN, checked
from common.continuation import continue_in_new_invocation, within_deadline
from common.errors import AwsError, DatasetGroupNotFound, InvalidEvent, LimitExceeded, error_code
from common.opt_out import compile_exclude_pattern, opt_out_reason
from common.parameters import (
    TAG_DATASET_ARN,
    TAG_DATASET_GROUP_ARN,
    TAG_EVENT_TRACKER_ARN,
    action_parameter_name,
    parameter_name,
    tag_if_untagged,
)
from common.personalize import ACTIVE, CREATING, ITEM_INTERACTIONS, dataset_group_tags, dataset_of_type, live_trackers

logger = Logger()
metrics = Metrics()
STATE_MACHINE = os.environ.get("STATE_MACHINE_ARN", "")
PARAMETER_PREFIX = os.environ.get("PARAMETER_PREFIX", "/personalize")
EXCLUDE = compile_exclude_pattern(os.environ.get("EXCLUDE_NAME_PATTERN", ""))
STARTS_PER_SECOND = float(os.environ.get("STARTS_PER_SECOND") or 2)
WINDOW_SECONDS = 3600
ACTION_INTERACTIONS_TYPE = "ACTION_INTERACTIONS"
ACTIONS_SUFFIX = "(action tracking ID)"  # how the report names a group's Action interactions dataset
NAME_MAX = 80
JOIN_TOLERANCE = timedelta(seconds=1)  # clock skew between Lambda and Step Functions
STARTS_PER_HOUR = 3  # executions per dataset group and hour: a new name only after the last one closed
PAGE_SIZE = 100  # ListDatasetGroups' maximum
MARGIN_SECONDS = 10  # kept free at the end of an invocation, beyond twice its slowest page

# No call begins that could outlast the invocation: the hand-over's own call and the report still fit after it.
DEADLINE = Deadline(reserve=worst_call_seconds() + MARGIN_SECONDS)
personalize = DEADLINE.watch(personalize_client(paced=True))
ssm = DEADLINE.watch(ssm_client(paced=True))
stepfunctions = DEADLINE.watch(stepfunctions_client(paced=True))
# Made on the first announcement only: most runs find no tracker deleted.
events = functools.cache(lambda: DEADLINE.watch(events_client()))


@dataclass
class Report:
    checked: int = 0
    started: list[str] = field(default_factory=list)  # a new execution began
    joined: list[str] = field(default_factory=list)  # the same execution was already running: nothing new began
    retagged: list[str] = field(default_factory=list)  # parameters right by name and value that had lost their tag
    skipped: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)  # kept without a tracker by a hold (common.holds): why
    unchecked: dict[str, str] = field(default_factory=dict)  # could not be checked now: the next run will
    continued: bool = False  # the groups after these are checked by a new invocation
    # A dry run's account view (status): each group's state, what is known of it, and what a run would do.
    groups: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "started": self.started,
            "joined": self.joined,
            "retagged": self.retagged,
            "skipped": self.skipped,
            "held": self.held,
            "unchecked": self.unchecked,
            "continued": self.continued,
        }


def execution_name(dataset_group_name: str, now: float, attempt: int = 1) -> str:
    """One name per dataset group, hour and attempt: a second start in the same hour joins the running execution
    (StartExecution is idempotent for the same name and input); only after it closed does attempt 2 begin."""
    window = datetime.fromtimestamp(now - now % WINDOW_SECONDS, UTC).strftime("%Y%m%dT%H")
    suffix = f"-{attempt}" if attempt > 1 else ""
    name = f"reconcile-{window}-{dataset_group_name}"
    if len(name) + len(suffix) <= NAME_MAX:
        return name + suffix
    digest = hashlib.sha256(dataset_group_name.encode()).hexdigest()[:10]
    return f"{name[: NAME_MAX - len(digest) - 1 - len(suffix)]}-{digest}{suffix}"


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


class MalformedAnswer(ValueError):
    """An AWS answer without a field it always has: the group is left unchecked, the run goes on."""


def tracking_id_of(answer: dict[str, Any], what: str) -> str:
    tracking_id = answer.get("trackingId")
    if not isinstance(tracking_id, str) or not tracking_id:
        raise MalformedAnswer(f"{what} is ACTIVE but its description has no trackingId")
    return tracking_id


NO_TRACKER = "no event tracker"


def needs_provisioning(
    personalize: Any,
    ssm: Any,
    group: dict[str, Any],
    prefix: str,
    retagged: list[str] | None = None,
    facts: dict[str, str] | None = None,
) -> str | None:
    """Why the dataset group needs the workflow, or None when its tracker and parameter are right (a right
    parameter that lost its tag is tagged again, and its name added to `retagged`; none is with `retagged` None).
    `facts` receives what was read: the tracker, its status, the parameter and when it was written."""
    facts = {} if facts is None else facts
    trackers = live_trackers(personalize, group["datasetGroupArn"])
    if not trackers:
        return NO_TRACKER
    facts.update(tracker=trackers[0]["eventTrackerArn"], trackerStatus=str(trackers[0].get("status")))
    active = [tracker for tracker in trackers if tracker.get("status") == ACTIVE]
    if not active:
        return f"event tracker is {facts['trackerStatus']}"
    tracker_arn = active[0]["eventTrackerArn"]
    described = personalize.describe_event_tracker(eventTrackerArn=tracker_arn)["eventTracker"]
    tracking_id = tracking_id_of(described, f"event tracker {tracker_arn}")
    name = parameter_name(prefix, group["name"])
    try:
        stored = ssm.get_parameter(Name=name, WithDecryption=True)
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return "no SSM parameter"
        raise
    if stored["Parameter"]["Value"] != tracking_id:
        return "the SSM parameter holds another trackingId"
    facts.update(parameter=name, since=str(stored["Parameter"].get("LastModifiedDate", "")))
    tags = {TAG_DATASET_GROUP_ARN: group["datasetGroupArn"], TAG_EVENT_TRACKER_ARN: tracker_arn}
    if retagged is not None and tag_if_untagged(ssm, name, tags):
        retagged.append(name)
    return None


def action_dataset_needing_provisioning(
    personalize: Any, ssm: Any, group: dict[str, Any], prefix: str, retagged: list[str] | None = None
) -> str | None:
    """The ARN of the group's ACTIVE Action interactions dataset whose parameter is missing or wrong, else None
    (a right parameter that lost its tag is tagged again)."""
    actions = dataset_of_type(personalize, group["datasetGroupArn"], ACTION_INTERACTIONS_TYPE)
    if actions is None or actions.get("status") != ACTIVE:
        return None  # none, or not ACTIVE yet: its own CreateDataset event starts the workflow, which waits
    arn = actions["datasetArn"]
    tracking_id = tracking_id_of(personalize.describe_dataset(datasetArn=arn)["dataset"], f"dataset {arn}")
    name = action_parameter_name(prefix, group["name"])
    try:
        stored = ssm.get_parameter(Name=name, WithDecryption=True)
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return str(arn)
        raise
    if stored["Parameter"]["Value"] != tracking_id:
        return str(arn)
    tags = {TAG_DATASET_GROUP_ARN: group["datasetGroupArn"], TAG_DATASET_ARN: arn}
    if retagged is not None and tag_if_untagged(ssm, name, tags):
        retagged.append(name)
    return None


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


@dataclass
class Reconciliation:
    """One run over the account's dataset groups; one that cannot be checked now is left for the next run."""

    personalize: Any
    ssm: Any
    stepfunctions: Any
    state_machine_arn: str
    prefix: str
    exclude: Any
    now: float
    pace: Pace
    seconds_left: Callable[[], float] = lambda: math.inf  # the invocation's remaining time
    hand_over: Callable[[str], None] | None = None  # continues from a page token in a new invocation
    report: Report = field(default_factory=Report)
    running: set[str] = field(default_factory=set)
    deadline: Deadline | None = None  # the clients' guard against calls that could outlast the invocation
    events: Callable[[], Any] | None = None  # the client to announce a tracker found deleted (common.holds)
    dry_run: bool = False  # read only: say what a run would do, per group, in report.groups (the status view)
    _token: str | None = None  # of the page being checked

    def run(self, next_token: str | None = None) -> Report:
        """Page by page; when the next page might not fit in the time left, or a call could not begin in it, hand
        the rest to a new invocation (from the page being checked: its starts join or are skipped as running)."""
        self._token = next_token
        if within_deadline(self._run, self.deadline, self.seconds_left, self.hand_over, lambda: self._token) is None:
            self.report.continued = True
        return self.report

    def _run(self) -> Report:
        _, _, _, region, account, *_ = self.state_machine_arn.split(":")
        if self.stepfunctions is not None:
            self.running = running_dataset_groups(self.stepfunctions, self.state_machine_arn, region, account)
        slowest = 0.0
        while True:
            started = time.monotonic()
            page = self.personalize.list_dataset_groups(
                maxResults=PAGE_SIZE, **({"nextToken": self._token} if self._token else {})
            )
            for group in page.get("datasetGroups", []):
                self.check_or_leave(group)
            self._token = page.get("nextToken")
            if not self._token:
                return self.report
            slowest = max(slowest, time.monotonic() - started)
            if self.hand_over is not None and self.seconds_left() < 2 * slowest + MARGIN_SECONDS:
                self.hand_over(self._token)
                self.report.continued = True
                return self.report

    def check_or_leave(self, group: dict[str, Any]) -> None:
        try:
            self.check(group)
        except (ClientError, BotoCoreError, AwsError, LimitExceeded) as error:
            self.leave(group, f"{type(error).__name__}: {error}")
        except (KeyError, TypeError, ValueError) as error:  # an answer without a field it should have
            self.leave(group, f"malformed answer: {type(error).__name__}: {error}")
        else:
            self.report.checked += 1

    def leave(self, group: dict[str, Any], reason: str) -> None:
        label = str(group.get("name") or group.get("datasetGroupArn") or group)
        self.report.unchecked[label] = reason
        self.note(label, "unchecked", reason, "check it again next run")
        logger.warning("Left for the next run", extra={"datasetGroup": label, "reason": reason})

    def note(self, name: str, state: str, detail: str, action: str) -> None:
        """A group's line of the account view (dry runs)."""
        if self.dry_run:
            self.report.groups[name] = {"state": state, "detail": detail, "action": action}

    def held_back(self, group: dict[str, Any], reason: str) -> bool:
        """Whether a hold keeps the group without a tracker (common.holds): a recorded one, or a tracker found
        deleted now, which is recorded (and said once) and its parameter removed."""
        name, arn = group["name"], group["datasetGroupArn"]
        created = holds.epoch(group.get("creationDateTime"))
        hold = holds.read_hold(self.ssm, self.prefix, name, created)
        # No tracker left, and the parameter names one that is gone: removed, and recorded if nothing says why
        # (a parameter a late write left behind a release is removed too).
        gone = (
            holds.vanished(self.personalize, self.ssm, self.prefix, arn, name, created)
            if reason == NO_TRACKER
            else None
        )
        if gone is not None and not self.dry_run:
            if hold is None and holds.record_hold(self.ssm, self.prefix, name, gone) and self.events is not None:
                holds.announce_deleted(self.events(), gone, name, self.state_machine_arn)
            holds.remove_tracking_id(self.ssm, self.prefix, name, gone.eventTrackerArn)
        hold = hold or gone
        if hold is None:
            return False
        self.report.held[name] = hold.describe()
        if not self.dry_run:
            return True
        state = {holds.DELETED: "tracker deleted", holds.RELEASED: "tracker released", holds.FAILED: "failed"}
        action = "nothing: a start by hand brings it back"
        if hold.kind == holds.RELEASED and dataset_of_type(self.personalize, arn, ITEM_INTERACTIONS) is not None:
            # Released for a deletion of the group or its dataset that did not happen: refused, or a stack
            # update's clean-up that left them in the account (no hook runs there).
            state[holds.RELEASED] = "released for a deletion that has not happened"
            action = (
                "delete the group (or its Item interactions dataset) again to finish, or start the workflow by hand"
                " to get a tracker back"
            )
        self.note(name, state[hold.kind], hold.describe(), action)
        return True

    def check(self, group: dict[str, Any]) -> None:
        """Start the workflow for what the dataset group lacks: its tracker's parameter, its action tracking ID."""
        name, arn, status = group["name"], group["datasetGroupArn"], group.get("status", "")
        report, actions = self.report, f"{name} {ACTIONS_SUFFIX}"
        if status != ACTIVE and status not in CREATING:
            report.skipped[name] = f"dataset group is {status}"
            self.note(name, f"dataset group {status}", "", "nothing")
            return
        if (reason := opt_out_reason(name, {}, self.exclude)) is not None:  # by name: no call needed
            report.skipped[name] = reason
            self.note(name, "opted out", reason, "nothing")
            return
        # What is missing is read first: a group in order, the usual case, needs no tag lookup.
        work: list[tuple[str, str, dict[str, str]]] = []  # (label, what the execution is named after, input)
        retagged = None if self.dry_run else self.report.retagged
        facts: dict[str, str] = {}
        scheduled = {"datasetGroupArn": arn, "startedBy": holds.SCHEDULE}
        try:
            if arn in self.running:
                report.skipped[name] = "an execution for it is running"
                self.note(name, "being provisioned", "an execution for it is running", "nothing: it is running")
            elif status != ACTIVE:
                work.append((name, name, scheduled))
                self.note(name, "being provisioned", f"dataset group is {status}", "start the workflow")
            elif why := needs_provisioning(self.personalize, self.ssm, group, self.prefix, retagged, facts):
                # Without an ACTIVE tracker, a hold may say why (a wrong or missing parameter is repaired anyway).
                no_active = why == NO_TRACKER or why.startswith("event tracker")
                if not no_active or not self.held_back(group, why):
                    work.append((name, name, scheduled))
                    state = "missing" if why == NO_TRACKER else "failed" if "FAILED" in why else "needs repair"
                    self.note(name, state, why, "start the workflow")
            else:
                report.skipped[name] = "tracker and parameter are in place"
                self.note(
                    name, "provisioned", f"{facts['tracker']} in {facts['parameter']} since {facts['since']}", "nothing"
                )
            dataset_arn = (
                action_dataset_needing_provisioning(self.personalize, self.ssm, group, self.prefix, retagged)
                if status == ACTIVE
                else None
            )
            if dataset_arn and dataset_arn in self.running:
                report.skipped[actions] = "an execution for it is running"
            elif dataset_arn:
                work.append((actions, f"{name}-actions", {"datasetArn": dataset_arn}))
                if self.dry_run and name in report.groups:
                    report.groups[name]["action"] += " (and store its action tracking ID)"
            tags = dataset_group_tags(self.personalize, arn) if work else {}
        except DatasetGroupNotFound:
            report.skipped[name] = "dataset group was deleted meanwhile"
            return
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            report.skipped[name] = "dataset group was deleted meanwhile"
            return
        if (reason := opt_out_reason(name, tags, self.exclude)) is not None:
            report.skipped[name] = reason
            self.note(name, "opted out", reason, "nothing")
            return
        for label, named_after, workflow_input in work:
            self.start(label, named_after, workflow_input)

    def start(self, label: str, named_after: str, workflow_input: dict[str, str]) -> None:
        """Start the hour's execution for it (not in a dry run). StartExecution answers as AWS does: the same name and
        input as a running execution returns that execution (joined); a closed one's name is taken for 90 days
        (ExecutionAlreadyExists), so the next attempt's name is tried, up to STARTS_PER_HOUR."""
        if self.dry_run:
            return
        for attempt in range(1, STARTS_PER_HOUR + 1):
            self.pace.wait()
            asked_at = datetime.now(UTC)
            try:
                started = self.stepfunctions.start_execution(
                    stateMachineArn=self.state_machine_arn,
                    name=execution_name(named_after, self.now, attempt),
                    input=json.dumps(workflow_input),
                )
            except ClientError as error:
                if error_code(error) != "ExecutionAlreadyExists":
                    raise
                continue  # that attempt closed without provisioning it
            # An execution that began before this call was already running: StartExecution returned it.
            joined = started["startDate"] < asked_at - JOIN_TOLERANCE
            (self.report.joined if joined else self.report.started).append(label)
            return
        self.report.skipped[label] = f"{STARTS_PER_HOUR} executions for it closed in this hour; next hour"


def run_time(event: Any) -> float:
    """When the run is: the schedule's time (EventBridge's `time`, kept by a continuation), else now.

    Execution names are per hour of it, so a retried or continued invocation names what it starts as the first did."""
    stamp = event.get("time") if isinstance(event, dict) else None
    if stamp is None:
        return time.time()
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidEvent(f"time must be an ISO 8601 timestamp (a scheduled event's), not {stamp!r}") from None


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    state_machine_arn = checked("STATE_MACHINE_ARN", STATE_MACHINE, STATE_MACHINE_ARN, "a state machine ARN")
    next_token = event.get("nextToken") if isinstance(event, dict) else None
    if next_token is not None and not isinstance(next_token, str):
        raise InvalidEvent(f"nextToken must be a string (a ListDatasetGroups token), not {next_token!r}")
    now = run_time(event)

    def hand_over(token: str) -> None:
        """The rest of the account, in the same hour's window (the schedule's time goes with it)."""
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        continue_in_new_invocation(context.invoked_function_arn, {"nextToken": token, "time": stamp})

    report = Reconciliation(
        personalize,
        ssm,
        stepfunctions,
        state_machine_arn,
        PARAMETER_PREFIX,
        EXCLUDE,
        now,
        Pace(STARTS_PER_SECOND),
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        hand_over=hand_over,
        deadline=DEADLINE,
        events=events,
    ).run(next_token)
    metrics.add_metric(name="DatasetGroupsChecked", unit=MetricUnit.Count, value=report.checked)
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=len(report.started))
    metrics.add_metric(name="ExecutionsJoined", unit=MetricUnit.Count, value=len(report.joined))
    metrics.add_metric(name="ParametersRetagged", unit=MetricUnit.Count, value=len(report.retagged))
    metrics.add_metric(name="DatasetGroupsSkipped", unit=MetricUnit.Count, value=len(report.skipped))
    metrics.add_metric(name="DatasetGroupsUnchecked", unit=MetricUnit.Count, value=len(report.unchecked))
    logger.info("Reconciled", extra=report.as_dict())
    return report.as_dict()
