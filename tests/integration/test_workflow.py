"""Scenarios through the whole state machine: the real definition and handlers on the local engine."""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest

from local.engine import Execution, LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import FAST, create_event, dataset_group_arn, event

NAME = "retail-recommendations"
PARAMETER = f"/personalize/{NAME}/tracking-id"


def assert_healthy(execution: Execution) -> None:
    """A healthy run: succeeded, with no failed task and no retry in its history."""
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.failed_tasks == []
    assert execution.retries == 0


# What the check and the store themselves may add to the lag beyond the last wait, on a loaded 2-core machine.
LAG_SLACK_SECONDS = 5.0


def assert_provisioned(
    stack: LocalEngine,
    emulator: PersonalizeEmulator,
    execution: Execution,
    name: str = NAME,
    adopted: bool | None = False,  # None: the caller checks it (racing executions)
) -> None:
    trackers = emulator.trackers_of(name)
    assert len(trackers) == 1
    tracker = trackers[0]
    assert tracker["status"] == "ACTIVE"
    parameter_name = f"/personalize/{name}/tracking-id"
    output = dict(execution.output)
    lag = output.pop("lag")
    assert lag["timeToTrackingIdFrom"] in ("eventTime", "executionStartTime")
    if adopted is False:  # an adopted tracker may have been ACTIVE long before: its lag is not the polling's
        # Seen ACTIVE within one wait (MaxPollIntervalSeconds at most) plus the check's and the store's own time ...
        longest_wait = float(stack.template.parameters["MaxPollIntervalSeconds"])
        assert lag["provisioningLagSeconds"] <= longest_wait + LAG_SLACK_SECONDS, lag
        # ... and the tracker this execution created became ACTIVE after it (and its event) began.
        assert lag["provisioningLagSeconds"] <= lag["timeToTrackingIdSeconds"], lag
    if lag["timeToTrackingIdFrom"] == "executionStartTime":
        assert lag["timeToTrackingIdSeconds"] <= execution.seconds + 1, lag
    adopted_here = output.pop("adopted")
    assert adopted_here is adopted if adopted is not None else isinstance(adopted_here, bool)
    assert output == {
        "datasetGroupArn": dataset_group_arn(name),
        "datasetGroupName": name,
        "eventTrackerArn": tracker["eventTrackerArn"],
        "trackingId": tracker["trackingId"],  # String parameters: the output has it
        "parameterName": parameter_name,
        "status": "ACTIVE",
        "outcome": "ready",
        "waitSeconds": 0,
    }
    parameter = stack.parameter(parameter_name)
    assert parameter is not None
    assert parameter["Value"] == tracker["trackingId"]
    assert parameter["Type"] == "String"
    assert parameter["Tags"] == {
        "event-tracker-provisioner:dataset-group-arn": dataset_group_arn(name),
        "event-tracker-provisioner:event-tracker-arn": tracker["eventTrackerArn"],
    }
    assert tracker["eventTrackerArn"] in parameter["Description"]
    assert dataset_group_arn(name) in parameter["Description"]


def assert_failed(execution: Execution, error: str, cause: str) -> None:
    assert execution.status == "FAILED"
    assert execution.error == error
    assert re.search(cause, execution.cause or ""), execution.cause


# 1 --------------------------------------------------------------------------------------------
def test_waits_for_the_dataset_group_then_the_tracker(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group(NAME, Timing(pending=3, in_progress=3))
    # Longer than a first poll interval and the steps around it, even on a loaded machine: checked twice at least.
    emulator.time_tracker(NAME, Timing(pending=5, in_progress=5))
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert_healthy(execution)
    assert_provisioned(stack, emulator, execution)
    assert execution.output["adopted"] is False
    states = execution.states_entered()
    # A tracker just created is not checked at once: the first check comes after PollIntervalSeconds.
    created = states.index("CreateOrAdoptTracker")
    assert states[created - 1] == "IsDatasetGroupActive"  # a person made it, so no grace period
    assert states[created + 1 : created + 4] == ["CreatedOrAdopted", "WaitForEventTracker", "CheckEventTracker"]
    assert states.count("CreateOrAdoptTracker") == 1
    # Each waited at least once (how often depends on the machine's load: a step's own time is not scaled).
    assert states.count("CheckDatasetGroup") >= 2 and "WaitForDatasetGroup" in states
    assert states.count("CheckEventTracker") >= 2
    assert states[-4:] == ["CheckEventTracker", "IsTrackingIdStored", "NotifyProvisioned", "Provisioned"]
    # Stored once, by the last check: every earlier one answered "wait".
    checks = [i for i, state in enumerate(states) if state == "CheckEventTracker"]
    assert all(states[i + 2] == "WaitForEventTracker" for i in checks[:-1])
    assert stack.parameter(PARAMETER)["Version"] == 1
    # The polling's promise: stored at most MaxPollIntervalSeconds (FAST: 2 s) after ACTIVE, plus the steps' time.
    assert execution.output["lag"]["provisioningLagSeconds"] <= FAST["MaxPollIntervalSeconds"] + 1
    assert execution.output["lag"]["timeToTrackingIdFrom"] == "eventTime"
    [notification] = stack.notifications()
    assert notification["detail-type"] == "Event Tracker Provisioned"
    assert notification["detail"]["parameterName"] == PARAMETER
    assert execution.output["trackingId"] not in str(notification)


def test_one_poll_adds_the_history_events_the_quota_guard_counts(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    from common.polling import EVENTS_PER_POLL

    # Long enough on the engine's clock (1.6 s each) for several polls, even when the steps are slow under load.
    emulator.time_dataset_group(NAME, Timing(pending=4, in_progress=4))
    emulator.time_tracker(NAME, Timing(pending=4, in_progress=4))
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert_healthy(execution)
    for wait in ("WaitForDatasetGroup", "WaitForEventTracker"):
        exits = [
            index
            for index, e in enumerate(execution.history)
            if e["type"] == "WaitStateExited" and e["stateExitedEventDetails"]["name"] == wait
        ]
        assert len(exits) >= 2, wait
        assert {later - earlier for earlier, later in itertools.pairwise(exits)} == {EVENTS_PER_POLL}, wait


# 2 --------------------------------------------------------------------------------------------
def test_adopts_an_existing_active_tracker(stack: LocalEngine, emulator: PersonalizeEmulator, personalize) -> None:
    arn = stack.create_dataset_group(NAME)
    by_hand = personalize.create_event_tracker(name="made-by-hand", datasetGroupArn=arn)

    execution = stack.run(event("create-dataset-group.json"))

    assert_healthy(execution)
    assert_provisioned(stack, emulator, execution, adopted=True)
    assert execution.output["eventTrackerArn"] == by_hand["eventTrackerArn"]
    assert emulator.calls.get("CreateEventTracker", 0) == 1  # only the one made by hand


# 3 --------------------------------------------------------------------------------------------
def test_the_same_event_twice_gives_one_tracker(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.create_dataset_group(NAME)
    first = stack.run(event("create-dataset-group.json"))
    second = stack.run(event("create-dataset-group.json"))

    assert_healthy(first)
    assert_provisioned(stack, emulator, first, adopted=False)
    assert_healthy(second)
    assert_provisioned(stack, emulator, second, adopted=True)
    assert first.output["trackingId"] == second.output["trackingId"]


def test_two_executions_at_once_give_one_tracker(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group(NAME, Timing(pending=1))
    stack.create_dataset_group(NAME)
    arns = [stack.start(event("create-dataset-group.json")), stack.start(event("direct-input.json"))]
    first, second = (stack.wait(arn) for arn in arns)

    for execution in (first, second):
        assert execution.status == "SUCCEEDED", execution.cause
        assert_provisioned(stack, emulator, execution, adopted=None)
    assert sorted([first.output["adopted"], second.output["adopted"]]) == [False, True]
    assert first.output["trackingId"] == second.output["trackingId"]


# 4 --------------------------------------------------------------------------------------------
def test_a_failed_tracker_fails_with_event_tracker_failed(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_tracker(NAME, Timing(pending=1, fails_with="internal error"))
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert_failed(execution, "EventTrackerFailed", r"event-tracker/\w+ is CREATE FAILED")
    assert stack.parameter(PARAMETER) is None
    assert len(emulator.trackers_of(NAME)) == 1
    [notification] = stack.notifications()
    assert notification["detail-type"] == "Event Tracker Provisioning Failed"
    assert notification["detail"]["error"] == "EventTrackerFailed"
    assert notification["detail"]["datasetGroupArn"] == dataset_group_arn(NAME)
    assert notification["detail"]["eventTrackerArn"] == emulator.trackers_of(NAME)[0]["eventTrackerArn"]


# 5 --------------------------------------------------------------------------------------------
def test_a_failed_dataset_group_fails_with_its_reason(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group(NAME, Timing(pending=1, fails_with="KMS key is not usable"))
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert_failed(execution, "DatasetGroupFailed", "CREATE FAILED: KMS key is not usable")
    assert emulator.trackers_of(NAME) == []
    assert stack.parameter(PARAMETER) is None


# 6 --------------------------------------------------------------------------------------------
def test_a_dataset_group_deleted_before_its_tracker_fails_not_found(
    stack: LocalEngine, emulator: PersonalizeEmulator, personalize
) -> None:
    emulator.time_dataset_group(NAME, Timing(pending=3))
    arn = stack.create_dataset_group(NAME)
    execution_arn = stack.start(event("create-dataset-group.json"))
    time.sleep(0.5)
    personalize.delete_dataset_group(datasetGroupArn=arn)

    execution = stack.wait(execution_arn)

    assert_failed(execution, "DatasetGroupNotFound", f"Dataset group {arn} does not exist")
    assert emulator.trackers_of(NAME) == []


def test_a_dataset_group_that_never_existed_fails_not_found(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    execution = stack.run(event("direct-input.json"))

    assert_failed(execution, "DatasetGroupNotFound", "does not exist")
    assert emulator.calls.get("CreateEventTracker", 0) == 0


# 7 --------------------------------------------------------------------------------------------
def test_a_tracker_deleted_while_polled_fails(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_tracker(NAME, Timing(pending=5, deleted_after=1.5, deleting=1))
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert_failed(execution, "EventTrackerFailed", r"being deleted|disappeared")
    assert stack.parameter(PARAMETER) is None


# 8 --------------------------------------------------------------------------------------------
def test_limit_exceeded_bursts_that_clear_are_waited_out_with_no_failed_task(
    stack: LocalEngine, emulator: PersonalizeEmulator, no_client_backoff: None
) -> None:
    # More than botocore's 3 attempts: each throttled step answers "wait", and the next try succeeds.
    inject(Fault("personalize", "CreateEventTracker", "LimitExceededException", times=4), emulator=emulator)
    inject(Fault("personalize", "DescribeEventTracker", "LimitExceededException", times=4), emulator=emulator)
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert_provisioned(stack, emulator, execution)
    assert emulator.calls["CreateEventTracker"] == 5
    assert execution.failed_tasks == [] and execution.retries == 0
    states = execution.states_entered()
    assert "WaitToCreateTracker" in states
    assert states.count("CreateOrAdoptTracker") == 2


@pytest.mark.slow  # a deadline in real time, by design: `make test-slow`, which CI runs
def test_throttling_of_every_call_ends_at_the_deadline_as_limit_exceeded(
    make_stack, emulator: PersonalizeEmulator
) -> None:
    timeout, cap = 8, 2
    stack = make_stack({"time_scale": 1.0}, ProvisioningTimeoutSeconds=timeout, MaxPollIntervalSeconds=cap)  # timing
    stack.create_dataset_group(NAME)
    for operation in ("DescribeDatasetGroup", "ListTagsForResource", "ListEventTrackers", "CreateEventTracker",
                      "DescribeEventTracker"):  # fmt: skip
        inject(Fault("personalize", operation, per_second=0), emulator=emulator)

    execution = stack.run(event("create-dataset-group.json"))

    assert_failed(execution, "LimitExceeded", "still throttling after ProvisioningTimeoutSeconds")
    # The deadline plus at most one wait (both on the engine's clock), and the last check's own client retries
    # (botocore: 3 attempts, in real time).
    assert execution.seconds <= (timeout + cap) * stack.time_scale + 4, execution.seconds
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in execution.failed_tasks] == ["LimitExceeded"]
    assert emulator.trackers_of(NAME) == []
    assert stack.parameter(PARAMETER) is None


@pytest.mark.slow  # a deadline in real time, by design: `make test-slow`, which CI runs
def test_throttled_tracker_creation_ends_at_the_deadline(
    make_stack, emulator: PersonalizeEmulator, no_client_backoff: None
) -> None:
    """The workflow's own waits (botocore's backoff, up to 3 s an invocation, would leave room for one under load)."""
    stack = make_stack({"time_scale": 1.0}, ProvisioningTimeoutSeconds=6, MaxPollIntervalSeconds=2)  # timing
    inject(Fault("personalize", "CreateEventTracker", per_second=0), emulator=emulator)
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert_failed(execution, "LimitExceeded", "CreateOrAdoptTracker .* still throttling")
    assert execution.seconds <= (6 + 2) * stack.time_scale + 4, execution.seconds
    assert execution.states_entered().count("WaitToCreateTracker") >= 2


# 9 --------------------------------------------------------------------------------------------
def test_ssm_throttling_that_clears(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    # TooManyUpdates is not among botocore's retried codes: each one fails the store, and the state machine retries.
    inject(Fault("ssm", "PutParameter", "TooManyUpdates", times=2), stack)
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert_provisioned(stack, emulator, execution)
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in execution.failed_tasks] == ["TooManyUpdates"] * 2


# 10 -------------------------------------------------------------------------------------------
@pytest.mark.slow  # a deadline in real time, by design: `make test-slow`, which CI runs
def test_a_tracker_that_never_becomes_active_times_out(make_stack, emulator: PersonalizeEmulator) -> None:
    stack = make_stack(  # a test of the deadline's timing: in real time
        {"time_scale": 1.0}, ProvisioningTimeoutSeconds=6, PollIntervalSeconds=1, MaxPollIntervalSeconds=2
    )
    emulator.time_tracker(NAME, Timing(pending=3600))
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group.json"))

    # On the engine's clock (TIME_SCALE): the deadline, and one poll interval, are that fraction of 6 s and 2 s.
    deadline, poll = 6 * stack.time_scale, 2 * stack.time_scale
    cause = rf"still CREATE PENDING after ProvisioningTimeoutSeconds \({deadline:g} s\)"
    assert_failed(execution, "ProvisioningTimedOut", cause)
    assert deadline <= execution.seconds <= deadline + poll + 1  # within one poll of it (1 s: the steps' own time)
    assert stack.parameter(PARAMETER) is None


# 11 -------------------------------------------------------------------------------------------
def test_long_names_give_valid_distinct_tracker_names(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    longest = "a" * 63
    prefix = "p" * 60
    names = [longest, prefix + "one", prefix + "two"]
    for name in names:
        stack.create_dataset_group(name)

    executions = [stack.wait(stack.start(create_event(name))) for name in names]

    tracker_names = set()
    for name, execution in zip(names, executions, strict=True):
        assert_healthy(execution)
        assert_provisioned(stack, emulator, execution, name)
        [tracker] = emulator.trackers_of(name)
        assert len(tracker["name"]) <= 63
        assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9\-_]*", tracker["name"])
        tracker_names.add(tracker["name"])
    assert len(tracker_names) == 3


# 12 -------------------------------------------------------------------------------------------
def _failed_call() -> dict:
    sample = event("create-dataset-group.json")
    sample["detail"]["errorCode"] = "LimitExceededException"
    sample["detail"]["errorMessage"] = "Quota reached"
    sample["detail"]["responseElements"] = None
    return sample


def _foreign_source() -> dict:
    sample = event("create-dataset-group.json")
    sample["source"] = "aws.s3"
    return sample


def _no_name_no_arn() -> dict:
    sample = create_event(NAME, with_arn=False)
    sample["detail"]["requestParameters"] = {}
    return sample


INVALID = {
    "empty object": ({}, "Not a CreateDatasetGroup event"),
    "wrong source": (_foreign_source(), r"source: Input should be 'aws.personalize'"),
    "errorCode present": (_failed_call(), r"failed \(LimitExceededException\)"),
    "missing name and ARN": (_no_name_no_arn(), "neither responseElements.datasetGroupArn nor requestParameters.name"),
    "ARN of another service": ({"datasetGroupArn": "arn:aws:s3:::my-bucket"}, "Not a Personalize dataset group ARN"),
    "ARN of another account": (
        {"datasetGroupArn": "arn:aws:personalize:us-east-1:999999999999:dataset-group/x"},
        "provisions 123456789012/us-east-1 only",
    ),
    "extra keys in a direct input": ({"datasetGroupArn": dataset_group_arn(NAME), "x": 1}, "Extra inputs"),
    "a list": ([1, 2], "got list"),
    "a string": ("CreateDatasetGroup", "got str"),
    "a number": (42, "got int"),
    "null": (None, "got NoneType"),
    "ARN is a number": ({"datasetGroupArn": 7}, "datasetGroupArn: Input should be a valid string"),
}


@pytest.mark.parametrize("payload, cause", INVALID.values(), ids=INVALID.keys())
def test_invalid_input_fails_with_invalid_event_and_creates_nothing(
    stack: LocalEngine, emulator: PersonalizeEmulator, payload, cause: str
) -> None:
    stack.create_dataset_group(NAME)

    execution = stack.run(payload)

    assert_failed(execution, "InvalidEvent", cause)
    assert emulator.calls.get("CreateEventTracker", 0) == 0
    assert stack.parameters() == []
    assert execution.states_entered()[:2] == ["ParseInput", "NoDatasetGroup"]


def test_the_event_without_response_elements_uses_the_request_name(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    stack.create_dataset_group(NAME)

    execution = stack.run(create_event(NAME, with_arn=False))

    assert_healthy(execution)
    assert_provisioned(stack, emulator, execution)


def test_runs_are_independent_of_each_other(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    """Concurrent executions for different dataset groups each get their own tracker and parameter."""
    names = [f"group-{index}" for index in range(4)]
    for name in names:
        stack.create_dataset_group(name)
    results: dict[str, Execution] = {}

    def run(name: str) -> None:
        results[name] = stack.run(create_event(name))

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for name in names:
        assert_healthy(results[name])
        assert_provisioned(stack, emulator, results[name], name)
